"""Fast index summaries and the parallel, cache-aware scan that builds a Library.

A summary is the Article the full loader gives, minus the answer (the bulk of every file). The
answer block is cut out of the front matter text and the rest is read by a small strict parser
for the plain layout real files use (`key: value`, block scalars, one level of nested mappings),
several times faster than PyYAML. Anything outside that subset, and every error, goes to
:func:`article_from_bytes`, so values and problems are exactly the full loader's.

(Parsing the cut text with PyYAML instead is both slower and not exact: a quoted scalar, flow
collection or `...` marker around the answer line means something else once the answer is gone.)
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import re
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from .article import NO_SUBJECT, Article, DetailSource, IndexedArticle
from .cache import (
    NO_LEAN,
    IndexCache,
    IndexRow,
    Stat,
    bump_generation,
    decode_article,
    encode_article,
    read_stats,
    row_of,
    stat_key,
    store_rows,
    write_search_text,
)
from .files import is_content_file
from .library import Library, LinkSource
from .loading import (
    MAX_FILE_BYTES,
    _decode,
    _fill,
    article_from_bytes,
    load_article,
)
from .quickscan import _BOOL, _FAIL, _SPECIAL_WORDS, LeanValues, _scalar, quick_values

__all__ = [
    "IndexStats",
    "IndexStopped",
    "IndexedLibrary",
    "build_library",
    "plain_text",
    "scan",
    "summarise",
    "summary_from_bytes",
    "update_paths",
]

#: Paths handed to one worker task: enough to amortise pickling, small enough to stream.
CHUNK = 500

#: Asked while files are read: True when the work should end early (the app is quitting).
Stopped = Callable[[], bool]


class IndexStopped(Exception):
    """:func:`build_library` was stopped (see its `stopped`) before the library was whole.

    What was indexed before is in the cache, every row complete: the next build reads the
    rest (see :meth:`IndexCache.listed`)."""


def _never() -> bool:
    return False


T = TypeVar("T")

_GONE: Any = object()
#: One line or entry of plain front matter: an entry (indent, key, then a one-line `>-` block,
#: another block scalar, a plain word-ish string, an integer, any other one-line value, or
#: nothing), a blank line, or anything else (junk).
_ENTRIES = re.compile(
    r"(?P<indent>[ ]*)(?P<key>[A-Za-z_][A-Za-z0-9_]*):"
    r"(?:[ ]+>-[ ]*\n(?P=indent)[ ]+(?P<line>[^ \t\n][^\n]*)\n(?!(?P=indent)[ ]+[^ \n])"
    r"|[ ]+(?P<head>[>|]-?)[ ]*\n(?P<block>(?:(?P=indent)[ ]+[^ \n][^\n]*\n)*)"
    r"|[ ]+(?P<word>[A-Za-z/](?:[^\n:#\t]*[^\n:#\t ])?)[ ]*\n"
    r"|[ ]+(?P<int>-?(?:0|[1-9][0-9]*))[ ]*\n"
    r"|[ ]+(?P<raw>[^\n]*)\n"
    r"|[ ]*\n)"
    r"|[ ]*\n"
    r"|(?P<junk>[^\n]*\n?)"
)
_INDENT = re.compile(r" *")
_PLAIN_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n"
_BOUNDARY = re.compile(r"^-{3,}\s*$", re.MULTILINE)  # python-frontmatter's YAML boundary
#: Characters the YAML reader rejects or treats as line breaks (\r, NEL, LS, PS, BOM).
_NOT_PLAIN_YAML = re.compile(
    "[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_BLOCK_HEADERS = frozenset((">-", ">", "|-", "|"))
# -- fast front matter ------------------------------------------------------------------------


def _block_text(head: str, block: str, strict: bool) -> str:
    """The value of a block scalar (`head` is >-, >, |- or |) from its non-blank lines.

    Raises ValueError where folding would need more care than this (`strict`: lines of
    different indentation) or YAML would reject the block (a line indented less than the first).
    """
    if not block:
        return ""
    width = _INDENT.match(block).end()  # type: ignore[union-attr]
    if block.count("\n") == 1:  # one line: the usual case
        text = block[width:-1]
        if strict and text[0] == "\t":
            raise ValueError("tab-indented block")
    else:
        pad = block[:width]
        lines = block[:-1].split("\n")
        for line in lines:
            if not line.startswith(pad) or (strict and line[width] in " \t"):
                raise ValueError("block indentation")
        text = ("\n" if head[0] == "|" else " ").join(line[width:] for line in lines)
    return text if head[-1] == "-" else text + "\n"


def _take_answer(fm: str) -> tuple[str, str]:
    """The front matter without its top-level `answer` entry, and the raw answer text.

    Raises ValueError unless there is exactly one answer, a non-blank one-line scalar or a
    block scalar whose lines are indented at least as much as its first.
    """
    start = fm.find("\nanswer:")
    if start < 0 or fm.find("\nanswer:", start + 1) >= 0:
        raise ValueError("answer key")
    line_end = fm.find("\n", start + 1)
    rest = fm[start + 8 : line_end]
    head = rest.strip(" ")
    if rest[:1] not in ("", " ") or not head:
        raise ValueError("answer line")
    end = line_end
    while fm.startswith(" ", end + 1):  # the indented lines after it
        end = fm.find("\n", end + 1)
    after = end + 1
    while fm.startswith("\n", after):
        after += 1
    if fm.startswith(("\t", " "), after):
        raise ValueError("indented line after the answer")  # YAML may read it otherwise
    if head in _BLOCK_HEADERS:
        block = fm[line_end + 1 : end + 1]
        width = _INDENT.match(block).end()  # type: ignore[union-attr]
        if block[width : width + 1] in ("\n", "", "\t"):
            raise ValueError("answer block start")
        answer = _block_text(head, block, strict=False)
    else:
        value = _scalar(head)
        if value is _FAIL or value is None or end != line_end:
            raise ValueError("answer scalar")
        answer = value if isinstance(value, str) else str(value)
    if not answer.strip():
        raise ValueError("blank answer")  # the answer then comes from the body
    return fm[: start + 1] + fm[end + 1 :], answer


def _fast_front_matter(fm: str) -> tuple[dict[str, Any], str]:
    """Front matter without its answer, and the raw answer text; ValueError when unsure.

    Handles what real files hold: `key: scalar`, block scalars without blank lines, and
    mappings one level deep. Everything else is left to YAML.
    """
    rest, answer = _take_answer(fm)
    data: dict[str, Any] = {}
    nested: dict[str, Any] | None = None
    nested_key = nested_indent = ""
    seen: dict[str, str] = {}  # title == article_title == question: one object
    intern = sys.intern
    value: Any
    for indent, key, line, head, block, word, number, raw, junk in _ENTRIES.findall(rest):
        if not key:
            if junk:
                raise ValueError("not a plain entry")
            continue
        if key in _SPECIAL_WORDS:
            raise ValueError("special key")
        if line:
            value = seen.setdefault(line, line) if len(line) > 32 else line
        elif word:
            if word in _SPECIAL_WORDS:
                value = _BOOL.get(word)
            else:
                value = intern(word) if len(word) <= 32 else word
        elif number:
            value = int(number)
        elif head:
            value = _block_text(head, block, strict=True)
            if len(value) > 32:
                value = seen.setdefault(value, value)
        elif raw:
            if raw[-1] == " ":
                raw = raw.rstrip(" ")
            value = _scalar(raw)
            if value is _FAIL:
                raise ValueError("scalar")
        elif indent:
            value = None
        else:
            value = {}
        if indent:
            if nested is None or (nested_indent and indent != nested_indent):
                raise ValueError("indentation")
            nested_indent = indent
            nested[intern(key)] = value
            continue
        if nested is not None and not nested:
            data[nested_key] = None  # `key:` with nothing under it
        if type(value) is dict:
            nested, nested_key, nested_indent = value, key, ""
        else:
            nested = None
        data[intern(key)] = value
    if nested is not None and not nested:
        data[nested_key] = None
    return data, answer


def _plain_yaml_text(fm: str) -> bool:
    """True when every character is one YAML reads as itself (no \\r, NEL, BOM, controls)."""
    return fm.replace("\n", " ").replace("\t", " ").isprintable() or not _NOT_PLAIN_YAML.search(fm)


def _split_fast(text: str) -> tuple[str, str] | None:
    """python-frontmatter's split (front matter, body) without scanning the whole body."""
    first = _BOUNDARY.match(text)
    if first is None:
        return None
    pos = first.end()
    while True:
        hit = text.find("\n---", pos - 1)
        if hit < 0:
            return None
        second = _BOUNDARY.match(text, hit + 1)
        if second is not None:
            return text[pos : hit + 1], text[second.end() :]
        pos = hit + 2


