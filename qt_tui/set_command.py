"""`qt-tui set FILE KEY=VALUE ...`: change front matter keys from a script, minimally."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .cli_support import OneLineParser, UsageError, emit, run_guarded
from .model import yamlquote as yq
from .model.editing import (
    DELETE,
    ConflictError,
    EditError,
    apply_changes,
    save_atomic,
    unified_diff,
)
from .model.loading import MAX_FILE_BYTES, article_from_bytes
from .model.text import one_line

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

DESCRIPTION = """\
Change front matter keys of one article file, keeping every other byte as it was.

KEY is a dotted path into the front matter: title, seo.page_keywords, related_article3.title,
related_article4. Missing keys (and the mappings leading to them) are created. VALUE is taken
as a string unless --json is given.
"""

EPILOG = """\
examples:
  qt-tui set a.md title='What is pH?' --sync-title
  qt-tui set a.md seo.page_keywords='acids, bases' --dry-run
  qt-tui set a.md --json id=9001 related_article4='{"id": 9001, "title": "T", "url": "/x"}'
  qt-tui set a.md --delete related_article3

--sync-title: when title=... is given, article_title and question are set to the new
  title too, but only those that were equal to the old title (as the app's form does).

Without --dry-run the file is replaced atomically, and only if nobody changed it meanwhile;
one line is printed: "updated FILE: KEY, ..." or "no change: FILE".

exit status: 0 done (or nothing to change), 1 a value or key path cannot be written,
2 usage error, unreadable file, or the save failed (file changed on disk, cannot write).
"""

#: Keys that mirror the title when they were equal to it (see --sync-title).
TITLE_MIRRORS = ("article_title", "question")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `qt-tui set`."""
    parser = OneLineParser(
        prog="qt-tui set",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("file", metavar="FILE", help="the article (Markdown) file to change")
    parser.add_argument(
        "assignments", metavar="KEY=VALUE", nargs="*", help="a key path and its new value"
    )
    parser.add_argument(
        "--delete",
        metavar="KEY",
        action="append",
        default=[],
        help="remove KEY (repeatable); a missing key is not an error",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the unified diff and write nothing"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="parse every VALUE as JSON (numbers, true/false, null, objects); null sets null",
    )
    parser.add_argument(
        "--sync-title",
        action="store_true",
        help="with title=..., also set article_title and question that equalled the old title",
    )
    return parser


def _valid_path(key: str, raw: str) -> str:
    if not key or not all(seg.strip() for seg in key.split(".")):
        raise UsageError(f"invalid key path {key!r} in {raw!r}")
    return key


def _value(key: str, text: str, as_json: bool) -> object:
    if not as_json:
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"bad JSON for {key}: {exc.msg} (column {exc.colno})") from None


def parse_changes(
    assignments: Sequence[str], deletes: Sequence[str], as_json: bool
) -> dict[str, object]:
    """KEY=VALUE strings and keys to delete -> the changes mapping for apply_changes."""
    if not assignments and not deletes:
        raise UsageError("nothing to change: give at least one KEY=VALUE or --delete KEY")
    changes: dict[str, object] = {}
    for raw in assignments:
        key, sep, text = raw.partition("=")
        if not sep:
            raise UsageError(f"expected KEY=VALUE, got {raw!r}")
        key = _valid_path(key.strip(), raw)
        if key in changes:
            raise UsageError(f"{key} is given more than once")
        changes[key] = _value(key, text, as_json)
    for raw in deletes:
        key = _valid_path(raw.strip(), raw)
        if key in changes:
            raise UsageError(f"{key} is both set and deleted")
        changes[key] = DELETE
    return changes


def read_target(raw: str) -> tuple[Path, bytes]:
    """The file named on the command line and its bytes, or a UsageError saying why not."""
    path = Path(raw).expanduser()
    try:
        if not path.exists():
            raise UsageError(f"no such file: {raw}")
        if not path.is_file():
            raise UsageError(f"not a file: {raw}")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsageError(f"file too large ({size:,} bytes): {raw}")
        return path, path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {raw}: {exc.strerror or exc}") from None


def _front_matter(data: bytes, path: Path) -> dict[str, Any]:
    return article_from_bytes(data, path, path.parent).front_matter


def _lookup(data: dict[str, Any], key: str) -> tuple[bool, object]:
    cur: object = data
    for seg in key.split("."):
        if not isinstance(cur, dict) or seg not in cur:
            return False, None
        cur = cur[seg]
    return True, cur


def _plain(value: object) -> str | None:
    return value.strip() if isinstance(value, str) else None


def sync_title(changes: dict[str, object], old: dict[str, Any]) -> None:
    """Add article_title/question to `changes` where they equalled the old title."""
    if "title" not in changes or changes["title"] is DELETE:
        return
    old_title = _plain(old.get("title"))
    if not old_title:
        return
    for key in TITLE_MIRRORS:
        if key not in changes and _plain(old.get(key)) == old_title:
            changes[key] = changes["title"]


def changed_keys(changes: dict[str, object], old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The keys of `changes` whose value (or presence) differs between `old` and `new`."""
    out: list[str] = []
    for key in changes:
        was, before = _lookup(old, key)
        now, after = _lookup(new, key)
        if was != now or not yq.same(before, after):
            out.append(key)
    return out or list(changes)


def run(argv: Sequence[str]) -> int:
    """Do `qt-tui set` with `argv` (the arguments after "set"); raises UsageError."""
    args = build_parser().parse_intermixed_args(list(argv))
    changes = parse_changes(args.assignments, args.delete, args.json)
    if args.sync_title and "title" not in changes:
        raise UsageError("--sync-title needs title=VALUE")
    path, data = read_target(args.file)
    label = args.file
    old = _front_matter(data, path)
    if args.sync_title:
        sync_title(changes, old)
    try:
        new = apply_changes(data, changes)
    except EditError as exc:
        emit(sys.stderr, f"qt-tui: {one_line(f'{label}: {exc}')}\n")
        return EXIT_INVALID
    if args.dry_run:
        if new != data:
            emit(sys.stdout, unified_diff(label, data, new))
        return EXIT_OK
    if new == data:
        emit(sys.stdout, f"no change: {label}\n")
        return EXIT_OK
    try:
        save_atomic(path, new, data)
    except ConflictError:
        emit(sys.stderr, f"qt-tui: file changed on disk while editing, not saved: {label}\n")
        return EXIT_USAGE
    except EditError as exc:
        emit(sys.stderr, f"qt-tui: {one_line(str(exc))}\n")
        return EXIT_USAGE
    keys = changed_keys(changes, old, _front_matter(new, path))
    emit(sys.stdout, f"updated {label}: {', '.join(keys)}\n")
    return EXIT_OK


def main(argv: Sequence[str]) -> int:
    """Entry point of `qt-tui set`: never a traceback, errors are one line on stderr."""
    return run_guarded(run, argv, unexpected=EXIT_INVALID)
