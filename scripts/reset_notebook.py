"""Put a lesson or exercise sheet back to the course's version without losing the learner's work.

    python scripts/reset_notebook.py exercises/05_rmsprop.ipynb      (or: make reset NB=...)

The learner's file is first copied to ``backups/<name>-<YYYYmmdd-HHMMSS>.ipynb`` beside it (a new
name every time, never over an existing file), then replaced by the version in the last commit
(``git show HEAD:<path>``). A file that already equals the course's version is left alone.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESETTABLE = ("notebooks", "exercises")


class ResetError(Exception):
    """Why a reset was refused; nothing was changed."""


def course_version(path: Path) -> bytes:
    relative = path.resolve().relative_to(REPO).as_posix()
    try:
        return subprocess.run(["git", "-C", str(REPO), "show", f"HEAD:{relative}"],
                              check=True, capture_output=True).stdout
    except FileNotFoundError as exc:
        raise ResetError("git is not installed, so the course's version cannot be read.") from exc
    except subprocess.CalledProcessError as exc:
        raise ResetError(f"{relative} is not part of the course (git: "
                         f"{exc.stderr.decode(errors='replace').strip()}).") from exc


def checked_path(text: str) -> Path:
    path = Path(text)
    if path.suffix != ".ipynb":
        raise ResetError(f"NB must be a notebook (.ipynb), got {text!r}.")
    try:
        folder = path.resolve().relative_to(REPO).parts[0]
    except (ValueError, IndexError):
        raise ResetError(f"NB must be inside the course ({REPO}), got {text!r}.") from None
    if folder not in RESETTABLE:
        raise ResetError(f"NB must be in {' or '.join(f + '/' for f in RESETTABLE)}, got {text!r}.")
    return path


def backup_path(path: Path, now: datetime) -> Path:
    folder = path.parent / "backups"
    stem = f"{path.stem}-{now:%Y%m%d-%H%M%S}"
    candidate, n = folder / f"{stem}.ipynb", 1
    while candidate.exists():  # two resets in one second: never overwrite the first copy
        candidate, n = folder / f"{stem}-{n}.ipynb", n + 1
    return candidate


def reset(text: str, now: datetime | None = None) -> str:
    path = checked_path(text)
    original = course_version(path)
    if not path.exists():
        path.write_bytes(original)
        return f"{text} was missing; restored the course's version."
    if path.read_bytes() == original:
        return f"{text} already is the course's version; nothing to do."
    backup = backup_path(path, now or datetime.now())
    backup.parent.mkdir(exist_ok=True)
    shutil.copy2(path, backup)
    if backup.read_bytes() != path.read_bytes():
        raise ResetError(f"the copy {backup} does not match {text}; nothing was reset.")
    path.write_bytes(original)
    kept = backup.resolve().relative_to(REPO.resolve())
    return f"Your version is kept as {kept}; {text} is the course's again."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", help="e.g. exercises/05_rmsprop.ipynb")
    args = parser.parse_args(argv)
    try:
        print(reset(args.notebook))
    except ResetError as exc:
        print(f"reset refused: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
