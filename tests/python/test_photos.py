"""Photos through the bindings: real JPEG and PNG files in, upright
normalised images and thumbnails out, hashes that match the bytes."""

import hashlib
import io

import pytest
from PIL import Image

import kiemtra_mobile as k
from test_inspection import setup_inspection


def camera_jpeg(width, height, orientation=None):
    img = Image.new("RGB", (width, height), (200, 200, 200))
    # A red block in the top-left corner as the sensor saw it.
    img.paste((255, 0, 0), (0, 0, width // 4, height // 4))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    img.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def started(tmp_path):
    store = k.KiemtraStore.open(str(tmp_path / "store"))
    _, inspection = setup_inspection(store)
    store.start_inspection(inspection.id)
    return store, inspection


def test_photos_are_normalised_and_read_back(started):
    store, inspection = started
    original = camera_jpeg(3000, 2000)
    photo = store.add_photo(inspection.id, "D4", original, "Máy dập thiếu che chắn")
    assert (photo.image_width, photo.image_height) == (1600, 1067)
    assert max(photo.thumbnail_width, photo.thumbnail_height) == 320
    assert photo.original_sha256 == hashlib.sha256(original).hexdigest()
    assert photo.original_size == len(original)

    image = store.blob(photo.image_sha256)
    assert hashlib.sha256(image).hexdigest() == photo.image_sha256
    decoded = Image.open(io.BytesIO(image))
    assert decoded.format == "JPEG" and decoded.size == (1600, 1067)
    assert not decoded.getexif()  # metadata stripped
    thumb = Image.open(io.BytesIO(store.blob(photo.thumbnail_sha256)))
    thumb.load()
    assert thumb.size == (photo.thumbnail_width, photo.thumbnail_height)

    png = io.BytesIO()
    Image.new("RGBA", (800, 600), (0, 0, 255, 128)).save(png, "PNG")
    store.add_photo(inspection.id, None, png.getvalue(), None)
    photos = store.photos(inspection.id)
    assert sorted(p.item_code or "" for p in photos) == ["", "D4"]


def test_orientation_is_applied(started):
    store, inspection = started
    # Orientation 6: the camera was turned; the upright image is portrait and
    # the sensor's top-left corner ends up top-right.
    photo = store.add_photo(inspection.id, None, camera_jpeg(400, 300, orientation=6), None)
    assert (photo.image_width, photo.image_height) == (300, 400)
    img = Image.open(io.BytesIO(store.blob(photo.image_sha256))).convert("RGB")
    r, g, b = img.getpixel((280, 20))
    assert r > 200 and g < 80 and b < 80
    r, g, b = img.getpixel((20, 20))
    assert r < 230 and abs(r - g) < 30


def test_bad_photos_are_refused_and_change_nothing(started):
    store, inspection = started
    before = len(store.pending_operations())
    for bad in [b"", b"plain text, not a photo", camera_jpeg(100, 100)[:200]]:
        with pytest.raises(k.KiemtraError.Photo):
            store.add_photo(inspection.id, None, bad, None)
    assert len(store.pending_operations()) == before
    assert store.photos(inspection.id) == []
