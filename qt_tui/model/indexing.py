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

import datetime
import gc
import multiprocessing
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .article import NO_SUBJECT, Article
from .cache import IndexCache, Stat, decode_article, encode_article, stat_key
from .library import Library
from .loading import (
    MAX_FILE_BYTES,
    _decode,
    _fill,
    article_from_bytes,
    is_content_file,
    load_article,
)

__all__ = [
    "IndexStats",
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

_FAIL: Any = object()  # "the fast parser cannot say": fall back to the full loader
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
_BOOL = {
    word: value
    for words, value in (("yes true on", True), ("no false off", False))
    for lower in words.split()
    for word in (lower, lower.capitalize(), lower.upper())
}
_NULL = {"null", "Null", "NULL", "~"}
_SPECIAL_WORDS = frozenset(_BOOL) | _NULL
_SIMPLE_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_SIMPLE_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]+\Z")
_SIMPLE_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
#: First characters for which YAML tries implicit types other than bool and null.
_RESOLVED_FIRST = frozenset("+-.0123456789<=~")
_BLOCK_HEADERS = frozenset((">-", ">", "|-", "|"))
_RESOLVE: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = (
    yaml.resolver.Resolver().resolve
)
_TAG = "tag:yaml.org,2002:"

# -- fast front matter ------------------------------------------------------------------------


def _scalar(raw: str) -> Any:
    """A one-line plain or quoted YAML scalar as the safe loader builds it, or _FAIL."""
    first = raw[0]
    if first == '"':
        inner = raw[1:-1]
        ok = len(raw) > 1 and raw[-1] == '"' and '"' not in inner and "\\" not in inner
        return inner if ok else _FAIL
    if first == "'":
        inner = raw[1:-1]
        ok = len(raw) > 1 and raw[-1] == "'" and "'" not in inner.replace("''", "")
        return inner.replace("''", "'") if ok else _FAIL
    if ": " in raw or " #" in raw or raw[-1] == ":" or "\t" in raw:
        return _FAIL
    if first in _RESOLVED_FIRST:  # numbers, dates, ~ and friends
        if _SIMPLE_INT.match(raw):
            return int(raw)
        if _SIMPLE_FLOAT.match(raw):
            return float(raw)
        if _SIMPLE_DATE.match(raw):
            try:
                return datetime.date.fromisoformat(raw)
            except ValueError:
                return _FAIL
        if first == "-" and raw[1:2] in ("", " "):
            return _FAIL  # a sequence entry
        tag = _RESOLVE(yaml.ScalarNode, raw, (True, False))
        if tag == _TAG + "str":
            return raw
        return None if tag == _TAG + "null" and raw == "~" else _FAIL
    if first in _INDICATORS:
        return _FAIL
    if raw in _SPECIAL_WORDS:
        return _BOOL.get(raw)
    return sys.intern(raw) if len(raw) <= 32 else raw


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


def scan(root: Path) -> Iterator[tuple[str, Stat | None]]:
    """(relpath, (size, mtime_ns, inode)) of every content file, as loading.discover finds them.

    Hidden and `__` folders are skipped, symlinked folders followed once; the stat is None
    when the file cannot be stat'ed (the loader then reports why).
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
    return [_parse_one(base, rel, stat, make_path(rel), want_text) for rel, stat in items]


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


class IndexedLibrary(Library):
    """A Library built by :func:`build_library`, with what the build did in `index_stats`."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.index_stats = IndexStats()


def _pool(workers: int) -> Executor:
    """A process pool; fork when this process has no other threads (fast), else forkserver."""
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if threading.active_count() == 1 and "fork" in methods else None
    if method is None and "forkserver" in methods:
        method = "forkserver"
    context = multiprocessing.get_context(method)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=gc.disable)


class _Parser:
    """Parses chunks of files in a process pool (made on first use), or here when it fails."""

    def __init__(self, root: Path, workers: int, want_text: bool) -> None:
        self.root = os.fspath(root)
        self.workers = workers
        self.want_text = want_text
        self.pool: Executor | None = None
        self.broken = workers <= 1
        self.pending: deque[tuple[list[tuple[str, Stat | None]], Future[list[Parsed]] | None]]
        self.pending = deque()

    def submit(self, chunk: list[tuple[str, Stat | None]], *, last: bool = False) -> None:
        """Queue a chunk; a small folder's only chunk is parsed here, without a pool."""
        future = None
        if not self.broken and (self.pool is not None or not last):
            try:
                if self.pool is None:
                    self.pool = _pool(self.workers)
                future = self.pool.submit(_parse_chunk, self.root, chunk, self.want_text)
            except (OSError, ValueError, ImportError, RuntimeError):
                self.broken = True
        self.pending.append((chunk, future))

    def ready(self) -> Iterator[list[Parsed]]:
        """Chunks already parsed, in order, without waiting."""
        while self.pending and (self.pending[0][1] is None or self.pending[0][1].done()):
            yield self._next()

    def results(self) -> Iterator[list[Parsed]]:
        """Every chunk not taken yet, waiting for each."""
        while self.pending:
            yield self._next()

    def _next(self) -> list[Parsed]:
        chunk, future = self.pending.popleft()
        if future is not None:
            try:
                return future.result()
            except Exception:  # a broken pool: parse what is left here
                self.broken = True
        return _parse_chunk(self.root, chunk, self.want_text)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=not self.broken, cancel_futures=True)


