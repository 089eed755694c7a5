"""The network calls are coroutines. A sync cancelled mid-way, by cancelling
its asyncio task (which drops the Rust future) or through a `CancelToken`,
keeps every step it finished, and the next sync resumes there: nothing is
uploaded or pushed twice and a colleague's phone receives everything."""

import asyncio
import threading

import pytest

import kiemtra_mobile as k
from inspectorate import photo_jpeg, serve


class CancelAtPhoto(k.SyncListener):
    """Calls `cancel` once `at` photo blobs are uploaded, then holds the sync
    thread until the test says the cancellation has arrived: the sync stops
    exactly there, not a few steps later, on every run."""

    def __init__(self, at, cancel):
        self.at = at
        self.cancel = cancel
        self.fired = False
        self.arrived = threading.Event()
        self.timed_out = False

    def on_progress(self, progress):
        if progress.phase == k.SyncPhase.UPLOADING_PHOTOS and progress.photos_done == self.at and not self.fired:
            self.fired = True
            self.cancel()
            # Never raise in a callback: record and let the test fail.
            self.timed_out = not self.arrived.wait(30)


@pytest.fixture
def world(tmp_path):
    with serve(tmp_path, ["cancel"]) as s:
        yield s["url"], s["worlds"]["cancel"]


async def _scenario(url, w, tmp_path):
    iid = w["inspection"]
    lan = k.KiemtraStore.open(str(tmp_path / "lan"))
    await lan.enrol(url, w["codes"]["lan"], "Điện thoại của Lan", None)
    await lan.sync()
    lan.start_inspection(iid)
    lan.set_answer(iid, "A1", k.AnswerValue.COUNT(420), None)
    for i in range(3):
        lan.add_photo(iid, "F2", photo_jpeg((30 + 60 * i, 120, 200)), f"Ảnh {i + 1}")
    pending = len(lan.pending_operations())
    assert pending >= 4

    # 1. The awaiting task is cancelled after the first of six blobs.
    loop = asyncio.get_running_loop()
    task = None
    listener = CancelAtPhoto(1, lambda: loop.call_soon_threadsafe(task.cancel))
    task = asyncio.ensure_future(lan.sync(listener))
    with pytest.raises(asyncio.CancelledError):
        await task
    # The Rust future is freed before CancelledError reaches us: let the sync thread go on to its next step.
    listener.arrived.set()
    assert not listener.timed_out
    # Photos go before the operations that refer to them: nothing is pushed yet.
    assert len(lan.pending_operations()) == pending

    # 2. A token cancels the next sync after one more blob (Swift's way).
    token = k.CancelToken()
    listener = CancelAtPhoto(1, token.cancel)
    listener.arrived.set()  # the token is set before cancel() returns
    with pytest.raises(k.KiemtraError.Cancelled) as e:
        await lan.sync(listener, token)
    assert "cancelled" in str(e.value)

    # 3. The next sync resumes: the four remaining blobs go up, then every operation.
    report = await lan.sync()
    assert (report.pushed, report.photos_uploaded, report.refused) == (pending, 4, 0)

    # A colleague receives every answer and every photo, whole.
    hung = k.KiemtraStore.open(str(tmp_path / "hung"))
    await hung.enrol(url, w["codes"]["hung"], "Điện thoại của Hùng", None)
    await hung.sync()
    assert len(hung.photos(iid)) == 3
    a1 = next(line for line in hung.checklist(iid) if line.item_code == "A1")
    assert a1.answers[0].value == k.AnswerValue.COUNT(420)
    cancelled = k.CancelToken()
    cancelled.cancel()
    with pytest.raises(k.KiemtraError.Cancelled):
        await hung.download_photos(iid, False, cancelled)
    assert await hung.download_photos(iid, False) == 6


def test_cancelled_sync_keeps_what_it_did_and_the_next_resumes(world, tmp_path):
    url, w = world
    asyncio.run(_scenario(url, w, tmp_path))


def test_network_calls_fail_with_typed_errors(world, tmp_path):
    url, w = world

    async def scenario():
        store = k.KiemtraStore.open(str(tmp_path / "x"))
        with pytest.raises(k.KiemtraError.InvalidInput, match="not enrolled"):
            await store.sync()
        with pytest.raises(k.KiemtraError.Auth):
            await store.enrol(url, "KHONG-CO-MA-NAY", "x", None)
        # Nothing listens on port 9 of loopback.
        with pytest.raises(k.KiemtraError.Network):
            await store.enrol("http://127.0.0.1:9", w["codes"]["lan"], "x", None)

    asyncio.run(scenario())
