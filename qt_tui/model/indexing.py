"""Fast index summaries and the parallel, cache-aware scan that builds a Library.

A summary is the Article the full loader gives, minus the answer (the bulk of every file): the
front matter is read by a small parser for the plain layout real files use (`key: value`,
`>-` blocks, one level of nested mappings); anything else is cut and parsed by YAML, and any
doubt at all falls back to :func:`article_from_bytes`, so problems are reported exactly alike.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .answer import N_COMMANDS
from .article import NO_SUBJECT, Article
from .cache import IndexCache, Stat, decode_article, encode_article
from .library import Library
from .loading import MAX_FILE_BYTES, _decode, _fill, article_from_bytes, is_content_file
from .yamlsafe import YamlLoadError, load_mapping

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

_FAIL: Any = object()  # "the fast parser cannot say": fall back to YAML
_ENTRY = re.compile(r"( *)([A-Za-z_][A-Za-z0-9_]*):(?: (.*))?\Z")
_INDENT = re.compile(r" *")
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
_BLOCK_HEADERS = frozenset((">-", ">", "|-", "|"))
_RESOLVER = yaml.resolver.Resolver()
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
    if first.isascii() and first.isalpha():
        if raw in _SPECIAL_WORDS:
            return _BOOL.get(raw)
        return sys.intern(raw) if len(raw) <= 32 else raw
    if first in _INDICATORS and not (first == "-" and len(raw) > 1 and raw[1] != " "):
        return _FAIL
    tag = _RESOLVER.resolve(yaml.ScalarNode, raw, (True, False))
    if tag == _TAG + "str":
        return raw
    if tag == _TAG + "int" and _SIMPLE_INT.match(raw):
        return int(raw)
    if tag == _TAG + "float" and _SIMPLE_FLOAT.match(raw):
        return float(raw)
    if tag == _TAG + "null" and raw == "~":
        return None
    if tag == _TAG + "timestamp" and _SIMPLE_DATE.match(raw):
        try:
            return datetime.date.fromisoformat(raw)
        except ValueError:
            return _FAIL
    return _FAIL


def _block_lines(lines: list[str], i: int, parent: int, strict: bool) -> tuple[list[str], int]:
    """The content lines of a block scalar starting at `lines[i]`, and the index after it.

    Blank lines are returned as "". Raises ValueError for what this parser does not handle
    (`strict`: also more-indented lines, which fold differently) or YAML would reject.
    """
    n = len(lines)
    if i >= n:
        return [], i
    first = lines[i]
    indent = _INDENT.match(first).end()  # type: ignore[union-attr]
    if indent == len(first):
        raise ValueError("leading blank line")
    if indent <= parent:
        return [], i  # an empty block
    content: list[str] = []
    while i < n:
        line = lines[i]
        width = _INDENT.match(line).end()  # type: ignore[union-attr]
        if width == len(line) or line.isspace():
            if width > indent or (strict and not line.startswith(" " * width)):
                raise ValueError("blank line with content spaces")
            if "\t" in line:
                raise ValueError("tab in blank line")
            content.append("")
        elif width < indent:
            if width > parent:
                raise ValueError("bad indentation")
            break
        elif strict and (width > indent or line[indent] == "\t"):
            raise ValueError("more-indented line")
        else:
            content.append(line[indent:])
        i += 1
    while content and not content[-1]:
        content.pop()
        i -= 1
    return content, i


def _block_value(header: str, content: list[str]) -> str:
    """The value of a block scalar with `header` (>-, >, |-, |) from its content lines."""
    if not content:
        return ""
    if header[0] == "|":
        text = "\n".join(content)
    else:
        parts: list[str] = []
        blanks = 0
        for line in content:
            if not line:
                blanks += 1
                continue
            if parts:
                parts.append("\n" * blanks if blanks else " ")
            parts.append(line)
            blanks = 0
        text = "".join(parts)
    return text if header.endswith("-") else text + "\n"


def _next_indent(lines: list[str], i: int) -> int:
    """Indentation of the next non-blank line from `i` (0 at the end)."""
    for line in lines[i:]:
        if line and not line.isspace():
            return _INDENT.match(line).end()  # type: ignore[union-attr]
    return 0


def _value(raw: str, lines: list[str], i: int, indent: int) -> tuple[Any, int]:
    """The value after `key:` on line i-1 (raw is its rest); raises ValueError if unsure."""
    if not raw:
        if _next_indent(lines, i) > indent:
            raise ValueError("nested")
        return None, i
    if raw[0] in ">|":
        if raw not in _BLOCK_HEADERS:
            raise ValueError("block header")
        content, i = _block_lines(lines, i, indent, strict=True)
        return _block_value(raw, content), i
    value = _scalar(raw)
    if value is _FAIL:
        raise ValueError("scalar")
    return value, i


def _mapping(lines: list[str], i: int) -> tuple[dict[str, Any], int]:
    """A nested mapping at the indentation of `lines[i]`; raises ValueError if unsure."""
    indent = _next_indent(lines, i)
    data: dict[str, Any] = {}
    n = len(lines)
    while i < n:
        line = lines[i]
        if not line or line.isspace():
            i += 1
            continue
        if line[0] != " ":
            break
        match = _ENTRY.match(line)
        if match is None or len(match.group(1)) != indent or match.group(2) in _SPECIAL_WORDS:
            raise ValueError("nested entry")
        raw = (match.group(3) or "").rstrip(" ")
        value, i = _value(raw, lines, i + 1, indent)
        data[sys.intern(match.group(2))] = value
    return data, i


def _answer_block(raw: str, lines: list[str], i: int) -> tuple[str, int]:
    """The raw answer text (blocks joined roughly) and the index after it; ValueError if odd."""
    if not raw:
        raise ValueError("empty answer")
    if raw[0] in ">|":
        if raw not in _BLOCK_HEADERS:
            raise ValueError("answer header")
        content, i = _block_lines(lines, i, 0, strict=False)
        text = content[0] if len(content) == 1 else " ".join(content)
    else:
        value = _scalar(raw)
        if value is _FAIL or value is None:
            raise ValueError("answer scalar")
        text = value if isinstance(value, str) else str(value)
    if not text.strip():
        raise ValueError("blank answer")
    return text, i


def _fast_front_matter(lines: list[str]) -> tuple[dict[str, Any], str]:
    """Front matter without its answer, and the raw answer; ValueError when unsure."""
    data: dict[str, Any] = {}
    answer: str | None = None
    seen: dict[str, str] = {}
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if not line or line.isspace():
            i += 1
            continue
        match = _ENTRY.match(line)
        if match is None or match.group(1) or match.group(2) in _SPECIAL_WORDS:
            raise ValueError("top-level entry")
        key = match.group(2)
        raw = (match.group(3) or "").rstrip(" ")
        i += 1
        if key == "answer":
            if answer is not None:
                raise ValueError("two answers")
            answer, i = _answer_block(raw, lines, i)
            continue
        if not raw and _next_indent(lines, i) > 0:
            value, i = _mapping(lines, i)
        else:
            value, i = _value(raw, lines, i, 0)
            if isinstance(value, str) and len(value) > 32:
                value = seen.setdefault(value, value)  # title == article_title == question
        data[sys.intern(key)] = value
    if answer is None:
        raise ValueError("no answer")
    return data, answer


def _cut_front_matter(lines: list[str]) -> tuple[str, str]:
    """The front matter text with its (valid) answer block cut out, and the raw answer."""
    starts = [k for k, line in enumerate(lines) if line.startswith("answer:")]
    if len(starts) != 1:
        raise ValueError("answer key")
    start = starts[0]
    match = _ENTRY.match(lines[start])
    if match is None:
        raise ValueError("answer line")
    answer, end = _answer_block((match.group(3) or "").rstrip(" "), lines, start + 1)
    return "\n".join(lines[:start] + lines[end:]), answer


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
    text, problem = _decode(data)
    split = _split_fast(text) if problem is None and text is not None else None
    if split is None or _NOT_PLAIN_YAML.search(split[0]) is not None:
        full = article_from_bytes(data, path, root)
        return _as_summary(full), plain_text(full.answer)
    lines = split[0].split("\n")
    try:
        front_matter, answer = _fast_front_matter(lines)
    except ValueError:
        try:
            cut, answer = _cut_front_matter(lines)
            front_matter = load_mapping(cut, first_line=2)
        except (ValueError, YamlLoadError):
            full = article_from_bytes(data, path, root)
            return _as_summary(full), plain_text(full.answer)
    try:
        relpath = path.relative_to(root).as_posix()
    except ValueError:
        relpath = path.name
    parts = relpath.split("/")
    folder = parts[0] if len(parts) > 1 else None
    article = Article(path=path, relpath=relpath, title=path.stem, file_name=path.name)
    article.subject = folder or NO_SUBJECT
    _fill(article, front_matter, "", folder)
    article.partial = True
    return article, plain_text(answer)


def summary_from_bytes(data: bytes, path: Path, root: Path) -> Article:
    """The Article article_from_bytes gives, without its answer (`partial=True`).

    `answer` is "" and `front_matter` has no `answer` key; every other field and every
    problem is the same. Files that do not load at all come back whole, with their problems.
    """
    return summarise(data, path, root)[0]


# -- plain text for search --------------------------------------------------------------------

_N_NAMES = "|".join(sorted((name for name in N_COMMANDS if name.startswith("n")), key=len)[::-1])
_MARKUP = re.compile(
    r"\\(?:(?:" + _N_NAMES + r")(?![A-Za-z])|[A-Za-z]+|.)|[*_`#|>~$^{}\[\]=<]+|-{2,}|&nbsp;",
    re.DOTALL,
)


def plain_text(raw_answer: str) -> str:
    """A rough plain text of a raw answer for the search index (never displayed as content).

    `\\n` escapes become spaces, LaTeX commands and Markdown punctuation are dropped.
    """
    return " ".join(_MARKUP.sub(" ", raw_answer).split())


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
                            files.append((prefix + name, (st.st_size, st.st_mtime_ns, st.st_ino)))
                        except OSError:
                            files.append((prefix + name, None))
        except OSError:
            continue
        yield from files
        for name in sorted(subdirs, reverse=True):
            stack.append((os.path.join(folder, name), f"{prefix}{name}/"))


# -- parsing in workers -----------------------------------------------------------------------

#: One parsed file: relpath, stat, encoded summary, plain answer text, whether to cache it.
Parsed = tuple[str, Stat | None, bytes, str, bool]


def _parse_one(root: Path, relpath: str, stat: Stat | None) -> Parsed:
    path = root / relpath
    try:
        if stat is None or stat[0] > MAX_FILE_BYTES:
            raise OSError
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise OSError
    except OSError:
        from .loading import load_article

        article = _as_summary(load_article(path, root))
        cacheable = stat is not None and stat[0] > MAX_FILE_BYTES
        return relpath, stat, encode_article(article), "", cacheable
    article, plain = summarise(data, path, root)
    return relpath, stat, encode_article(article), plain, True


def _parse_chunk(root: str, items: list[tuple[str, Stat | None]]) -> list[Parsed]:
    """Worker task: parse a chunk of files into encoded summaries."""
    base = Path(root)
    return [_parse_one(base, relpath, stat) for relpath, stat in items]


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
    timings: dict[str, float] = field(default_factory=dict)


class IndexedLibrary(Library):
    """A Library built by :func:`build_library`, with what the build did in `index_stats`."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.index_stats = IndexStats()


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


