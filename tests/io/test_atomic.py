from pathlib import Path

from framepred.io.atomic import atomic_path, write_text_atomic


def test_atomic_path_keeps_the_suffix_and_is_unique_per_call(tmp_path: Path) -> None:
    # Two writers of one file (two runs into one tree both writing manifest.json) must not share a
    # temporary file, or one renames the other's half-written bytes into place.
    target = tmp_path / "manifest.json"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second
        assert first.suffix == second.suffix == ".json" and first.name.startswith(".")
        first.write_text("first")
        second.write_text("second")
    assert target.read_text() == "first"  # the last to finish wins, with its whole content
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    try:
        with atomic_path(target) as temp:
            temp.write_text("half")
            raise RuntimeError("killed")
    except RuntimeError:
        pass
    assert list(tmp_path.iterdir()) == []
    write_text_atomic(target, "whole")
    assert target.read_text() == "whole"