def _as_summary(article: Article) -> Article:
    """Drop the answer from a fully loaded article (failed ones are kept whole)."""
    if article.loaded:
        article.answer = ""
        article.front_matter.pop("answer", None)
        article.partial = True
    return article


def summarise(data: bytes, path: Path, root: Path) -> tuple[Article, str]:
    """A summary Article (see :func:`summary_from_bytes`) and its answer as plain search text."""
    try:
        relpath = path.relative_to(root).as_posix()
    except ValueError:
        relpath = path.name
    return _summarise(data, path, root, relpath, True)


def _summarise(
    data: bytes, path: Path, root: Path, relpath: str, want_text: bool
) -> tuple[Article, str]:
    plain = not data.translate(None, _PLAIN_BYTES)  # printable ASCII, tabs and newlines only
    if plain and data[:3] == b"---":
        text: str | None = data.decode("ascii")
    else:
        text, problem = _decode(data)
        if problem is not None:
            text = None
    split = _split_fast(text) if text is not None else None
    if split is None or not (plain or _plain_yaml_text(split[0])):
        return _full_summary(data, path, root, want_text)
    try:
        front_matter, answer = _fast_front_matter(split[0])
    except ValueError:
        return _full_summary(data, path, root, want_text)
    slash = relpath.find("/")
    folder = relpath[:slash] if slash > 0 else None
    article = Article(path=path, relpath=relpath, title=path.stem, file_name=path.name)
    article.subject = folder or NO_SUBJECT
    _fill(article, front_matter, "", folder)
    article.partial = True
    return article, plain_text(answer) if want_text else ""