def _pool(workers: int) -> Executor:
    """A process pool; fork when this process has no other threads (fast), else forkserver."""
    methods = multiprocessing.get_all_start_methods()
    method = "fork" if threading.active_count() == 1 and "fork" in methods else None
    if method is None and "forkserver" in methods:
        method = "forkserver"
    context = multiprocessing.get_context(method)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def _chunks(items: Iterable[tuple[str, Stat | None]]) -> Iterator[list[tuple[str, Stat | None]]]:
    chunk: list[tuple[str, Stat | None]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _parse_all(
    root: Path, todo: list[tuple[str, Stat | None]], workers: int
) -> Iterator[list[Parsed]]:
    """Parsed chunks, in a process pool when it is worth it, else in this process."""
    chunks = list(_chunks(todo))
    if workers > 1 and len(chunks) > 1:
        try:
            pool = _pool(workers)
        except (OSError, ValueError, ImportError):
            pool = None
        if pool is not None:
            done = 0
            try:
                futures: list[Future[list[Parsed]]] = [
                    pool.submit(_parse_chunk, os.fspath(root), chunk) for chunk in chunks
                ]
                for done, future in enumerate(futures, start=1):  # noqa: B007
                    yield future.result()
                return
            except Exception:  # a broken pool: parse what is left here
                chunks = chunks[done:]
            finally:
                pool.shutdown(wait=False, cancel_futures=True)
    for chunk in chunks:
        yield _parse_chunk(os.fspath(root), chunk)


def build_library(
    root: Path,
    *,
    cache: IndexCache | None,
    workers: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    batch_sink: Callable[[list[Article]], None] | None = None,
) -> IndexedLibrary:
    """Index every content file under `root`: cached summaries where still valid, the rest parsed.

    A cached row is valid while the file's size, mtime_ns and inode are unchanged. Files are
    parsed in `workers` processes (default: one per CPU; 1 parses here), in chunks passed to
    `batch_sink` as they finish; `progress(done, total)` follows. New rows go to the cache
    (search text too), rows of vanished files are dropped. Loaded articles are summaries
    (`partial=True`); files that failed are whole, with their problems. What was done is in
    the result's `index_stats`.
    """
    started = time.perf_counter()
    library = IndexedLibrary(root)
    stats = library.index_stats
    timings = stats.timings
    make_path = _Paths(root)
    cached_rows = cache.rows() if cache is not None else {}
    timings["cache_read"] = time.perf_counter() - started

    found = list(scan(root))
    timings["scan"] = time.perf_counter() - started - timings["cache_read"]
    total = len(found)
    stats.files = total
    todo: list[tuple[str, Stat | None]] = []
    batch: list[Article] = []
    add = library.add
    for relpath, stat in found:
        row = cached_rows.pop(relpath, None)
        if row is not None and stat is not None and row[0] == stat:
            try:
                article = decode_article(row[1], make_path(relpath), relpath)
            except ValueError:
                todo.append((relpath, stat))
                continue
            add(article)
            batch.append(article)
        else:
            todo.append((relpath, stat))
    stats.cached = len(batch)
    if batch_sink is not None and batch:
        batch_sink(batch)
    if progress is not None:
        progress(stats.cached, total)
    timings["cached"] = time.perf_counter() - started - timings["scan"] - timings["cache_read"]

    gone = list(cached_rows)
    stats.removed = len(gone)
    if cache is not None and gone:
        cache.delete(gone)
    known = set(gone)  # rows whose files changed still exist in the cache
    count = workers if workers is not None else (os.cpu_count() or 1)
    stats.workers = count
    done = stats.cached
    for chunk in _parse_all(root, todo, count):
        articles = [decode_article(blob, make_path(rel), rel) for rel, _, blob, _, _ in chunk]
        for article in articles:
            add(article)
        if cache is not None:
            cache.put_encoded(
                [(rel, stat, blob, plain) for rel, stat, blob, plain, ok in chunk if ok and stat],
                replace=bool(known) or True,
            )
        done += len(chunk)
        stats.parsed += len(chunk)
        if batch_sink is not None:
            batch_sink(articles)
        if progress is not None:
            progress(done, total)
    if cache is not None:
        cache.commit()
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
    fresh: list[tuple[str, Stat, bytes, str]] = []
    for path in changed:
        relpath = _relpath(path, root)
        if relpath is None:
            continue
        try:
            st = os.stat(root / relpath)
        except OSError:
            gone.append(relpath)
            continue
        stat = (st.st_size, st.st_mtime_ns, st.st_ino)
        rel, _, blob, plain, ok = _parse_one(root, relpath, stat)
        library.add(decode_article(blob, root / rel, rel))
        touched.append(rel)
        if ok:
            fresh.append((rel, stat, blob, plain))
    for path in deleted:
        relpath = _relpath(path, root)
        if relpath is not None:
            gone.append(relpath)
    for relpath in gone:
        library.remove(relpath)
        touched.append(relpath)
    if cache is not None:
        if gone:
            cache.delete(gone)
        if fresh:
            cache.put_encoded(fresh)
        cache.commit()
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
