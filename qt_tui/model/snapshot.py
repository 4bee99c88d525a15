"""A snapshot of a complete index: every entry and lookup in one file, for a quick start.

A warm start used to read 100,000 cache rows and index them one by one: about two seconds.
The snapshot holds the same entries as columns, with the library's lookups (by id, url and
subject) already made, and loads in a few tenths of a second.

The cache rows stay the truth. The snapshot is a copy of them, made in a process of its own
once the cache is complete, and stamped with the cache database's identity and generation
(every write to the rows bumps the generation, see cache.bump_generation). A start takes it
only while the stamp matches; any other file is ignored and the rows are read instead.

It is written with :mod:`marshal` (plain data only: nothing is called as it loads) and
replaced atomically; a file that does not decode to the expected shape is ignored.

    python -m qt_tui.model.snapshot DATABASE ROOT    # what the app runs in the background
"""

from __future__ import annotations

import contextlib
import marshal
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .article import Article, IndexedArticle
from .cache import SNAPSHOT_SUFFIX, CachedEntry, read_consistent
from .library import Library, sort_articles

MAGIC = b"qt-tui-snapshot"
#: Bump when the layout below changes: older snapshots are then ignored.
FORMAT = 5

#: Columns, in order: relpath, then the lean values (article.LEAN_FIELDS).
_COLUMNS = 8

Tables = tuple[dict[str, Any], dict[str, Any], dict[str, set[str]]]


class _NoLinks:
    """Backlinks are not part of a snapshot (they come from the cache)."""

    def linkers(self, handles: object) -> set[str]:
        return set()


def stamp(state: tuple[str, str]) -> bytes:
    """The first line of a snapshot of a database with this identity and generation."""
    identity, generation = state
    return b"%s %d %s %s\n" % (MAGIC, FORMAT, identity.encode("ascii"), generation.encode("ascii"))


def write_snapshot(database: Path, root: Path, target: Path) -> bool:
    """Write the snapshot of the rows of `database` (the cache of `root`) to `target`.

    Returns False when the database has no identity (made by an earlier qt-tui) or could not
    be read. The file appears whole or not at all.
    """
    import sqlite3

    try:
        state, rows = read_consistent(database)
    except sqlite3.Error:
        return False
    if state is None:
        return False
    data = stamp(state) + marshal.dumps(_payload(root, rows))
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    except OSError:
        temporary.unlink(missing_ok=True)
        return False
    return True


def _payload(root: Path, rows: list[CachedEntry]) -> Any:
    def no_detail(entry: IndexedArticle) -> Article:
        raise LookupError(entry.relpath)  # never asked: only lean values are written

    leans = {relpath: lean for relpath, _, lean, _ in rows if lean is not None}
    library = Library(root, links=_NoLinks())
    library.extend(
        IndexedArticle.make(root, relpath, lean, no_detail) for relpath, lean in leans.items()
    )
    # in title order: the "All articles" list, sorted the same way, then takes one pass
    order = [article.relpath for article in sort_articles(library.articles(), "title")]
    # Equal values are one object (a subject, a date, a question that repeats the title, a
    # url that is its own lookup key): marshal writes it once and a start makes it once.
    shared: dict[tuple[type, Any], Any] = {}

    def share(value: Any) -> Any:
        return shared.setdefault((type(value), value), value)

    columns: list[list[Any]] = [order]
    rows_in_order = (leans[relpath] for relpath in order)
    columns += [[share(v) for v in column] for column in zip(*rows_in_order, strict=True)]
    columns += [[] for _ in range(_COLUMNS - len(columns))]  # no articles at all
    failed = [(relpath, blob) for relpath, _, lean, blob in rows if lean is None]
    by_id, by_url, by_subject = library.lookup_tables()
    # The lookups are made again at the start from one key per entry: a dict built from two
    # lists takes a third of the time that loading the dict itself did. A key that several
    # entries share is stored whole.
    id_keys, id_shared = _keys_of(by_id, order, share)
    url_keys, url_shared = _keys_of(by_url, order, share)
    subject_of = {relpath: subject for subject, keys in by_subject.items() for relpath in keys}
    subjects: dict[str, list[str]] = {subject: [] for subject in by_subject}
    for relpath in order:
        subjects[subject_of[relpath]].append(relpath)
    return (columns, failed, (id_keys, id_shared, url_keys, url_shared, subjects))


def _keys_of(
    table: dict[str, Any], order: list[str], share: Callable[[Any], Any]
) -> tuple[list[str | None], dict[str, set[str]]]:
    """Each entry's key in `table` (None for none, or one shared with others), in `order`,
    and the keys that several entries share."""
    key_of: dict[str, str] = {}
    several: dict[str, set[str]] = {}
    for key, value in table.items():
        if type(value) is str:
            key_of[value] = key
        else:
            several[key] = set(value)
    return [share(key_of[r]) if r in key_of else None for r in order], several


def _table(keys: list[str | None], relpaths: list[str], several: dict[str, set[str]]) -> Any:
    table: dict[str | None, Any] = dict(zip(keys, relpaths, strict=True))
    table.pop(None, None)
    table.update(several)
    return table