def _full_summary(data: bytes, path: Path, root: Path, want_text: bool) -> tuple[Article, str]:
    full = article_from_bytes(data, path, root)
    text = plain_text(full.answer) if want_text else ""
    return _as_summary(full), text


def quick_summary(data: bytes, relpath: str) -> LeanValues | None:
    """The lean values of a file (see :mod:`quickscan`), or None: then use the full loader."""
    if data[:3] != b"---":
        return None
    if not data.translate(None, _PLAIN_BYTES):  # printable ASCII, tabs and newlines only
        text = data.decode("ascii")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    split = _split_fast(text)
    if split is None or not (text.isascii() or _plain_yaml_text(split[0])):
        return None  # no front matter, or characters YAML reads otherwise (\r, BOM, …)
    return quick_values(split[0], relpath)


def lean_values(article: Article) -> LeanValues:
    """The lean values of a loaded article (what an IndexedArticle holds)."""
    return (
        article.id,
        article.title,
        article.subject,
        article.date.toordinal() if article.date is not None else None,
        article.url,
        article.question,
        article.seo_keywords,
    )


def summary_from_bytes(data: bytes, path: Path, root: Path) -> Article:
    """The Article article_from_bytes gives, without its answer (`partial=True`).

    `answer` is "" and `front_matter` has no `answer` key; every other field and every
    problem is the same. Files that do not load at all come back whole, with their problems.
    """
    return summarise(data, path, root)[0]


# -- plain text for search --------------------------------------------------------------------


def plain_text(raw_answer: str) -> str:
    """The text of a raw answer for the search index (never displayed as content).

    `\\n` escapes become spaces (so `\\nabla` loses its `n`: this only feeds word search);
    Markdown and LaTeX punctuation stay, the tokenizer skips it and snippets drop it.
    """
    text = raw_answer.replace("\\n", " ")
    if "«" in text or "»" in text:  # the snippet markers
        text = text.replace("«", '"').replace("»", '"')
    return text


# -- scanning ---------------------------------------------------------------------------------


