from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from framepred.errors import DataError
from framepred.io.images import list_images, read_image, write_image
from framepred.io.paths import natural_key


def test_png_round_trip_is_exact(tmp_path: Path) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (17, 23, 3), dtype=np.uint8)
    write_image(tmp_path / "a.png", rgb)
    assert np.array_equal(read_image(tmp_path / "a.png"), rgb)


def test_jpeg_round_trip_is_close_and_rgb_order_kept(tmp_path: Path) -> None:
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[..., 0] = 200  # pure red must stay red, not turn blue
    write_image(tmp_path / "a.jpg", rgb)
    back = read_image(tmp_path / "a.jpg")
    assert back[..., 0].mean() > 190 and back[..., 2].mean() < 10


def test_gray_rgba_and_16bit_become_uint8_rgb(tmp_path: Path) -> None:
    gray = np.full((8, 9), 77, np.uint8)
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    assert read_image(tmp_path / "gray.png").shape == (8, 9, 3)
    bgra = np.zeros((8, 9, 4), np.uint8)
    bgra[..., 2] = 255  # red in OpenCV's BGRA order
    bgra[..., 3] = 128
    cv2.imwrite(str(tmp_path / "rgba.png"), bgra)
    rgba = read_image(tmp_path / "rgba.png")
    assert rgba.shape == (8, 9, 3) and rgba[0, 0, 0] == 255 and rgba[0, 0, 2] == 0
    deep = np.full((8, 9, 3), 65535, np.uint16)
    deep[..., 0] = 257 * 10
    cv2.imwrite(str(tmp_path / "deep.png"), deep)
    eight = read_image(tmp_path / "deep.png")
    assert eight.dtype == np.uint8 and eight[0, 0, 2] == 10 and eight[0, 0, 0] == 255


def test_exif_orientation_is_honoured(tmp_path: Path) -> None:
    wide = np.zeros((10, 30, 3), np.uint8)
    image = Image.fromarray(wide)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    image.save(tmp_path / "rotated.jpg", exif=exif)
    assert read_image(tmp_path / "rotated.jpg").shape[:2] == (30, 10)


@pytest.mark.parametrize("content", [b"", b"not an image at all"])
def test_unreadable_image_names_the_file(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    with pytest.raises(DataError, match="bad.png"):
        read_image(bad)


def test_missing_image_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nope.png"):
        read_image(tmp_path / "nope.png")


def test_write_into_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing"):
        write_image(tmp_path / "missing" / "a.png", np.zeros((4, 4, 3), np.uint8))


def test_write_rejects_wrong_arrays(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="uint8"):
        write_image(tmp_path / "a.png", np.zeros((4, 4), np.float32))
    assert list(tmp_path.iterdir()) == []


def test_natural_sort() -> None:
    names = ["frame10.png", "frame2.png", "frame1.png", "Frame3.png"]
    assert sorted(names, key=natural_key) == ["frame1.png", "frame2.png", "Frame3.png", "frame10.png"]


def test_truncated_png_is_our_one_error_without_opencv_warnings(tmp_path: Path, capfd) -> None:
    # OpenCV used to print "[ WARN:0@0.2] ... PNG input buffer is incomplete" before our error line.
    rgb = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    write_image(tmp_path / "whole.png", rgb)
    (tmp_path / "cut.png").write_bytes((tmp_path / "whole.png").read_bytes()[:2000])
    capfd.readouterr()
    with pytest.raises(DataError, match="cut.png: not a readable image"):
        read_image(tmp_path / "cut.png")
    assert capfd.readouterr().err == ""


def test_natural_sort_survives_superscript_digits() -> None:
    # "²" counts as a digit for str.isdigit() but not for int(): a folder "room1²" crashed the sort.
    assert sorted(["room1²", "room10", "room2"], key=natural_key) == ["room1²", "room2", "room10"]


def test_list_images_is_natural_and_skips_hidden_and_other_files(tmp_path: Path) -> None:
    for name in ["img10.png", "img2.jpg", ".hidden.png", "notes.txt", "img1.PNG"]:
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path)] == ["img1.PNG", "img2.jpg", "img10.png"]
