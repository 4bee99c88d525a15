"""Which files of a folder are articles (kept apart from the loader: no YAML needed)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["discover", "is_content_file"]


def is_content_file(name: str) -> bool:
    """True for `*.md` files that are not hidden, editor backups, locks or temp files."""
    if not name.endswith(".md") or name.startswith((".", "#", "~")):
        return False
    return not name.endswith("~")


def discover(root: Path) -> Iterator[Path]:
    """Yield every content file under `root`, skipping hidden folders and symlink loops."""
    seen_dirs: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        try:
            info = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        ident = (info.st_dev, info.st_ino)
        if ident in seen_dirs:
            dirnames[:] = []
            continue
        seen_dirs.add(ident)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
        for name in sorted(filenames):
            if is_content_file(name):
                yield Path(dirpath) / name
