"""The cache of check facts: one SQLite file per content folder, beside the index cache.

Rows are keyed by relpath and valid while the file's (size, mtime_ns, inode) match; a schema
version row and the folder's real path guard the whole file (another version, another
folder's file or a corrupt one is deleted and started again). It also keeps the last report
per set of codes with the digest of the listing it was made for, so an unchanged folder is
checked again by listing it. Nothing here is ever used to edit a file.
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import multiprocessing
import os
import sqlite3
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from .cache import IndexCache, Stat
from .checkfacts import FACTS_VERSION, FIELDS, Facts, compute
from .indexing import scan

__all__ = ["FactsCache", "FolderFacts", "folder_facts"]

_SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE facts(
    relpath TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    facts BLOB NOT NULL
);
CREATE TABLE reports(name TEXT PRIMARY KEY, listing TEXT NOT NULL, report BLOB NOT NULL);
INSERT INTO meta VALUES ('schema', '{FACTS_VERSION}');
"""

# -- the cache ----------------------------------------------------------------------------------


def _busy(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _remove_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class FactsCache:
    """The facts of one content folder's files, in a SQLite file next to its index cache."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.path = path
        self._conn = connection

    @staticmethod
    def location(root: Path) -> Path:
        """Where the facts of `root` live: beside the index cache, `<hash>.checks.sqlite3`."""
        return IndexCache.location(root).with_suffix(".checks.sqlite3")

    @classmethod
    def open(cls, root: Path) -> FactsCache:
        """Open (or create) the facts cache of `root`. A corrupt file, another schema
        version or another root's cache is deleted and started again. Raises OSError or
        sqlite3.Error when there can be no cache (unwritable folder, locked database)."""
        path = cls.location(root)
        path.parent.mkdir(parents=True, exist_ok=True)
        real = str(Path(root).resolve())
        try:
            return cls._connect(path, real)
        except sqlite3.DatabaseError as exc:
            if _busy(exc):
                raise
            _remove_files(path)
            return cls._connect(path, real)

    @classmethod
    def _connect(cls, path: Path, real: str) -> FactsCache:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout = 5000")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            if tables:
                meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
                if meta.get("schema") != str(FACTS_VERSION) or meta.get("root") != real:
                    raise sqlite3.DatabaseError("stale facts cache")
                connection.execute("SELECT count(*) FROM facts").fetchone()
            else:
                connection.executescript(_SCHEMA)
                connection.execute("INSERT INTO meta VALUES ('root', ?)", (real,))
        except sqlite3.DatabaseError:
            connection.close()
            raise
        return cls(connection, path)

    def decoded_rows(self) -> list[tuple[str, Stat, Facts | None]]:
        """Every row: relpath, (size, mtime_ns, inode), facts (None if they do not decode)."""
        loads = marshal.loads
        result: list[tuple[str, Stat, Facts | None]] = []
        cursor = self._conn.execute("SELECT relpath, size, mtime_ns, inode, facts FROM facts")
        while batch := cursor.fetchmany(2000):
            for relpath, size, mtime_ns, inode, blob in batch:
                try:
                    facts = loads(blob)
                except (ValueError, EOFError, TypeError):
                    facts = None
                if type(facts) is not tuple or len(facts) != FIELDS:
                    facts = None
                result.append((relpath, (size, mtime_ns, inode), facts))
        return result

    def report(self, name: str) -> tuple[str, bytes] | None:
        """The stored report called `name`: (listing digest it was made for, report)."""
        query = "SELECT listing, report FROM reports WHERE name = ?"
        row = self._conn.execute(query, (name,)).fetchone()
        return None if row is None else (str(row[0]), bytes(row[1]))

    def put_report(self, name: str, listing: str, report: bytes) -> None:
        """Keep a report of the folder as listed by `listing` (the only one kept per name)."""
        self._conn.execute(
            "INSERT OR REPLACE INTO reports VALUES (?, ?, ?)", (name, listing, report)
        )

    def discard(self, exc: sqlite3.DatabaseError) -> None:
        """After an error: go on without the cache; a damaged file (not a busy one) is
        removed so that the next check starts a new one."""
        self._conn.close()
        if not _busy(exc):
            _remove_files(self.path)

    def put(self, rows: list[tuple[str, Stat, bytes]]) -> None:
        """Store (relpath, stat, encoded facts) rows, replacing older ones."""
        self._conn.execute("BEGIN")
        try:
            self._conn.executemany(
                "INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?, ?)",
                [(rel, st[0], st[1], st[2], blob) for rel, st, blob in rows],
            )
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def delete(self, relpaths: list[str]) -> None:
        """Drop the rows of files that are gone."""
        if relpaths:
            self._conn.execute("BEGIN")
            self._conn.executemany("DELETE FROM facts WHERE relpath = ?", [(r,) for r in relpaths])
            self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()


def _open_cache(root: Path) -> FactsCache | None:
    try:
        return FactsCache.open(root)
    except (OSError, sqlite3.Error):
        return None  # an unwritable cache folder or a busy database: compute in memory


def _storable(relpath: str) -> bool:
    try:
        relpath.encode("utf-8")
    except UnicodeEncodeError:
        return False  # an undecodable file name: SQLite cannot hold it
    return True


def folder_facts(
    root: Path, *, use_cache: bool = True, workers: int | None = None
) -> list[tuple[str, Facts]]:
    """(relpath, facts) of every content file under `root`, sorted by relpath.

    Cached facts are used while the file's (size, mtime_ns, inode) match; the others are
    computed (in `workers` processes, default one per CPU) and stored. Without a usable
    cache (or with `use_cache=False`) everything is computed in memory.
    """
    with FolderFacts(root, use_cache=use_cache, workers=workers) as session:
        return session.facts()


class FolderFacts:
    """One look at a folder: its listing (scanned on the other core while the cache is
    read), its files' facts, and the reports kept for exactly that listing."""

    def __init__(self, root: Path, *, use_cache: bool = True, workers: int | None = None) -> None:
        self.root = Path(root)
        self.workers = workers or os.cpu_count() or 1
        self._scanned = _start_scan(self.root)
        self._listing: tuple[str, dict[str, Stat | None]] | None = None
        self.cache = _open_cache(self.root) if use_cache else None
        #: False when some file could not be read: its facts, and reports, are not kept.
        self.reusable = True

    def __enter__(self) -> FolderFacts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.listing()  # never leave the scanning process behind
        if self.cache is not None:
            self.cache.close()
            self.cache = None

    def listing(self) -> tuple[str, dict[str, Stat | None]]:
        """(digest of every relpath and stat, relpath -> stat) of the folder's content files."""
        if self._listing is None:
            self._listing = self._scanned()
        return self._listing

    def _failed(self, exc: sqlite3.DatabaseError) -> None:
        if self.cache is not None:
            self.cache.discard(exc)
            self.cache = None

    def kept_report(self, name: str) -> tuple[str, bytes] | None:
        """The report called `name` and the listing digest it was made for (compare with
        `listing()[0]`: this does not wait for the folder to be listed)."""
        if self.cache is None:
            return None
        try:
            return self.cache.report(name)
        except sqlite3.DatabaseError as exc:
            self._failed(exc)
            return None

    def keep_report(self, name: str, report: bytes) -> None:
        """Keep a report made from this listing's facts (unless some file was unreadable)."""
        if self.cache is None or not self.reusable:
            return
        try:
            self.cache.put_report(name, self.listing()[0], report)
        except sqlite3.DatabaseError as exc:
            self._failed(exc)

    def facts(self) -> list[tuple[str, Facts]]:
        """(relpath, facts) of every content file, sorted by relpath."""
        collecting = gc.isenabled()
        gc.disable()  # hundreds of thousands of small tuples, none cyclic
        try:
            return self._facts()
        finally:
            if collecting:
                gc.enable()

    def _facts(self) -> list[tuple[str, Facts]]:
        cached: list[tuple[str, Stat, Facts | None]] = []
        try:
            if self.cache is not None:
                cached = self.cache.decoded_rows()
        except sqlite3.DatabaseError as exc:
            self._failed(exc)
            cached = []
        on_disk = self.listing()[1]
        found: dict[str, Facts] = {}
        gone: list[str] = []
        for relpath, stat, facts in cached:
            current = on_disk.get(relpath, False)
            if current == stat and facts is not None:
                found[relpath] = facts
            elif current is False:
                gone.append(relpath)
        del cached
        if self.cache is not None and gone:
            try:
                self.cache.delete(gone)
            except sqlite3.DatabaseError as exc:
                self._failed(exc)
        missing = [(rel, stat) for rel, stat in on_disk.items() if rel not in found]
        loads = marshal.loads
        for chunk in compute(self.root, missing, self.workers):
            fresh = []
            for relpath, file_stat, blob, cacheable in chunk:
                found[relpath] = loads(blob)
                if cacheable and file_stat is not None and _storable(relpath):
                    fresh.append((relpath, file_stat, blob))
                else:
                    self.reusable = False
            if self.cache is not None and fresh:
                try:
                    self.cache.put(fresh)
                except sqlite3.DatabaseError as exc:
                    self._failed(exc)
        return sorted(found.items())


def _listing(root: Path) -> tuple[str, list[tuple[str, Stat | None]]]:
    """The folder's content files with their stats, sorted, and a digest of that list."""
    items = sorted(scan(root))
    digest = hashlib.blake2b(marshal.dumps(items), digest_size=16).hexdigest()
    return digest, items


def _scan_into(root: Path, sender: Connection) -> None:
    """Child process: send the listing of `root`, marshalled."""
    sender.send_bytes(marshal.dumps(_listing(root)))
    sender.close()


def _start_scan(root: Path) -> Callable[[], tuple[str, dict[str, Stat | None]]]:
    """Start listing `root` in a forked process when this process has no other threads (a
    thread would fight the cache reader for the interpreter); returns the way to its result."""

    def here() -> tuple[str, dict[str, Stat | None]]:
        digest, items = _listing(root)
        return digest, dict(items)

    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_scan_into, args=(root, sender), daemon=True)
        try:
            process.start()
        except (OSError, AssertionError, ValueError):  # e.g. a daemonic process may not fork
            receiver.close()
            sender.close()
        else:
            sender.close()

            def result() -> tuple[str, dict[str, Stat | None]]:
                try:
                    data = receiver.recv_bytes()
                except (EOFError, OSError):
                    data = None
                finally:
                    receiver.close()
                    process.join()
                if data is None or process.exitcode != 0:
                    return here()  # the child failed: list the folder here
                digest, items = marshal.loads(data)
                return digest, dict(items)

            return result
    return here
