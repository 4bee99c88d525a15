"""Per-file check facts: what `qt-tui check` needs from one file, computed once and cached.

A file's facts are a pure function of its bytes and relative path: the findings that depend
on that file alone (loader problems, missing fields, types, titles, SEO lengths, the url),
each with its line, plus the compact data the folder-wide checks need (id, title, subject,
url, SEO title and every related entry with its line). They are plain tuples, stored with
:mod:`marshal` in a SQLite file next to the index cache, one row per file, valid while the
file's size, mtime_ns and inode are unchanged. So a second check of an unchanged folder reads
no article file at all, and holds no file's text. Fixes never use this cache.
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import multiprocessing
import os
import re
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from . import loading
from .article import Article
from .cache import IndexCache, Stat
from .checks import (
    CODES,
    key_lines,
    line_of,
    local_checks,
    seo_kind,
    seo_site_parts,
    seo_title,
)
from .indexing import scan, summary_from_bytes
from .library import id_key, url_key

__all__ = [
    "FACTS_VERSION",
    "Facts",
    "FactsCache",
    "FolderFacts",
    "file_facts",
    "folder_facts",
    "id_norm",
]

#: Bump whenever the facts or the checks that produce them change: older rows are rebuilt.
FACTS_VERSION = 3

#: One file's facts (see :func:`file_facts` for the layout).
Facts = tuple[Any, ...]

# Field positions in a Facts tuple.
LOADED, ID, ID_NORM, TITLE, SUBJECT, URL, URL_KEY, SEO_TITLE, SEO_KIND = range(9)
SEO_LINE, SEO_TITLE_LINE, ID_LINE, FINDINGS, LINKS, SEO_PREFIX, SEO_SITE = range(9, 16)
_FIELDS = 16
# Field positions in a related entry of Facts[LINKS].
L_KEY, L_NUMBER, L_ID, L_ID_NORM, L_TITLE, L_SUBJECT, L_URL, L_LINE = range(8)

#: Files handed to one worker task.
CHUNK = 500
#: Fewer missing files than this are computed here, without starting a process pool.
POOL_THRESHOLD = 400

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


# -- one file -----------------------------------------------------------------------------------


def id_norm(value: object) -> int | str | None:
    """A lookup key for an id: equal for two ids exactly when their `id_key`s are equal
    (an int for decimal ids, so that lookups need no string building)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = id_key(value)
    if text is None:
        return None
    if text.isascii() and text.lstrip("-").isdigit():
        number = int(text)
        if str(number) == text:
            return number
    return text


# The patterns below run over "\n" + the front matter lines, each line after its "\n"
# (a literal first character lets the regex engine skip quickly to line starts).
#: A line at column 0 that is not blank, a comment, nor a plain `key:` line.
_ODD_TOP_LINE = re.compile(r"\n(?![ #\n]|\Z|[A-Za-z_][\w.-]*[ \t]*:(?:[ \t\n]|\Z))")
#: A value (after indentation, "- " and "key: ") that starts a quoted scalar, a flow
#: collection, a tag, an anchor, an alias or a complex key (which may run on to column 0),
#: or a block scalar header with something after it.
_ODD_VALUE = re.compile(
    r"\n[ ]*(?:-[ ]+)*(?:[A-Za-z_][\w.-]*[ \t]*:[ \t]+)?"
    r"(?:[\"'\[{!&*?\t]|[|>](?!-?[ \t]*(?:\n|\Z)))"
)
_ANSWER = re.compile(r"\nanswer[ \t]*:(?:[ \t]+([^\n]*))?(?=\n|\Z)")
_BLOCK_HEADS = frozenset((">-", ">", "|-", "|"))
_PLAIN_FORBIDDEN = frozenset("-?:,[]{}#&*!|>'\"%@`")
_NULLS = frozenset(("null", "Null", "NULL", "~"))
_YAML_BREAKS = re.compile("[\r\x85\u2028\u2029]")


def _answer_is_text(text: str) -> bool:
    """True when the front matter surely holds exactly one top-level `answer` whose value is
    non-empty text; False when unsure (the caller then loads the whole file with PyYAML).

    It is sure only where YAML cannot read the lines otherwise: every line at column 0 is a
    plain `key:` line, and no value starts a quoted scalar or flow collection (which could
    run on to column 0); the answer is a block scalar whose first line is not blank, or a
    plain scalar. Lines of block scalars are looked at too, which only makes it unsure.
    """
    fm_end = text.find("\n---", 3)
    if fm_end < 0:
        return False
    line_end = text.find("\n", fm_end + 1)
    closing = text[fm_end + 1 :] if line_end < 0 else text[fm_end + 1 : line_end]
    if closing.rstrip() != "---":
        return False  # "----" or "--- x": let YAML decide where the front matter ends
    first_end = text.find("\n")
    if text[:first_end].lstrip("\ufeff").rstrip() != "---":
        return False
    lines = text[first_end:fm_end].replace("\r\n", "\n")  # each line after its "\n"
    if _YAML_BREAKS.search(lines) or _ODD_TOP_LINE.search(lines) or _ODD_VALUE.search(lines):
        return False
    answers = _ANSWER.findall(lines)
    if len(answers) != 1:
        return False
    value = answers[0].strip()
    if value in _BLOCK_HEADS:
        match = _ANSWER.search(lines)
        assert match is not None
        next_end = lines.find("\n", match.end() + 1)
        following = lines[match.end() + 1 : next_end if next_end >= 0 else len(lines)]
        return following[:1] == " " and bool(following.strip())
    return bool(value) and value[0] not in _PLAIN_FORBIDDEN and value not in _NULLS