def build_library(
    root: Path,
    *,
    cache: IndexCache | None,
    workers: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    batch_sink: Callable[[list[Article]], None] | None = None,
    defer_search: bool = False,
) -> IndexedLibrary:
    """Index every content file under `root`: cached summaries where still valid, the rest parsed.

    A cached row is valid while the file's size, mtime_ns and inode are unchanged. Files are
    parsed in `workers` processes (default: one per CPU; 1 parses here), in chunks passed to
    `batch_sink` as they finish; `progress(done, total)` follows. New rows go to the cache
    (search text too), rows of vanished files are dropped. Loaded articles are summaries
    (`partial=True`); files that failed are whole, with their problems. What was done is in
    the result's `index_stats`.

    `defer_search` leaves the search text of parsed files in the cache for
    `cache.index_pending()` (e.g. in a background thread): indexing it is about a third of a
    cold build with a cache.
    """
    root = Path(root)
    collecting = gc.isenabled()
    gc.disable()  # millions of new objects, none cyclic: collections would only slow this down
    try:
        return _build(root, cache, workers, progress, batch_sink, defer_search)
    finally:
        if collecting:
            gc.enable()


def _build(
    root: Path,
    cache: IndexCache | None,
    workers: int | None,
    progress: Callable[[int, int | None], None] | None,
    batch_sink: Callable[[list[Article]], None] | None,
    defer_search: bool,
) -> IndexedLibrary:
    started = time.perf_counter()
    library = IndexedLibrary(root)
    stats = library.index_stats
    stats.workers = workers if workers is not None else (os.cpu_count() or 1)
    make_path = _Paths(root)
    strings: dict[str, str] = {}  # one object for equal titles and urls
    parser = _Parser(root, stats.workers, want_text=cache is not None)
    add = library.add
    total: int | None = None

    def found(articles: list[Article]) -> None:
        if batch_sink is not None and articles:
            batch_sink(articles)
        if progress is not None:
            progress(stats.cached + stats.parsed, total)

    def absorb(chunk: list[Parsed]) -> None:
        articles = [
            decode_article(blob, make_path(rel), rel, strings) for rel, _, blob, _, _ in chunk
        ]
        for article in articles:
            add(article)
        if cache is not None:
            rows = zip(chunk, articles, strict=True)
            cache.put_encoded(
                [(st, a, blob, text) for (_, st, blob, text, ok), a in rows if ok and st],
                replace=False,
                defer=defer_search,
            )
        stats.parsed += len(chunk)
        found(articles)

    def cached(articles: list[Article]) -> None:
        stats.cached += len(articles)
        found(articles)

    try:
        todo: list[tuple[str, Stat | None]] = []
        if cache is None or cache.count() == 0:
            # nothing to reuse: parse while the scan goes on
            for item in scan(root):
                stats.files += 1
                todo.append(item)
                if len(todo) >= CHUNK:
                    parser.submit(todo)
                    todo = []
                    for chunk in parser.ready():
                        absorb(chunk)
        else:
            on_disk = dict(scan(root))
            stats.files = total = len(on_disk)
            batch: list[Article] = []
            stale: list[str] = []
            for relpath, cached_stat, blob in cache.iter_rows():
                stat = on_disk.get(relpath, _GONE)
                if stat == cached_stat:
                    try:
                        article = decode_article(blob, make_path(relpath), relpath, strings)
                    except ValueError:
                        pass
                    else:
                        add(article)
                        batch.append(article)
                        del on_disk[relpath]
                        if len(batch) >= CHUNK * 4:
                            cached(batch)
                            batch = []
                        continue
                if stat is _GONE:
                    stats.removed += 1
                stale.append(relpath)
            cached(batch)
            cache.delete(stale)  # changed and vanished files: what is parsed below is new
            items = list(on_disk.items())
            del on_disk
            for start in range(0, len(items), CHUNK):
                parser.submit(items[start : start + CHUNK], last=start + CHUNK >= len(items))
        if todo:
            parser.submit(todo, last=True)
        total = stats.files
        for chunk in parser.results():
            absorb(chunk)
    finally:
        parser.close()
    stats.seconds = time.perf_counter() - started
    return library


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
