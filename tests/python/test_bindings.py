"""The generated module matches the library beside it."""

import kiemtra_mobile as k


def test_api_checksums_match_the_library():
    # uniffi leaves this check commented out at import; a stale .py beside a
    # newer library would otherwise mis-call silently.
    k._uniffi_check_api_checksums(k._UniffiLib)


def test_device_ids_are_stable_per_store(tmp_path):
    a = k.KiemtraStore.open(str(tmp_path / "a"))
    b = k.KiemtraStore.open(str(tmp_path / "b"))
    assert a.device_id() != b.device_id()
    first = a.device_id()
    del a
    assert k.KiemtraStore.open(str(tmp_path / "a")).device_id() == first
