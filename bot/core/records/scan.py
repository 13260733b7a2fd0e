"""Finding record files: expanding the files and folders given into a sorted list of
record files, with unreadable ones reported as errors."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.core.records.model import RecordError

RECORD_SUFFIXES = (".md", ".markdown", ".yml", ".yaml")
NOT_REGULAR = "not a regular file (a pipe, socket or device); skipped"


@dataclass(slots=True)
class Scan:
    """What `scan_paths` found: record files to load, and paths it could not use."""

    files: list[str]
    errors: list[RecordError]


def scan_paths(paths: Iterable[str | os.PathLike[str]]) -> Scan:
    """Expand files and folders (recursively) into record files, sorted.

    Symlink loops, unreadable folders and missing paths become errors, not
    exceptions. A file given by name is taken whatever its suffix.
    """
    files: list[str] = []
    errors: list[RecordError] = []
    seen_dirs: set[tuple[int, int]] = set()
    for raw in paths:
        p = Path(raw)
        try:
            if p.is_dir():
                files.extend(_walk(p, seen_dirs, errors))
            elif p.is_file():
                files.append(str(p))
            elif p.is_symlink():
                errors.append(RecordError(p, "broken or looping symbolic link"))
            elif p.exists():
                errors.append(RecordError(p, NOT_REGULAR))
            else:
                errors.append(RecordError(p, "no such file or folder"))
        except OSError as exc:
            errors.append(RecordError(p, f"cannot read: {exc.strerror or exc}"))
    # One file reached twice (two arguments, or a link) is loaded once.
    unique: dict[str, str] = {}
    for f in files:
        # Folders are deduplicated by inode in _walk; only a file link needs resolving.
        try:
            key = os.path.realpath(f) if os.path.islink(f) else os.path.abspath(f)
        except OSError:
            key = f
        unique.setdefault(key, f)
    return Scan(sorted(unique.values()), errors)


def _walk(root: Path, seen: set[tuple[int, int]], errors: list[RecordError]) -> Iterator[str]:
    try:
        st = root.stat()
    except OSError as exc:
        errors.append(RecordError(root, f"cannot read: {exc.strerror or exc}"))
        return
    key = (st.st_dev, st.st_ino)
    if key in seen:
        errors.append(RecordError(root, "folder reached twice (symbolic link loop)"))
        return
    seen.add(key)
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        errors.append(RecordError(root, f"cannot list folder: {exc.strerror or exc}"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir():
                yield from _walk(Path(entry.path), seen, errors)
            elif entry.is_file():
                if entry.name.lower().endswith(RECORD_SUFFIXES):
                    yield entry.path
            elif entry.is_symlink():
                errors.append(RecordError(entry.path, "broken or looping symbolic link"))
            elif entry.name.lower().endswith(RECORD_SUFFIXES):
                # Named like a record but a pipe, socket or device: opening it could
                # block the load forever, so it is reported, never read.
                errors.append(RecordError(entry.path, NOT_REGULAR))
        except OSError as exc:
            errors.append(RecordError(entry.path, f"cannot read: {exc.strerror or exc}"))
