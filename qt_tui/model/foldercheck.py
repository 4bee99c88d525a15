"""The whole-folder check over per-file facts: what `qt-tui check` and the app's Problems run.

The folder-wide codes (duplicate-id, broken-link, self-link, duplicate-link, stale-link,
one-way-link, orphan, seo-title) are computed here from every file's cached facts
(:mod:`.checkfacts`), with a resolver that gives exactly what `Library.resolve` gives; the
per-file codes come with the facts. Neither a Library nor any file's text is held, and the
findings equal `Checker(Library.load(root)).check()`.
"""

from __future__ import annotations

import atexit
import bisect
import contextlib
import gc
import marshal
import os
import signal
import threading
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from pathlib import Path

from .article import Severity
from .checkcache import FolderFacts
from .checkfacts import (
    FINDINGS,
    ID,
    ID_LINE,
    ID_NORM,
    L_ID,
    L_ID_NORM,
    L_KEY,
    L_LINE,
    L_NUMBER,
    L_SUBJECT,
    L_TITLE,
    L_URL,
    LINKS,
    LOADED,
    SEO_KIND,
    SEO_LINE,
    SEO_PREFIX,
    SEO_SITE,
    SEO_TITLE,
    SEO_TITLE_LINE,
    SUBJECT,
    TITLE,
    URL,
    URL_KEY,
    Facts,
)
from .checks import CODES, Finding, link_name, seo_title_problem, site_from_counts
from .library import url_key

__all__ = [
    "CheckStopped",
    "CheckSuperseded",
    "CompactReport",
    "FolderCheck",
    "FolderReport",
    "Resolver",
    "check_folder",
    "decode_report",
    "encode_report",
    "folder_report",
    "report_elsewhere",
    "stop_checks",
]

#: One finding of a file, in sort order: (line or 0, code, message, line, severity).
Row = tuple[int, str, str, int | None, str]

_SEVERITY_OF = {str(s): s for s in Severity}


class Resolver:
    """Related entry -> index of the file it points at, as `Library.resolve` does: by id
    (several candidates: the one whose url matches the entry's, else the first by path),
    then by url, then by file name. Only loaded files are candidates."""

    def __init__(self, paths: list[str], facts: list[Facts]) -> None:
        self.paths = paths
        self.facts = facts
        self.by_id: dict[int | str, int] = {}
        #: ids of more than one file: every file, in path order
        self.shared_ids: dict[int | str, list[int]] = {}
        self._by_url: dict[str, int] | None = None
        self._by_stem: dict[str, int] | None = None
        by_id, shared = self.by_id, self.shared_ids
        for index, fact in enumerate(facts):
            if not fact[LOADED]:
                continue
            key = fact[ID_NORM]
            if key is None:
                continue
            first = by_id.setdefault(key, index)
            if first != index:
                shared.setdefault(key, [first]).append(index)

    def by_url(self) -> dict[str, int]:
        """`/learn/...` url key -> the first file (by path) with that url."""
        if self._by_url is None:
            index: dict[str, int] = {}
            for number, fact in enumerate(self.facts):
                if fact[LOADED] and fact[URL_KEY] is not None:
                    index.setdefault(fact[URL_KEY], number)
            self._by_url = index
        return self._by_url

    def by_stem(self) -> dict[str, int]:
        """Lowercased file name without `.md` -> the first file (by path) with it."""
        if self._by_stem is None:
            index: dict[str, int] = {}
            for number, (path, fact) in enumerate(zip(self.paths, self.facts, strict=True)):
                if fact[LOADED]:
                    index.setdefault(_stem(path).lower(), number)
            self._by_stem = index
        return self._by_stem

    def resolve(self, id_norm: int | str | None, url: str) -> int | None:
        """The index of the file an entry with this (normalised) id and url points at."""
        if id_norm is not None:
            first = self.by_id.get(id_norm)
            if first is not None:
                candidates = self.shared_ids.get(id_norm)
                if candidates is None:
                    return first
                wanted = url_key(url)
                if wanted is not None:
                    for index in candidates:
                        if self.facts[index][URL_KEY] == wanted:
                            return index
                return first
        key = url_key(url)
        if key is not None and (found := self.by_url().get(key)) is not None:
            return found
        stem = url.rstrip("/").rsplit("/", 1)[-1].lower()
        return self.by_stem().get(stem) if stem else None


