import pytest
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.data.resize import parse_size
from framepred.errors import UsageError


def test_parse_size_accepts_width_by_height() -> None:
    assert parse_size("832x256") == (832, 256)
    assert parse_size(None) is None


@pytest.mark.parametrize("text", ["0x0", "abc", "10x", "99999x99999"])
def test_parse_size_refuses_bad_and_absurd_sizes(text: str) -> None:
    with pytest.raises(UsageError, match="--size"):
        parse_size(text)


def test_huge_size_is_a_one_line_error_not_an_allocation_failure(tmp_path) -> None:
    # It used to reach cv2.resize and die with a traceback asking for 480 GB.
    result = CliRunner().invoke(
        app, ["prepare", "synthetic", "-o", str(tmp_path / "o"), "--size", "100000x100000"]
    )
    assert result.exit_code == 2 and "--size" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()