def scan(root: Path, stats: bool = True) -> Iterator[tuple[str, Stat | None]]:
    """(relpath, (size, mtime_ns, inode)) of every content file, as loading.discover finds them.

    Hidden and `__` folders are skipped, symlinked folders followed once; the stat is None
    when the file cannot be stat'ed (the loader then reports why), or always without `stats`
    (names only: a stat call per file is most of the scan's time).
    """
    seen: set[tuple[int, int]] = set()
    stack = [(os.fspath(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            info = os.stat(folder)
        except OSError:
            continue
        ident = (info.st_dev, info.st_ino)
        if ident in seen:
            continue
        seen.add(ident)
        subdirs: list[str] = []
        files: list[tuple[str, Stat | None]] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    name = entry.name
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    if is_dir:
                        if not name.startswith((".", "__")):
                            subdirs.append(name)
                    elif not stats:
                        if is_content_file(name):
                            files.append((prefix + name, None))
                    elif is_content_file(name):
                        try:
                            st = entry.stat()
                            files.append(
                                (prefix + name, stat_key(st.st_size, st.st_mtime_ns, st.st_ino))
                            )
                        except OSError:
                            files.append((prefix + name, None))
        except OSError:
            continue
        yield from files
        for name in sorted(subdirs, reverse=True):
            stack.append((os.path.join(folder, name), f"{prefix}{name}/"))


class _Paths:
    """Path objects for relpaths, sharing one Path per folder (pathlib parses each string)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._folders: dict[str, Path] = {"": root}
        self._child: Callable[[Path, str], Path] | None = getattr(
            type(root), "_make_child_relpath", None
        )

    def __call__(self, relpath: str) -> Path:
        folder, _, name = relpath.rpartition("/")
        parent = self._folders.get(folder)
        if parent is None:
            parent = self._folders[folder] = self.root / folder
        if self._child is not None:
            try:
                return self._child(parent, name)
            except Exception:  # pragma: no cover - a pathlib without the helper's signature
                self._child = None
        return parent / name


# -- parsing in workers -----------------------------------------------------------------------

#: One parsed file: relpath, stat, encoded summary, plain answer text, whether to cache it.
Parsed = tuple[str, Stat | None, bytes, str, bool]


def _read(path: str, size: int) -> bytes:
    """A file's bytes; `size` (from the scan) saves Python's buffered-file machinery."""
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


def _parse_one(
    root: Path, relpath: str, stat: Stat | None, path: Path, want_text: bool = True
) -> Parsed:
    try:
        if stat is None or stat[0] > MAX_FILE_BYTES:
            raise OSError
        data = _read(os.fspath(path), stat[0])
        if len(data) > MAX_FILE_BYTES:
            raise OSError
    except OSError:
        article = _as_summary(load_article(path, root))
        cacheable = stat is not None and stat[0] > MAX_FILE_BYTES
        return relpath, stat, encode_article(article), "", cacheable
    article, text = _summarise(data, path, root, relpath, want_text)
    return relpath, stat, encode_article(article), text, True


def _parse_chunk(root: str, items: list[tuple[str, Stat | None]], want_text: bool) -> list[Parsed]:
    """Worker task: parse a chunk of files into encoded summaries (and search text if wanted)."""
    base = Path(root)
    make_path = _Paths(base)
    parsed: list[Parsed] = []
    for rel, stat in items:
        if _halted():
            break
        parsed.append(_parse_one(base, rel, stat, make_path(rel), want_text))
    return parsed


#: A file of the quick pass as the library needs it: relpath, lean values (None: the file
#: did not load) and then the encoded whole Article.
Listed = tuple[str, LeanValues | None, bytes | None]


def _quick_chunk(root: str, relpaths: list[str], database: str, defer: bool) -> list[Listed]:
    """Worker task of the quick pass: stat and read each file, take its lean values where
    the quick reader is sure (else the full summary, search text and link handles), and
    store the rows in the cache database."""
    base = Path(root)
    make_path = _Paths(base)
    rows: list[IndexRow] = []
    out: list[Listed] = []
    for relpath in relpaths:
        if _halted():
            break
        path = os.path.join(root, relpath)
        lean = data = stat = None
        try:
            st = os.stat(path)
            stat = stat_key(st.st_size, st.st_mtime_ns, st.st_ino)
            if st.st_size <= MAX_FILE_BYTES:
                data = _read(path, st.st_size)
        except OSError:
            pass
        if data is not None and len(data) <= MAX_FILE_BYTES:
            lean = quick_summary(data, relpath)
        if lean is not None:
            assert stat is not None
            rows.append((relpath, stat, lean, None, None, ()))
            out.append((relpath, lean, None))
            continue
        _, _, blob, text, ok = _parse_one(base, relpath, stat, make_path(relpath))
        article = decode_article(blob, make_path(relpath), relpath)
        row = row_of(article, stat or (0, 0, 0), blob, text)
        if ok and stat is not None:
            rows.append(row)
        out.append((relpath, row[2], None if row[2] is not None else blob))
    _store(database, rows, defer)
    return out


#: Why a worker could not write to the cache (a full disk, a locked or broken database, an
#: integer SQLite cannot hold): the rows are then not cached, the index works without them.
_CACHE_ERRORS = (sqlite3.Error, OverflowError)


def _store(database: str, rows: list[IndexRow], defer: bool) -> None:
    """Write rows to the cache database from a worker (its own connection), if it can."""
    if not rows:
        return
    with _WRITE_LOCK:
        try:
            conn = sqlite3.connect(database, timeout=60, isolation_level=None)
        except _CACHE_ERRORS:
            return
        try:
            conn.execute("PRAGMA synchronous = NORMAL")
            store_rows(conn, rows, replace=False, defer=defer)
        except _CACHE_ERRORS:
            pass  # not cached: read again next time
        finally:
            conn.close()


def _detail_chunk(
    root: str, items: list[tuple[str, Stat]], database: str, defer: bool
) -> list[IndexRow]:
    """Worker task of the detail pass: read files in full and store what the quick pass left
    out (summary, link handles, search text) straight into the cache database.

    Returns the rows whose lean values the full read changed (rare: a YAML error, or a
    layout the quick reader misread); rows whose file changed since are left alone.
    """
    base = Path(root)
    make_path = _Paths(base)
    parsed: list[tuple[IndexRow, LeanValues | None]] = []
    for relpath, stat in items:
        if _halted():
            break
        path = make_path(relpath)
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat_key(st.st_size, st.st_mtime_ns, st.st_ino) != stat:
            continue  # changed since it was listed: the watcher or the next start re-reads it
        _, _, blob, text, ok = _parse_one(base, relpath, stat, path)
        if ok:
            article = decode_article(blob, path, relpath)
            parsed.append((row_of(article, stat, blob, text), None))
    if not parsed:
        return []
    changed: list[IndexRow] = []
    with _WRITE_LOCK:
        try:
            _write_details(database, parsed, changed, defer)
        except _CACHE_ERRORS:
            return []  # left for the next start; entries read their files meanwhile
    return changed


def _write_details(
    database: str,
    parsed: list[tuple[IndexRow, LeanValues | None]],
    changed: list[IndexRow],
    defer: bool,
) -> None:
    conn = sqlite3.connect(database, timeout=60, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        changed_before = len(changed)
        try:
            done: list[tuple[int, IndexRow]] = []
            for row, _ in parsed:
                relpath, stat, lean, detail, _, handles = row
                found = conn.execute(
                    "SELECT rowid, loaded, id, title, subject, date, url, question, keywords"
                    " FROM files WHERE relpath = ? AND size = ? AND mtime_ns = ? AND inode = ?"
                    " AND article IS NULL",
                    (relpath, *stat_key(*stat)),
                ).fetchone()
                if found is None:
                    continue  # replaced or already read in full meanwhile
                rowid, loaded, *old = found
                conn.execute(
                    "UPDATE files SET loaded = ?, id = ?, title = ?, subject = ?, date = ?,"
                    " url = ?, question = ?, keywords = ?, article = ? WHERE rowid = ?",
                    (lean is not None, *(lean or NO_LEAN), detail, rowid),
                )
                conn.executemany(
                    "INSERT INTO links(src, handle) VALUES (?, ?)", [(rowid, h) for h in handles]
                )
                done.append((rowid, row))
                if (tuple(old) if loaded else None) != lean:
                    changed.append(row)
            write_search_text(conn, done, defer)
            if len(changed) > changed_before:  # what lists show changed: snapshots are stale
                bump_generation(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()


# -- building ---------------------------------------------------------------------------------


@dataclass
class IndexStats:
    """What one build did: files found, taken from the cache, parsed, dropped; and time."""

    files: int = 0
    cached: int = 0
    parsed: int = 0
    removed: int = 0
    seconds: float = 0.0
    workers: int = 0
    #: Files read by worker processes (the rest were read in this process).
    in_workers: int = 0
    #: False when the cache was taken as it is, without comparing it with the folder.
    verified: bool = True
    #: True when the entries came from the cache's snapshot rather than its rows.
    snapshot: bool = False


class IndexedLibrary(Library):
    """A Library built by :func:`build_library`, with what the build did in `index_stats`."""

    def __init__(self, root: Path, links: LinkSource | None = None) -> None:
        super().__init__(root, links)
        self.index_stats = IndexStats()


def _pool(workers: int) -> tuple[Executor, Any]:
    """A process pool, and the event that makes its tasks end early (see :func:`_halted`);
    fork when this process has no other threads (fast), else forkserver."""
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if threading.active_count() == 1 and "fork" in methods else None
    if method is None and "forkserver" in methods:
        method = "forkserver"
    context = multiprocessing.get_context(method)
    halt = context.Event()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_worker_start,
        initargs=(context.Lock(), halt),
    )
    return pool, halt


#: Taken by a worker while it writes to the cache database. SQLite makes a writer that
#: finds the database busy sleep for up to 100 ms before trying again; with two workers
#: committing at the same pace that wasted most of their time. A lock wakes the next one
#: as soon as the database is free.
_WRITE_LOCK: Any = threading.Lock()

#: In a worker: the pool's event, set when the build that made it was stopped.
_HALT: Any = None

#: Seconds between looks at `stopped()` while waiting for a worker's chunk.
_POLL = 0.1


def _worker_start(lock: Any, halt: Any) -> None:
    global _WRITE_LOCK, _HALT
    gc.disable()  # short-lived processes making many objects, none cyclic
    _WRITE_LOCK = lock
    _HALT = halt


def _halted() -> bool:
    """True in a worker whose build was stopped: its task ends after the file it is on,
    storing and returning the files done (the rest of its chunk is left for next time)."""
    return _HALT is not None and bool(_HALT.is_set())


class _Parser(Generic[T]):
    """Runs a task on chunks of files in a process pool (made on first use), or here when
    the pool cannot be had or breaks."""

    def __init__(
        self,
        root: Path,
        workers: int,
        task: Callable[..., list[T]],
        *args: object,
        stopped: Stopped = _never,
    ) -> None:
        self.root = os.fspath(root)
        self.workers = workers
        self.task = task
        self.args = args
        self.stopped = stopped
        self.pool: Executor | None = None
        #: Set to make the pool's running tasks end early (once `stopped()`).
        self.halt: Any = None
        self.broken = workers <= 1
        #: Items handled by the pool's processes so far.
        self.offloaded = 0
        self.pending: deque[tuple[list[Any], Future[list[T]] | None]] = deque()

    def submit(self, chunk: list[Any], *, last: bool = False) -> None:
        """Queue a chunk; a small folder's only chunk is parsed here, without a pool."""
        future = None
        if not self.broken and (self.pool is not None or not last):
            try:
                if self.pool is None:
                    self.pool, self.halt = _pool(self.workers)
                future = self.pool.submit(self.task, self.root, chunk, *self.args)
            except (OSError, ValueError, ImportError, RuntimeError):
                self.broken = True
        self.pending.append((chunk, future))

    def ready(self) -> Iterator[list[T]]:
        """Chunks already parsed, in order, without waiting."""
        while self.pending and (self.pending[0][1] is None or self.pending[0][1].done()):
            yield self._next()

    def results(self) -> Iterator[list[T]]:
        """Every chunk not taken yet, waiting for each; raises IndexStopped between chunks
        once `stopped()` (the chunks not started are cancelled by :meth:`close`)."""
        while self.pending:
            if self.stopped():
                raise IndexStopped
            yield self._next()

    def _next(self) -> list[T]:
        chunk, future = self.pending.popleft()
        if future is not None:
            try:
                result = self._wait(future)
            except IndexStopped:
                raise
            except Exception:  # a broken pool: parse what is left here
                self.broken = True
            else:
                self.offloaded += len(chunk)
                return result
        return self.task(self.root, chunk, *self.args)

    def _wait(self, future: Future[list[T]]) -> list[T]:
        """The result of a chunk. Once `stopped()`, the workers are told to end their tasks
        early, and IndexStopped is raised when this one has (its result would be partial)."""
        if self.stopped is _never:
            return future.result()
        while True:
            try:
                return future.result(timeout=_POLL)
            except TimeoutError:
                if self.stopped():
                    self.halt.set()  # close() waits for the workers to end their tasks
                    raise IndexStopped from None

    def close(self) -> None:
        """Cancel the chunks not started; wait for the running ones (each writes what it read
        to the cache in one transaction: nothing is left half written)."""
        if self.pool is not None:
            if self.stopped():
                self.halt.set()  # and the tasks already handed to a worker end at once
            self.pool.shutdown(wait=not self.broken, cancel_futures=True)


def _feed(
    parser: _Parser[T],
    items: Iterable[Any],
    absorb: Callable[[list[T]], None],
    stats: IndexStats,
    stopped: Stopped,
) -> list[Any]:
    """Hand the files to the parser in chunks while the scan goes on, taking in the chunks
    already done; returns the last, partial chunk (not submitted yet)."""
    todo: list[Any] = []
    for item in items:
        stats.files += 1
        todo.append(item)
        if len(todo) >= CHUNK:
            if stopped():
                raise IndexStopped
            parser.submit(todo)
            todo = []
            for chunk in parser.ready():
                absorb(chunk)
    return todo


def build_library(
    root: Path,
    *,
    cache: IndexCache | None,
    workers: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    batch_sink: Callable[[list[Article]], None] | None = None,
    defer_search: bool = False,
    details: bool = True,
    verify: bool = True,
    keep: bool = True,
    stopped: Stopped | None = None,
) -> IndexedLibrary:
    """Index every content file under `root`: cached entries where still valid, the rest read.

    A cached row is valid while the file's size, mtime_ns and inode are unchanged. Files are
    read in `workers` processes (default: one per CPU; 1 reads here), in chunks passed to
    `batch_sink` as they finish; `progress(done, total)` follows. Rows of vanished files are
    dropped. Failed files come back whole, with their problems.

    With a cache the library holds lean entries (:class:`IndexedArticle`) and asks the cache
    for backlinks. New files get a quick pass first (what lists need); `details` then reads
    them in full (related entries, search text) before returning — pass False and call
    :func:`complete_details` later to have a usable library sooner. `verify=False` takes a
    non-empty cache as it is, without looking at the folder (see :func:`stale_paths`).
    `defer_search` leaves the search text in the cache for `cache.index_pending()`.
    `keep=False` (with a cache and a `batch_sink`) hands every entry to the sink only: the
    caller builds its own library from the batches, and the one returned holds just the
    stats (no second copy of a large index).

    `stopped()` is asked while files are read (between chunks, and every 0.1 s while waiting
    for a worker): once it is True the build ends early and raises IndexStopped. The chunks
    not started are cancelled; the workers end theirs after the file they are on and store
    what they read (one transaction per chunk). A partial library is never returned, as it
    would look like the whole folder; the cache keeps what was indexed, and is marked not
    :meth:`~IndexCache.listed` until a build lists the folder to the end.
    """
    root = Path(root)
    halt = stopped or _never
    collecting = gc.isenabled()
    gc.disable()  # millions of new objects, none cyclic: collections would only slow this down
    try:
        if cache is None:
            return _build(root, workers, progress, batch_sink, halt)
        library = _build_cached(
            root, cache, workers, progress, batch_sink, defer_search, verify, halt, keep
        )
        if details:
            changed = complete_details(
                root, cache, workers=workers, defer_search=defer_search, stopped=halt
            )
            if halt():
                raise IndexStopped
            if keep:
                for listed in changed:
                    library.add(entry_of(library, cache, listed))
        return library
    finally:
        if collecting:
            gc.enable()


def _build(
    root: Path,
    workers: int | None,
    progress: Callable[[int, int | None], None] | None,
    batch_sink: Callable[[list[Article]], None] | None,
    stopped: Stopped,
) -> IndexedLibrary:
    """Without a cache: every file read in full, the library keeps whole summaries."""
    started = time.perf_counter()
    library = IndexedLibrary(root)
    stats = library.index_stats
    stats.workers = workers if workers is not None else (os.cpu_count() or 1)
    make_path = _Paths(root)
    strings: dict[str, str] = {}  # one object for equal titles and urls
    parser: _Parser[Parsed] = _Parser(root, stats.workers, _parse_chunk, False, stopped=stopped)
    total: int | None = None

    def absorb(chunk: list[Parsed]) -> None:
        articles = [
            decode_article(blob, make_path(rel), rel, strings) for rel, _, blob, _, _ in chunk
        ]
        for article in articles:
            library.add(article)
        stats.parsed += len(chunk)
        if batch_sink is not None and articles:
            batch_sink(articles)
        if progress is not None:
            progress(stats.parsed, total)

    try:
        todo = _feed(parser, scan(root), absorb, stats, stopped)
        if todo:
            parser.submit(todo, last=True)
        total = stats.files
        for chunk in parser.results():
            absorb(chunk)
    finally:
        parser.close()
    stats.in_workers = parser.offloaded
    stats.seconds = time.perf_counter() - started
    return library


def _source(root: Path, cache: IndexCache) -> DetailSource:
    """Where an index entry's details come from: the cache, else its file."""

    def load(entry: IndexedArticle) -> Article:
        blob = cache.detail(entry.relpath)
        if blob is not None:
            try:
                return decode_article(blob, entry.path, entry.relpath)
            except ValueError:
                pass
        return _as_summary(load_article(entry.path, root))

    return load


def _entry(root: Path, listed: Listed, source: DetailSource) -> Article:
    """The library entry of a listed file: lean for an article, whole for a failed file."""
    relpath, lean, blob = listed
    if lean is not None:
        return IndexedArticle.make(root, relpath, lean, source)
    assert blob is not None
    return decode_article(blob, root / relpath, relpath)


def _from_snapshot(
    library: IndexedLibrary,
    cache: IndexCache,
    source: DetailSource,
    keep: bool,
    batch_sink: Callable[[list[Article]], None] | None,
) -> bool:
    """Take every entry from the cache's snapshot (see model/snapshot.py) when it is current."""
    from .snapshot import read_snapshot

    file, state = cache.snapshot_file, cache.generation()
    if file is None or state is None:
        return False
    root = library.root
    make = IndexedArticle.make_many
    taken = read_snapshot(
        file,
        state,
        lambda relpaths, columns: list(make(root, relpaths, columns, source)),
        lambda relpath, blob: decode_article(blob, root / relpath, relpath),
    )
    if taken is None:
        return False
    articles, failed, tables = taken
    stats = library.index_stats
    stats.cached = stats.files = len(articles)
    stats.snapshot, stats.verified = True, False
    if keep:
        library.adopt(articles, failed, tables, ordered=True)  # the snapshot's order
    if batch_sink is not None and articles:
        batch_sink(list(articles.values()))
    return True


def _build_cached(
    root: Path,
    cache: IndexCache,
    workers: int | None,
    progress: Callable[[int, int | None], None] | None,
    batch_sink: Callable[[list[Article]], None] | None,
    defer_search: bool,
    verify: bool,
    stopped: Stopped,
    keep: bool = True,
) -> IndexedLibrary:
    started = time.perf_counter()
    library = IndexedLibrary(root, links=cache)
    stats = library.index_stats
    stats.workers = workers if workers is not None else (os.cpu_count() or 1)
    source = _source(root, cache)
    database = os.fspath(cache.database) if cache.database is not None else ""
    parser: _Parser[Listed] = _Parser(
        root, stats.workers, _quick_chunk, database, defer_search, stopped=stopped
    )
    make = IndexedArticle.make
    total: int | None = None

    def found(articles: list[Article]) -> None:
        if keep:
            library.extend(articles)
        if batch_sink is not None and articles:
            batch_sink(articles)
        if progress is not None:
            progress(stats.cached + stats.parsed, total)

    def absorb(chunk: list[Listed]) -> None:
        stats.parsed += len(chunk)
        found([_entry(root, listed, source) for listed in chunk])

    cold = cache.count() == 0
    listing = cold or verify  # rows of files not listed before are written below
    if listing:
        cache.set_listed(False)  # until the end: a stopped build leaves files out
    try:
        todo: list[str] = []
        if cold:
            # nothing to reuse: read while the scan goes on (the workers stat the files)
            listed = (relpath for relpath, _ in scan(root, stats=False))
            todo = _feed(parser, listed, absorb, stats, stopped)
        elif not verify and _from_snapshot(library, cache, source, keep, batch_sink):
            total = stats.files
        else:
            on_disk = dict(scan(root)) if verify else None
            stats.verified = verify
            total = len(on_disk) if on_disk is not None else cache.count()
            if progress is not None:
                progress(0, total)
            batch: list[Article] = []
            stale: list[str] = []
            for relpath, cached_stat, lean, blob in cache.entries():
                if on_disk is not None:
                    stat = on_disk.pop(relpath, _GONE)
                    if stat != cached_stat:
                        stats.removed += stat is _GONE
                        stale.append(relpath)
                        if stat is not _GONE:
                            on_disk[relpath] = stat  # read again below
                        continue
                if lean is not None:
                    article: Article = make(root, relpath, lean, source)
                else:
                    try:
                        article = decode_article(blob or b"", root / relpath, relpath)
                    except ValueError:
                        stale.append(relpath)
                        if on_disk is not None:
                            on_disk[relpath] = cached_stat
                        continue
                batch.append(article)
                if len(batch) >= CHUNK * 8:
                    if stopped():
                        raise IndexStopped
                    stats.cached += len(batch)
                    found(batch)
                    batch = []
            stats.cached += len(batch)
            found(batch)
            cache.delete(stale)  # changed and vanished files: what is read below is new
            names = list(on_disk) if on_disk is not None else []
            stats.files = total = stats.cached + len(names)
            for start in range(0, len(names), CHUNK):
                parser.submit(names[start : start + CHUNK], last=start + CHUNK >= len(names))
        if todo:
            parser.submit(todo, last=True)
        total = stats.files
        for chunk in parser.results():
            absorb(chunk)
    finally:
        parser.close()
    if listing:
        cache.set_listed(True)
    stats.in_workers = parser.offloaded
    stats.seconds = time.perf_counter() - started
    return library


def complete_details(
    root: Path,
    cache: IndexCache,
    *,
    workers: int | None = None,
    defer_search: bool = False,
    progress: Callable[[int, int], None] | None = None,
    stopped: Stopped | None = None,
) -> list[Listed]:
    """Read in full every file the quick pass only listed, storing its summary, related
    entries (for backlinks) and search text in the cache.

    Returns the files whose lean values changed on the full read (the caller updates its
    library with them: see :func:`entry_of`). Runs in `workers` processes that write to
    the cache database themselves, a chunk per transaction.

    `stopped()` is asked as in :func:`build_library`: once True, the work ends early and
    the changed files of the chunks done are returned. The files not read keep their quick
    rows (no details), which the next call reads.
    """
    halt = stopped or _never
    todo = cache.without_detail()
    if not todo or cache.database is None or halt():
        return []
    count = workers if workers is not None else (os.cpu_count() or 1)
    parser: _Parser[IndexRow] = _Parser(
        root, count, _detail_chunk, os.fspath(cache.database), defer_search, stopped=halt
    )
    changed: list[Listed] = []
    try:
        for start in range(0, len(todo), CHUNK):
            parser.submit(todo[start : start + CHUNK], last=start + CHUNK >= len(todo))
        for start, chunk in zip(range(0, len(todo), CHUNK), parser.results(), strict=False):
            changed += [(rel, lean, blob) for rel, _, lean, blob, _, _ in chunk]
            if progress is not None:
                progress(min(len(todo), start + CHUNK), len(todo))
    except IndexStopped:
        pass  # what was read is stored; the rest is read next time
    finally:
        parser.close()
    return changed


def entry_of(library: Library, cache: IndexCache, listed: Listed) -> Article:
    """The library entry for a file the detail pass re-read (see :func:`complete_details`)."""
    return _entry(library.root, listed, _source(library.root, cache))


def stale_paths(
    root: Path, cache: IndexCache, stopped: Stopped | None = None
) -> tuple[list[Path], list[Path]]:
    """What changed in the folder since the cache was written: (changed or new, deleted).

    The folder is listed and compared with the cache in a worker process (a second of
    stat calls and row reads that would otherwise take turns with the app's own thread),
    or here when no process can be had. Raises IndexStopped once `stopped()`, and
    StaleCheckFailed when the cache's rows cannot be read (then nothing is known).
    """
    if cache.database is None:
        found = _stale(os.fspath(root), cache.stats())
    else:
        parser: _Parser[tuple[str, bool]] = _Parser(
            root, 2, _stale_chunk, os.fspath(cache.database), stopped=stopped or _never
        )
        try:
            parser.submit([], last=False)  # one task, in a worker process if one can be had
            found = next(parser.results())  # a failure in the worker is tried again here
        finally:
            parser.close()
    changed = [root / relpath for relpath, gone in found if not gone]
    deleted = [root / relpath for relpath, gone in found if gone]
    return changed, deleted


class StaleCheckFailed(Exception):
    """The cache's rows could not be read to compare them with the folder."""


def _stale_chunk(root: str, _chunk: list[Any], database: str) -> list[tuple[str, bool]]:
    """(relpath, deleted) of every file whose row in the cache `database` is stale, new or
    gone."""
    if multiprocessing.parent_process() is not None:  # in a worker: the user's app first
        with contextlib.suppress(OSError):
            os.nice(10)
    try:
        cached = read_stats(Path(database))
    except sqlite3.Error as exc:
        # "nothing changed" would keep changes made while the app was closed out for good
        raise StaleCheckFailed(f"the index could not be compared with the folder ({exc})") from exc
    return _stale(root, cached)


def _stale(root: str, cached: dict[str, Stat]) -> list[tuple[str, bool]]:
    stale: list[tuple[str, bool]] = []
    for count, (relpath, stat) in enumerate(scan(Path(root))):
        if count % 1000 == 0 and _halted():
            return []  # the caller stopped waiting for this
        if cached.pop(relpath, _GONE) != stat:
            stale.append((relpath, False))
    stale += [(relpath, True) for relpath in cached]
    return stale


def update_paths(
    library: Library, cache: IndexCache | None, changed: list[Path], deleted: list[Path]
) -> list[str]:
    """Re-read changed files and drop deleted ones, in the Library and the cache.

    A changed path that no longer exists counts as deleted. Returns the keys touched.
    """
    root = library.root
    touched: list[str] = []
    gone: list[str] = []
    fresh: list[tuple[Stat, Article, bytes, str]] = []
    for path in changed:
        relpath = _relpath(path, root)
        if relpath is None:
            continue
        try:
            st = os.stat(root / relpath)
        except OSError:
            gone.append(relpath)
            continue
        stat = stat_key(st.st_size, st.st_mtime_ns, st.st_ino)
        path = root / relpath
        _, _, blob, text, ok = _parse_one(root, relpath, stat, path, cache is not None)
        article = decode_article(blob, path, relpath)
        library.add(article)
        touched.append(relpath)
        if ok:
            fresh.append((stat, article, blob, text))
    for path in deleted:
        relpath = _relpath(path, root)
        if relpath is not None:
            gone.append(relpath)
    for relpath in gone:
        library.remove(relpath)
        touched.append(relpath)
    if cache is not None:
        cache.delete(gone)
        cache.put_encoded(fresh)
    return touched


def _relpath(path: Path, root: Path) -> str | None:
    """The key of a content file path under root, or None for paths the index ignores."""
    try:
        rel = path.relative_to(root) if path.is_absolute() == root.is_absolute() else None
    except ValueError:
        rel = None
    if rel is None:
        try:
            rel = path.resolve().relative_to(root.resolve())
        except (ValueError, OSError):
            return None
    parts = rel.parts
    if not parts or not is_content_file(parts[-1]):
        return None
    if any(part.startswith((".", "__")) for part in parts[:-1]):
        return None
    return rel.as_posix()