def _stem(relpath: str) -> str:
    name = relpath.rsplit("/", 1)[-1]
    return name[:-3] if name.endswith(".md") else name


@dataclass
class FolderReport:
    """Every finding of one folder, per file (files sorted by path, findings in order).

    `paths`, `ids` and `rows` run in parallel; files without findings may be left out (a
    kept report holds only the files with findings), `files` counts them all.
    """

    root: Path
    #: Content files found (loaded or not) and articles that loaded.
    files: int
    articles: int
    paths: list[str]
    ids: list[object]
    rows: list[list[Row]]
    #: Findings per code (in the order of the code table) and per severity.
    counts: dict[str, int] = field(default_factory=dict)
    severities: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(self.counts.values())

    def blocking(self) -> bool:
        """True when any finding is an error or a warning (infos do not count)."""
        return bool(self.severities.get("error") or self.severities.get("warning"))

    def iter_findings(self) -> Iterator[Finding]:
        """Every finding as a Finding, sorted by path, line, code and message."""
        for path, ident, rows in zip(self.paths, self.ids, self.rows, strict=True):
            for _, code, message, line, severity in rows:
                yield Finding(path, line, code, _SEVERITY_OF[severity], message, ident)  # type: ignore[arg-type]

    def findings(self) -> list[Finding]:
        """Every finding as a sorted list of Findings."""
        return list(self.iter_findings())

    def with_findings_only(self) -> FolderReport:
        """The same report without the files that have no finding (smaller to send)."""
        kept = [i for i, rows in enumerate(self.rows) if rows]
        return FolderReport(
            root=self.root,
            files=self.files,
            articles=self.articles,
            paths=[self.paths[i] for i in kept],
            ids=[self.ids[i] for i in kept],
            rows=[self.rows[i] for i in kept],
            counts=self.counts,
            severities=self.severities,
        )


