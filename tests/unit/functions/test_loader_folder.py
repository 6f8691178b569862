"""Reading a solution folder from disk: bounded, UTF-8, and never outside the folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from authgate.functions.errors import InvalidSolution
from authgate.functions.folder import read_solution_folder


def _problems(path: Path, **bounds: int) -> list[dict[str, object]]:
    with pytest.raises(InvalidSolution) as caught:
        read_solution_folder(path, **bounds)
    problems: list[dict[str, object]] = caught.value.details["problems"]
    return problems


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "solution"
    (root / "functions" / "sub").mkdir(parents=True)
    (root / "solution.yaml").write_text("name: demo\n", encoding="utf-8")
    (root / "functions" / "sub" / "list.jigx").write_text("provider: x\n", encoding="utf-8")
    return root


def test_reads_every_file_with_relative_posix_paths(folder: Path) -> None:
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text("[core]\n", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    files = read_solution_folder(folder)
    assert files == {"solution.yaml": "name: demo\n", "functions/sub/list.jigx": "provider: x\n"}


def test_a_byte_order_mark_is_not_part_of_the_text(folder: Path) -> None:
    (folder / "solution.yaml").write_bytes(b"\xef\xbb\xbfname: demo\n")
    assert read_solution_folder(folder)["solution.yaml"] == "name: demo\n"


def test_non_utf8_file_is_refused(folder: Path) -> None:
    (folder / "functions" / "latin.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    (problem,) = _problems(folder)
    assert problem["file"] == "functions/latin.yaml"
    assert "UTF-8" in str(problem["problem"])


def test_file_size_is_bounded(folder: Path) -> None:
    (folder / "functions" / "big.yaml").write_text("a" * 101, encoding="utf-8")
    (problem,) = _problems(folder, max_file_bytes=100)
    assert problem["file"] == "functions/big.yaml"
    assert "larger than 100 bytes" in str(problem["problem"])


def test_file_count_is_bounded(folder: Path) -> None:
    for index in range(5):
        (folder / "functions" / f"f{index}.yaml").write_text("a: 1\n", encoding="utf-8")
    (problem,) = _problems(folder, max_files=4)
    assert "more than 4 files" in str(problem["problem"])


def test_symlinked_file_leaving_the_folder_is_refused(folder: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("CANARY\n", encoding="utf-8")
    (folder / "functions" / "leak.yaml").symlink_to(outside)
    (problem,) = _problems(folder)
    assert problem["file"] == "functions/leak.yaml"
    assert "leads out of the folder" in str(problem["problem"])


def test_symlinked_folder_leaving_the_folder_is_refused(folder: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.yaml").write_text("CANARY\n", encoding="utf-8")
    (folder / "functions" / "linked").symlink_to(outside, target_is_directory=True)
    (problem,) = _problems(folder)
    assert problem["file"] == "functions/linked"


def test_relative_symlink_escaping_with_dotdot_is_refused(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("CANARY\n", encoding="utf-8")
    (folder / "functions" / "up.yaml").symlink_to(Path("..") / ".." / "secret.txt")
    (problem,) = _problems(folder)
    assert problem["file"] == "functions/up.yaml"


def test_dangling_symlink_is_refused(folder: Path) -> None:
    (folder / "functions" / "gone.yaml").symlink_to(folder / "missing.yaml")
    (problem,) = _problems(folder)
    assert problem["file"] == "functions/gone.yaml"


def test_symlink_inside_the_folder_is_read(folder: Path) -> None:
    (folder / "functions" / "alias.jigx").symlink_to(folder / "functions" / "sub" / "list.jigx")
    assert read_solution_folder(folder)["functions/alias.jigx"] == "provider: x\n"


def test_a_fifo_is_not_read(folder: Path) -> None:
    os.mkfifo(folder / "functions" / "pipe.yaml")
    (problem,) = _problems(folder)
    assert "not a regular file" in str(problem["problem"])


def test_not_a_folder(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path / "missing")
    assert "is not a folder" in str(problem["problem"])