def _article(data: bytes, path: Path, root: Path, text: str) -> Article:
    """The article as the checks see it: an index summary (fast) when its answer is surely
    text, else the whole file loaded, so that answer findings are exact."""
    summary = summary_from_bytes(data, path, root)
    if not summary.loaded or _answer_is_text(text):
        return summary
    return loading.article_from_bytes(data, path, root)


def facts_of_article(article: Article, lines: dict[str, int]) -> Facts:
    """The facts of one loaded or failed article, given its file's key lines."""
    findings: list[tuple[int | None, str, str, str]] = []
    if not article.loaded:
        findings = [(p.line, p.code, str(p.severity), p.message) for p in article.problems]
        return (False, article.id, None, "", "", "", None, "", None, None, None, None,
                tuple(findings), (), None, None)  # fmt: skip
    for problem in article.problems:
        if problem.code != "bad-type":
            findings.append((problem.line, problem.code, str(problem.severity), problem.message))

    def add(code: str, message: str, key: str | None = None) -> None:
        findings.append((line_of(lines, key), code, _SEVERITY[code], message))

    local_checks(article, lines, add)
    fm = article.front_matter
    url = article.url
    seo = seo_title(article)
    prefix, site = seo_site_parts(seo, article.subject)
    key = url_key(url)
    links = []
    for link in article.related:
        canonical = link.key == f"related_article{link.number}"
        links.append(
            (
                None if canonical else link.key,
                link.number,
                link.id,
                id_norm(link.id),
                link.title,
                link.subject,
                link.url,
                lines.get(link.key),
            )
        )
    return (
        True,
        article.id,
        id_norm(article.id),
        article.title,
        article.subject,
        url,
        url if key == url else key,
        seo,
        seo_kind(fm),
        lines.get("seo"),
        line_of(lines, "seo.title"),
        lines.get("id"),
        tuple(findings),
        tuple(links),
        None if prefix is None else sys.intern(prefix),
        None if site is None else sys.intern(site),
    )


def file_facts(data: bytes, path: Path, root: Path) -> Facts:
    """The facts of one file from its bytes (`path` is under `root`)."""
    text = data.decode("utf-8-sig", errors="replace")
    lines = key_lines(text)
    return facts_of_article(_article(data, path, root, text), lines)


_SEVERITY = {code: str(severity) for code, severity in CODES.items()}


def _read(path: str, size: int) -> bytes:
    handle = os.open(path, os.O_RDONLY)
    try:
        data = os.read(handle, size + 1)
        if len(data) > size:  # it grew since the scan
            parts = [data]
            while part := os.read(handle, 1 << 16):
                parts.append(part)
            data = b"".join(parts)
    finally:
        os.close(handle)
    return data


#: One computed file: relpath, stat, encoded facts, whether the row may be cached.
Computed = tuple[str, Stat | None, bytes, bool]


def _compute_one(root: Path, relpath: str, stat: Stat | None) -> Computed:
    path = root / relpath
    limit = loading.MAX_FILE_BYTES
    try:
        if stat is None or stat[0] > limit:
            raise OSError
        data = _read(os.fspath(path), stat[0])
        if len(data) > limit:
            raise OSError
    except OSError:
        article = loading.load_article(path, root)
        cacheable = stat is not None and stat[0] > limit  # "too large" holds for this stat
        return relpath, stat, marshal.dumps(facts_of_article(article, {})), cacheable
    return relpath, stat, marshal.dumps(file_facts(data, path, root)), True


def _compute_chunk(root: str, items: list[tuple[str, Stat | None]]) -> list[Computed]:
    """Worker task: the encoded facts of a chunk of files."""
    base = Path(root)
    return [_compute_one(base, relpath, stat) for relpath, stat in items]


def _pool(workers: int) -> Executor:
    """A process pool; fork when this process has no other threads (fast), else forkserver."""
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if threading.active_count() == 1 and "fork" in methods else None
    if method is None and "forkserver" in methods:
        method = "forkserver"
    context = multiprocessing.get_context(method)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=gc.disable)


def _compute(
    root: Path, items: list[tuple[str, Stat | None]], workers: int
) -> Iterator[list[Computed]]:
    """Facts of `items`, chunk by chunk, in a process pool when there are many."""
    chunks = [items[start : start + CHUNK] for start in range(0, len(items), CHUNK)]
    pool: Executor | None = None
    futures: list[Future[list[Computed]] | None] = []
    if workers > 1 and len(items) >= POOL_THRESHOLD:
        try:
            pool = _pool(workers)
            futures = [pool.submit(_compute_chunk, os.fspath(root), chunk) for chunk in chunks]
        except (OSError, ValueError, ImportError, RuntimeError):
            pool, futures = None, []
    try:
        for index, chunk in enumerate(chunks):
            future = futures[index] if futures else None
            if future is not None:
                try:
                    yield future.result()
                    continue
                except Exception:  # a broken pool: compute what is left here
                    futures = []
            yield _compute_chunk(os.fspath(root), chunk)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


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
                if type(facts) is not tuple or len(facts) != _FIELDS:
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
        for chunk in _compute(self.root, missing, self.workers):
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