class CompactReport(Mapping[str, list[Finding]]):
    """A folder's findings as the app keeps them: by file path, packed.

    At 100,000 articles a report holds some 340,000 findings (mostly one-way-link infos);
    as Python objects they took 70 MB of the app's memory. Here every `BLOCK` files (sorted
    by path) are packed together, paths, ids and findings marshalled and compressed, and
    unpacked (a few blocks kept) only when a file's findings are asked for. A file is found
    by bisecting the first path of each block, then its block.
    """

    BLOCK = 256
    KEPT_BLOCKS = 8

    def __init__(
        self,
        files: int,
        articles: int,
        count: int,
        firsts: list[str],
        blocks: list[bytes],
        code_paths: dict[str, bytes],
        counts: dict[str, int],
        severities: dict[str, int],
    ) -> None:
        self.files = files
        self.articles = articles
        self.counts = counts
        self.severities = severities
        self._count = count
        self._firsts = firsts  # the first path of every block
        self._blocks = blocks
        self._code_paths = code_paths
        self._unpacked: dict[int, tuple[list[str], list[object], list[list[Row]]]] = {}

    @classmethod
    def of(cls, report: FolderReport) -> CompactReport:
        """Pack a report (files without findings are left out)."""
        kept = [i for i, rows in enumerate(report.rows) if rows]
        order = sorted(kept, key=lambda i: report.paths[i])
        paths = [report.paths[i] for i in order]
        ids = [report.ids[i] for i in order]
        rows = [report.rows[i] for i in order]
        size = cls.BLOCK
        blocks = [
            zlib.compress(
                marshal.dumps((paths[at : at + size], ids[at : at + size], rows[at : at + size])),
                1,
            )
            for at in range(0, len(rows), size)
        ]
        by_code: dict[str, array[int]] = {}
        for index, file_rows in enumerate(rows):
            for code in {row[1] for row in file_rows}:
                by_code.setdefault(code, array("I")).append(index)
        return cls(
            report.files,
            report.articles,
            len(paths),
            paths[::size],
            blocks,
            {code: numbers.tobytes() for code, numbers in by_code.items()},
            dict(report.counts),
            dict(report.severities),
        )

    def encode(self) -> bytes:
        """Plain marshalled data, to send from the check's process."""
        return marshal.dumps(
            (
                self.files,
                self.articles,
                self._count,
                self._firsts,
                self._blocks,
                self._code_paths,
                self.counts,
                self.severities,
            )
        )

    @classmethod
    def decode(cls, blob: bytes) -> CompactReport | None:
        """A report from `encode()`, or None if the data is not one."""
        try:
            data = marshal.loads(blob)
        except (ValueError, EOFError, TypeError):
            return None
        if type(data) is not tuple or len(data) != 8:
            return None
        kinds = (int, int, int, list, list, dict, dict, dict)
        if not all(type(value) is kind for value, kind in zip(data, kinds, strict=True)):
            return None
        files, articles, count, firsts, blocks, code_paths, counts, severities = data
        if len(firsts) != len(blocks) or len(blocks) != -(-count // cls.BLOCK):
            return None
        return cls(files, articles, count, firsts, blocks, code_paths, counts, severities)

    def _block(self, number: int) -> tuple[list[str], list[object], list[list[Row]]]:
        block = self._unpacked.get(number)
        if block is None:
            block = marshal.loads(zlib.decompress(self._blocks[number]))
            if len(self._unpacked) >= self.KEPT_BLOCKS:
                del self._unpacked[next(iter(self._unpacked))]
            self._unpacked[number] = block
        return block

    def _find(self, path: str) -> tuple[list[object], list[list[Row]], int] | None:
        number = bisect.bisect_right(self._firsts, path) - 1
        if number < 0:
            return None
        paths, ids, rows = self._block(number)
        offset = bisect.bisect_left(paths, path)
        if offset < len(paths) and paths[offset] == path:
            return ids, rows, offset
        return None

    def __getitem__(self, path: str) -> list[Finding]:
        found = self._find(path)
        if found is None:
            raise KeyError(path)
        ids, rows, offset = found
        ident = ids[offset]
        return [
            Finding(path, line, code, _SEVERITY_OF[severity], message, ident)  # type: ignore[arg-type]
            for _, code, message, line, severity in rows[offset]
        ]

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self._find(path) is not None

    def __iter__(self) -> Iterator[str]:
        for number in range(len(self._blocks)):
            yield from self._block(number)[0]

    def __len__(self) -> int:
        return self._count

    def paths_with(self, code: str) -> list[str]:
        """The paths of the files with at least one finding of `code`, sorted."""
        numbers = array("I")
        numbers.frombytes(self._code_paths.get(code, b""))
        size = self.BLOCK
        return [self._block(i // size)[0][i % size] for i in numbers]

    def findings(self) -> list[Finding]:
        """Every finding, sorted by path (then as the checks ordered them)."""
        return [finding for path in self for finding in self[path]]


def folder_report(root: Path) -> FolderReport:
    """check_folder(root) without the files that have no finding (what the app keeps)."""
    return check_folder(root).with_findings_only()


class CheckStopped(Exception):
    """A check running elsewhere was stopped (by :func:`stop_checks`) or not started
    (its caller said it was stopping) before it had a report."""


class CheckSuperseded(CheckStopped):
    """A check running elsewhere was stopped because a newer one started."""


_RUNNING: set[BaseProcess] = set()
_SUPERSEDED: set[BaseProcess] = set()
_STOPPED: set[BaseProcess] = set()
_LOCK = threading.Lock()


def _stop(process: BaseProcess) -> None:
    """Stop a check process together with its own worker processes."""
    if hasattr(os, "killpg") and process.pid is not None:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGTERM)
    process.terminate()


def _stop_running() -> None:
    """At exit: stop the checks still running elsewhere rather than wait for them."""
    with _LOCK:
        running = list(_RUNNING)
    for process in running:
        _stop(process)
        process.join(timeout=2)


def stop_checks() -> None:
    """Stop every check running elsewhere now, without waiting for the processes to end:
    the :func:`report_elsewhere` calls waiting for them raise CheckStopped.

    A check that starts later is not affected: pass `stopped` to report_elsewhere (and
    make it True before calling this) so that none starts once this process is stopping.
    """
    with _LOCK:
        running = list(_RUNNING)
        _STOPPED.update(running)
        for process in running:
            _stop(process)


def _report_into(root: Path, sender: Connection) -> None:
    """Child process: check the folder at a low priority, send the report."""
    if hasattr(os, "setpgid"):
        os.setpgid(0, 0)  # its workers and itself can be stopped together
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(10)  # the app that asked comes first
    sender.send_bytes(CompactReport.of(folder_report(root)).encode())
    sender.close()


def report_elsewhere(
    root: Path, context: BaseContext, stopped: Callable[[], bool] | None = None
) -> CompactReport | None:
    """folder_report(root), computed in a separate, low-priority process made by `context`
    (so that neither the work nor the facts weigh on this interpreter); None if that
    process failed. Starting one stops the checks still running (they raise
    CheckSuperseded), and a check still running when this process exits is stopped.

    Raises CheckStopped when :func:`stop_checks` stopped it, or without starting one when
    `stopped()` is True (asked under the lock stop_checks takes: a caller that makes it
    True before calling stop_checks never has a check left running)."""
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(  # type: ignore[attr-defined]
        target=_report_into, args=(root, sender), name="qt-tui-check"
    )
    with _LOCK:
        if stopped is not None and stopped():
            receiver.close()
            sender.close()
            raise CheckStopped
        older = list(_RUNNING)
        _SUPERSEDED.update(older)
        if not _RUNNING:
            atexit.unregister(_stop_running)
            atexit.register(_stop_running)
        try:
            process.start()
        finally:
            sender.close()
        _RUNNING.add(process)
    for previous in older:
        _stop(previous)
    try:
        data: bytes | None = receiver.recv_bytes()
    except (EOFError, OSError):
        data = None
    finally:
        receiver.close()
        process.join()
        with _LOCK:
            _RUNNING.discard(process)
            superseded = process in _SUPERSEDED
            halted = process in _STOPPED
            _SUPERSEDED.discard(process)
            _STOPPED.discard(process)
    if superseded:
        raise CheckSuperseded
    if halted:
        raise CheckStopped
    return CompactReport.decode(data) if data is not None else None


#: Bump whenever the folder-wide checks change: reports kept by older versions are not used.
REPORT_VERSION = 1


def check_folder(
    root: Path,
    select: set[str] | None = None,
    *,
    use_cache: bool = True,
    workers: int | None = None,
) -> FolderReport:
    """Check every content file under `root` (only `select`ed codes, if given).

    The report is kept beside the facts, for the folder's exact listing (every relpath with
    its size, mtime_ns and inode): checking an unchanged folder again reads only that. A
    report read back lists only the files that have findings.
    """
    with FolderCheck(root, select, use_cache=use_cache, workers=workers) as check:
        kept = check.kept()
        if kept is not None and check.confirmed():
            return kept
        return check.compute()


class FolderCheck:
    """One check of a folder, in steps: the kept report can be used (say, formatted) while
    the folder is still being listed, and is only trusted once :meth:`confirmed`."""

    def __init__(
        self,
        root: Path,
        select: set[str] | None = None,
        *,
        use_cache: bool = True,
        workers: int | None = None,
    ) -> None:
        self.root = Path(root)
        self.select = select
        codes = "*" if select is None else ",".join(sorted(select))
        self.name = f"{REPORT_VERSION}:{codes}"
        self.session = FolderFacts(self.root, use_cache=use_cache, workers=workers)
        self._kept_listing: str | None = None

    def __enter__(self) -> FolderCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()

    def kept(self) -> FolderReport | None:
        """The report kept by an earlier check with the same codes, not yet confirmed."""
        stored = self.session.kept_report(self.name)
        if stored is None:
            return None
        report = decode_report(self.root, stored[1])
        if report is not None:
            self._kept_listing = stored[0]
        return report

    def confirmed(self) -> bool:
        """True when the kept report was made for the folder exactly as it is now."""
        return self._kept_listing is not None and self._kept_listing == self.session.listing()[0]

    def compute(self) -> FolderReport:
        """Check the folder from its files' facts, and keep the report."""
        pairs = self.session.facts()
        collecting = gc.isenabled()
        gc.disable()
        try:
            report = _check(self.root, pairs, self.select)
            del pairs
            self.session.keep_report(self.name, encode_report(report.with_findings_only()))
        finally:
            if collecting:
                gc.enable()
        return report


def encode_report(report: FolderReport) -> bytes:
    """A report as plain marshalled data (without its root)."""
    return marshal.dumps(
        (
            report.files,
            report.articles,
            report.paths,
            report.ids,
            report.rows,
            report.counts,
            report.severities,
        )
    )


def decode_report(root: Path, blob: bytes) -> FolderReport | None:
    """A kept report, or None if it does not decode to one."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        data = marshal.loads(blob)
    except (ValueError, EOFError, TypeError):
        return None
    finally:
        if collecting:
            gc.enable()
    if type(data) is not tuple or len(data) != 7:
        return None
    files, articles, paths, ids, rows, counts, severities = data
    shapes = (
        (files, int),
        (articles, int),
        (paths, list),
        (ids, list),
        (rows, list),
        (counts, dict),
        (severities, dict),
    )
    if not all(type(value) is kind for value, kind in shapes):
        return None
    if not len(paths) == len(ids) == len(rows):
        return None
    return FolderReport(root, files, articles, paths, ids, rows, counts, severities)


def _check(root: Path, pairs: list[tuple[str, Facts]], select: set[str] | None) -> FolderReport:
    paths = [path for path, _ in pairs]
    facts = [fact for _, fact in pairs]
    del pairs
    count = len(facts)
    resolver = Resolver(paths, facts)
    shared_ids, resolve = resolver.shared_ids, resolver.resolve
    direct = resolver.by_id
    if shared_ids:  # ids of several files need the url to choose: mark them
        direct = dict(direct)
        for key in shared_ids:
            direct[key] = -1
    get = direct.get
    loaded = [index for index, fact in enumerate(facts) if fact[LOADED]]

    # pass 1: every entry's target, and the set of other files each file links to
    targets: list[list[int | None] | None] = [None] * count
    linked: list[set[int | None] | None] = [None] * count
    for index in loaded:
        links = facts[index][LINKS]
        if not links:
            continue
        found: list[int | None] = [get(link[L_ID_NORM]) for link in links]
        if None in found or -1 in found:
            found = [
                target
                if target is not None and target >= 0
                else resolve(link[L_ID_NORM], link[L_URL])
                for target, link in zip(found, links, strict=True)
            ]
        targets[index] = found
        others = set(found)
        others.discard(index)
        others.discard(None)
        linked[index] = others
    inbound: set[int | None] = set().union(*(others for others in linked if others))

    prefixes = Counter(facts[i][SEO_PREFIX] for i in loaded)
    following = Counter(facts[i][SEO_SITE] for i in loaded)
    prefixes.pop(None, None)
    site = site_from_counts(prefixes, following, len(loaded))
    every = select is None
    wanted: Callable[[str], bool] = (lambda code: True) if select is None else select.__contains__
    want_links = every or bool(select and select & _LINK_CODES)
    want_stale, want_one_way, want_self = (
        wanted("stale-link"),
        wanted("one-way-link"),
        wanted("self-link"),
    )
    want_duplicate_id, want_orphan = wanted("duplicate-id"), wanted("orphan")
    want_seo_title = site is not None and wanted("seo-title")
    rows: list[list[Row]] = []
    append_rows = rows.append
    for index, fact in enumerate(facts):
        out: list[Row] = [
            (line or 0, code, message, line, severity)
            for line, code, severity, message in fact[FINDINGS]
            if every or wanted(code)
        ]
        if fact[LOADED]:
            key = fact[ID_NORM]
            if want_duplicate_id and key is not None and key in shared_ids:
                sharing = ", ".join(paths[i] for i in shared_ids[key] if i != index)
                line = fact[ID_LINE]
                message = f"id {fact[ID]} is also used by {sharing}"
                out.append((line or 0, "duplicate-id", message, line, "error"))
            resolved = targets[index]
            if resolved is not None and want_links:
                links = fact[LINKS]
                if None in resolved or len(set(resolved)) != len(resolved):
                    _links(index, fact, resolved, facts, paths, linked, wanted, out)
                else:  # every entry resolves, none repeats: the usual case, kept lean
                    for link, target in zip(links, resolved, strict=True):
                        if target == index:
                            if want_self:
                                line = link[L_LINE]
                                message = f"{_key(link)} points at this article itself"
                                out.append((line or 0, "self-link", message, line, "warning"))
                            continue
                        other = facts[target]  # type: ignore[index]
                        if want_stale and (
                            link[L_TITLE] != other[TITLE]
                            or link[L_SUBJECT] != other[SUBJECT]
                            or link[L_URL] != other[URL]
                        ):
                            _stale(link, other, paths[target], out)  # type: ignore[index]
                        if want_one_way:
                            back = linked[target]  # type: ignore[index]
                            if back is None or index not in back:
                                line = link[L_LINE]
                                key = link[L_KEY]
                                if key is None:
                                    number = link[L_NUMBER]
                                    key = _KEYS[number] if number < _NKEYS else _key(link)
                                message = f"{key} links {paths[target]}, which does not link back"  # type: ignore[index]
                                out.append((line or 0, "one-way-link", message, line, "info"))
            if want_orphan and index not in inbound:
                out.append((0, "orphan", "no article of this folder links here", None, "info"))
            if want_seo_title and fact[SEO_SITE] != site:
                problem = seo_title_problem(fact[SEO_TITLE], fact[SEO_KIND], fact[SUBJECT], site)  # type: ignore[arg-type]
                if problem is not None:
                    message, on = problem
                    line = fact[SEO_LINE] if on == "seo" else fact[SEO_TITLE_LINE]
                    out.append((line or 0, "seo-title", message, line, "warning"))
        if len(out) > 1:
            out.sort()
        append_rows(out)
    counts: dict[str, int] = {}
    severities = {str(s): 0 for s in Severity}
    for out in rows:
        for row in out:
            code = row[1]
            counts[code] = counts.get(code, 0) + 1
            severities[row[4]] += 1
    ordered = {code: counts.pop(code) for code in CODES if code in counts}
    return FolderReport(
        root=root,
        files=count,
        articles=len(loaded),
        paths=paths,
        ids=[fact[ID] for fact in facts],
        rows=rows,
        counts=ordered | dict(sorted(counts.items())),
        severities=severities,
    )


_LINK_CODES = frozenset(
    ("duplicate-link", "broken-link", "self-link", "stale-link", "one-way-link")
)
_NKEYS = 100
_KEYS = [f"related_article{number}" for number in range(_NKEYS)]


def _stale(link: tuple[object, ...], other: Facts, target_path: str, out: list[Row]) -> None:
    """The stale-link finding of an entry whose copied title, subject or url differ."""
    names = [
        name
        for name, mine, theirs in (
            ("title", link[L_TITLE], other[TITLE]),
            ("subject", link[L_SUBJECT], other[SUBJECT]),
            ("url", link[L_URL], other[URL]),
        )
        if theirs and mine != theirs
    ]
    if names:
        line = link[L_LINE]
        message = f"{_key(link)} {', '.join(names)} differ from {target_path}"
        out.append((line or 0, "stale-link", message, line, "warning"))  # type: ignore[arg-type]


def _links(
    index: int,
    fact: Facts,
    found: list[int | None],
    facts: list[Facts],
    paths: list[str],
    linked: list[set[int | None] | None],
    want: Callable[[str], bool],
    out: list[Row],
) -> None:
    """The findings of one article's related entries, repeats and broken ones included
    (see `Checker._links`)."""
    links = fact[LINKS]
    repeats: dict[object, int] = {}
    for number, (link, target) in enumerate(zip(links, found, strict=True)):
        line = link[L_LINE]
        ident: object = target if target is not None else (link[L_ID_NORM], link[L_URL])
        first = repeats.setdefault(ident, number)
        if first != number:
            if want("duplicate-link"):
                what = paths[target] if target is not None else _name(link)
                message = f"{_key(link)} repeats {_key(links[first])} (same target: {what})"
                out.append((line or 0, "duplicate-link", message, line, "warning"))
            continue
        if target is None:
            if want("broken-link"):
                message = f"{_key(link)} ({_name(link)}) is not in this folder"
                out.append((line or 0, "broken-link", message, line, "warning"))
            continue
        if target == index:
            if want("self-link"):
                message = f"{_key(link)} points at this article itself"
                out.append((line or 0, "self-link", message, line, "warning"))
            continue
        if want("stale-link"):
            _stale(link, facts[target], paths[target], out)
        back = linked[target]
        if (back is None or index not in back) and want("one-way-link"):
            message = f"{_key(link)} links {paths[target]}, which does not link back"
            out.append((line or 0, "one-way-link", message, line, "info"))


def _key(link: tuple[object, ...]) -> str:
    key = link[L_KEY]
    return f"related_article{link[L_NUMBER]}" if key is None else str(key)


def _name(link: tuple[object, ...]) -> str:
    return link_name(link[L_ID], str(link[L_URL]))