def read_snapshot(
    file: Path,
    state: tuple[str, str],
    make_entries: Callable[[list[str], list[list[Any]]], list[Article]],
    decode_failed: Callable[[str, bytes], Article],
) -> tuple[dict[str, Article], set[str], Tables] | None:
    """The articles (by relpath), the failed files' keys and the lookup tables of a snapshot
    made at `state` (the cache's identity and generation); None when there is no such file
    or it does not hold what a snapshot holds."""
    try:
        with open(file, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    head = stamp(state)
    if not data.startswith(head):
        return None
    try:
        columns, failed, lookups = marshal.loads(memoryview(data)[len(head) :])
    except (EOFError, ValueError, TypeError):
        columns = failed = lookups = None
    if not _well_formed(columns, failed, lookups):
        # current by its first line but damaged (cut short, say): remove it, so that the
        # app writes it again instead of every start reading it in vain
        with contextlib.suppress(OSError):
            file.unlink()
        return None
    relpaths = columns[0]
    articles = dict(zip(relpaths, make_entries(relpaths, columns[1:]), strict=True))
    failed_keys = set()
    try:
        for relpath, blob in failed:
            articles[relpath] = decode_failed(relpath, blob)
            failed_keys.add(relpath)
    except ValueError:
        return None
    id_keys, id_shared, url_keys, url_shared, subjects = lookups
    try:
        tables = (
            _table(id_keys, relpaths, id_shared),
            _table(url_keys, relpaths, url_shared),
            {subject: set(keys) for subject, keys in subjects.items()},
        )
    except (TypeError, ValueError):  # a value of the wrong kind: damaged, as above
        with contextlib.suppress(OSError):
            file.unlink()
        return None
    return articles, failed_keys, tables


def _well_formed(columns: object, failed: object, lookups: object) -> bool:
    if not (isinstance(columns, list) and len(columns) == _COLUMNS):
        return False
    if not all(isinstance(column, list) for column in columns):
        return False
    count = {len(column) for column in columns}
    if len(count) != 1:
        return False
    if not isinstance(failed, list) or not all(
        isinstance(item, tuple) and len(item) == 2 for item in failed
    ):
        return False
    if not (isinstance(lookups, tuple) and len(lookups) == 5):
        return False
    id_keys, id_shared, url_keys, url_shared, subjects = lookups
    return (
        all(isinstance(keys, list) and {len(keys)} == count for keys in (id_keys, url_keys))
        and all(isinstance(table, dict) for table in (id_shared, url_shared, subjects))
        and all(isinstance(keys, list) for keys in subjects.values())
    )


def snapshot_of(database: Path) -> Path:
    """The snapshot file that goes with a cache database."""
    return Path(f"{database}{SNAPSHOT_SUFFIX}")


def is_current(file: Path, state: tuple[str, str] | None) -> bool:
    """True when `file` is a snapshot made at `state` (read from its first line only)."""
    if state is None:
        return False
    head = stamp(state)
    try:
        with open(file, "rb") as handle:
            return handle.read(len(head)) == head
    except OSError:
        return False


class SnapshotWriter:
    """Keeps a cache's snapshot current by rewriting it in a process of its own.

    The process reads the rows in one transaction, so a snapshot is always of one state of
    the cache; a write that comes after it leaves the file stale (ignored) until the next
    refresh. It runs in a session of its own at a low priority, and is left to finish (a
    few seconds) when the app quits: the next start is then quick even after a short run.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._target: Path | None = None
        self._lock = threading.Lock()  # refresh() comes from a worker thread and at quit

    def refresh(self, database: Path | None, root: Path, state: tuple[str, str] | None) -> bool:
        """Start writing the snapshot of `database` unless the file is current or one is
        being written now; True when a writer was started."""
        if database is None or state is None:
            return False
        with self._lock:
            return self._refresh(database, root, state)

    def _refresh(self, database: Path, root: Path, state: tuple[str, str]) -> bool:
        target = snapshot_of(database)
        if is_current(target, state):
            return False
        if self._process is not None and self._process.poll() is None:
            return False  # its snapshot may be stale once written: the next refresh sees it
        command = [sys.executable, "-m", __name__, str(database), str(root)]
        # this very copy of qt-tui, whatever the current folder holds
        package_parent = str(Path(__file__).resolve().parents[2])
        paths = [package_parent, *filter(None, [os.environ.get("PYTHONPATH")])]
        try:
            self._process = subprocess.Popen(
                command,
                cwd=database.parent,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # not ended with the app's terminal session
            )
        except OSError:
            return False
        self._target = target
        return True

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the writer started last; its exit code (None when there is none)."""
        if self._process is None:
            return None
        return self._process.wait(timeout)


def main(argv: list[str]) -> int:
    """Write the snapshot of one cache database (run by the app, at a low priority)."""
    if len(argv) != 2:
        print("usage: python -m qt_tui.model.snapshot DATABASE ROOT", file=sys.stderr)
        return 2
    database, root = Path(argv[0]), Path(argv[1])
    with contextlib.suppress(OSError):
        os.nice(10)  # it can wait: the app the user works in comes first
    return 0 if write_snapshot(database, root, snapshot_of(database)) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
