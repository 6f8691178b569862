"""Reading a solution folder from disk into ``{relative path: text}`` for the loader.

The one place of the functions package that touches the filesystem; the CLI uses it. The
folder is untrusted: a symlink may not lead out of it, only regular files are read, each
file and the number of files are bounded, and every file must be UTF-8 text. Hidden
entries (``.git``, ``.vscode``, ``.DS_Store`` …) are skipped.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from authgate.functions.validation import Findings, invalid_solution

MAX_FILES = 1_000
MAX_FILE_BYTES = 1_048_576
FOLDER = "(folder)"


def read_solution_folder(
    path: str | os.PathLike[str],
    *,
    max_files: int = MAX_FILES,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> dict[str, str]:
    """Every non-hidden file under ``path`` as ``{relative posix path: text}``.

    Raises :class:`~authgate.functions.errors.InvalidSolution` listing what cannot be read.
    """
    findings = Findings()
    root = Path(path)
    if not root.is_dir():
        findings.problem(FOLDER, None, None, f"'{root}' is not a folder")
        raise invalid_solution(findings.problems)
    real_root = root.resolve(strict=True)
    files: dict[str, str] = {}
    for relative in _walk(root, real_root, findings):
        if len(files) >= max_files:
            findings.problem(FOLDER, None, None, f"the folder has more than {max_files} files")
            break
        text = _read(root / relative, relative, max_file_bytes, findings)
        if text is not None:
            files[relative] = text
    if findings.problems:
        raise invalid_solution(findings.problems)
    return files


def _walk(root: Path, real_root: Path, findings: Findings) -> list[str]:
    """Relative paths of the regular files to read, symlinks inside the folder included."""
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(directory)
        for name in list(dirnames):
            entry = here / name
            relative = entry.relative_to(root).as_posix()
            if name.startswith("."):
                dirnames.remove(name)
            elif entry.is_symlink():
                # Not followed (a link can loop); one that leaves the folder is refused.
                dirnames.remove(name)
                if not _inside(entry, real_root):
                    findings.problem(relative, None, None, "a symlink that leads out of the folder")
        for name in sorted(filenames):
            entry = here / name
            relative = entry.relative_to(root).as_posix()
            if name.startswith("."):
                continue
            if entry.is_symlink() and not _inside(entry, real_root):
                findings.problem(relative, None, None, "a symlink that leads out of the folder")
                continue
            found.append(relative)
    return sorted(found)


def _inside(entry: Path, real_root: Path) -> bool:
    try:
        target = entry.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return target == real_root or real_root in target.parents


def _read(path: Path, relative: str, max_bytes: int, findings: Findings) -> str | None:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            findings.problem(relative, None, None, "not a regular file")
            return None
        if info.st_size > max_bytes:
            findings.problem(relative, None, None, f"the file is larger than {max_bytes} bytes")
            return None
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may grow after the check
    except OSError as error:
        findings.problem(relative, None, None, f"cannot be read ({error.strerror or 'error'})")
        return None
    if len(data) > max_bytes:
        findings.problem(relative, None, None, f"the file is larger than {max_bytes} bytes")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        findings.problem(
            relative, None, None, f"not UTF-8 text (invalid byte at offset {error.start})"
        )
        return None
