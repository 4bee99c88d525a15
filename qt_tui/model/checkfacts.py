"""Per-file check facts: what `qt-tui check` needs from one file, computed once and cached.

A file's facts are a pure function of its bytes and relative path: the findings that depend
on that file alone (loader problems, missing fields, types, titles, SEO lengths, the url),
each with its line, plus the compact data the folder-wide checks need (id, title, subject,
url, SEO title and every related entry with its line). They are plain tuples, kept with
:mod:`marshal` by :mod:`.checkcache`, one row per file, valid while the file's size, mtime_ns
and inode are unchanged: a second check reads no unchanged article file, and holds no file's
text. Fixes never use them.
"""

from __future__ import annotations

import gc
import marshal
import multiprocessing
import os
import re
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from . import loading
from .article import Article
from .cache import Stat
from .checks import (
    CODES,
    key_lines,
    line_of,
    local_checks,
    seo_kind,
    seo_site_parts,
    seo_title,
)
from .indexing import summary_from_bytes
from .library import id_key, url_key

__all__ = [
    "FACTS_VERSION",
    "FIELDS",
    "Facts",
    "compute",
    "facts_of_article",
    "file_facts",
    "id_norm",
]

#: Bump whenever the facts or the checks that produce them change: older rows are rebuilt.
FACTS_VERSION = 3

#: One file's facts (see :func:`file_facts` for the layout).
Facts = tuple[Any, ...]

# Field positions in a Facts tuple.
LOADED, ID, ID_NORM, TITLE, SUBJECT, URL, URL_KEY, SEO_TITLE, SEO_KIND = range(9)
SEO_LINE, SEO_TITLE_LINE, ID_LINE, FINDINGS, LINKS, SEO_PREFIX, SEO_SITE = range(9, 16)
FIELDS = 16
# Field positions in a related entry of Facts[LINKS].
L_KEY, L_NUMBER, L_ID, L_ID_NORM, L_TITLE, L_SUBJECT, L_URL, L_LINE = range(8)

#: Files handed to one worker task.
CHUNK = 500
#: Fewer missing files than this are computed here, without starting a process pool.
POOL_THRESHOLD = 400


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


def compute(
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
