"""The whole-folder check over per-file facts: what `qt-tui check` and the app's Problems run.

The folder-wide codes (duplicate-id, broken-link, self-link, duplicate-link, stale-link,
one-way-link, orphan, seo-title) are computed here from every file's cached facts
(:mod:`.checkfacts`), with a resolver that gives exactly what `Library.resolve` gives; the
per-file codes come with the facts. Neither a Library nor any file's text is held, and the
findings equal `Checker(Library.load(root)).check()`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .article import Severity
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
    SEO_TITLE,
    SEO_TITLE_LINE,
    SUBJECT,
    TITLE,
    URL,
    URL_KEY,
    Facts,
    folder_facts,
)
from .checks import CODES, Finding, link_name, seo_title_problem, site_of
from .library import url_key

__all__ = ["FolderReport", "Resolver", "check_folder"]

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
    """Every finding of one folder, per file (files sorted by path, findings in order)."""

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


def check_folder(
    root: Path,
    select: set[str] | None = None,
    *,
    use_cache: bool = True,
    workers: int | None = None,
) -> FolderReport:
    """Check every content file under `root` (only `select`ed codes, if given)."""
    pairs = folder_facts(root, use_cache=use_cache, workers=workers)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _check(Path(root), pairs, select)
    finally:
        if collecting:
            gc.enable()


def _check(root: Path, pairs: list[tuple[str, Facts]], select: set[str] | None) -> FolderReport:
    paths = [path for path, _ in pairs]
    facts = [fact for _, fact in pairs]
    del pairs
    count = len(facts)
    resolver = Resolver(paths, facts)
    by_id, shared_ids, resolve = resolver.by_id, resolver.shared_ids, resolver.resolve
    loaded = [index for index, fact in enumerate(facts) if fact[LOADED]]

    # pass 1: every entry's target, the links between files, who is linked at all
    targets: list[tuple[int | None, ...] | None] = [None] * count
    edges: set[int] = set()
    inbound = bytearray(count)
    for index in loaded:
        links = facts[index][LINKS]
        if not links:
            continue
        found: list[int | None] = []
        for link in links:
            key = link[L_ID_NORM]
            target = by_id.get(key) if key is not None else None
            if target is None or key in shared_ids:
                target = resolve(key, link[L_URL])
            found.append(target)
            if target is not None and target != index:
                edges.add(index * count + target)
                inbound[target] = 1
        targets[index] = tuple(found)

    site = site_of((facts[i][SEO_TITLE], facts[i][SUBJECT]) for i in loaded)
    wanted: Callable[[str], bool] = (lambda code: True) if select is None else select.__contains__
    want_links = select is None or bool(
        select & {"duplicate-link", "broken-link", "self-link", "stale-link", "one-way-link"}
    )
    rows: list[list[Row]] = []
    counts: dict[str, int] = {}
    severities = {str(s): 0 for s in Severity}
    for index, fact in enumerate(facts):
        out: list[Row] = []
        for line, code, severity, message in fact[FINDINGS]:
            if wanted(code):
                out.append((line or 0, code, message, line, severity))
        if fact[LOADED]:
            key = fact[ID_NORM]
            if key is not None and key in shared_ids and wanted("duplicate-id"):
                others = ", ".join(paths[i] for i in shared_ids[key] if i != index)
                line = fact[ID_LINE]
                message = f"id {fact[ID]} is also used by {others}"
                out.append((line or 0, "duplicate-id", message, line, "error"))
            resolved = targets[index]
            if resolved is not None and want_links:
                _links(index, fact, resolved, facts, paths, edges, count, wanted, out)
            if not inbound[index] and wanted("orphan"):
                out.append((0, "orphan", "no article of this folder links here", None, "info"))
            if site is not None and wanted("seo-title"):
                problem = seo_title_problem(fact[SEO_TITLE], fact[SEO_KIND], fact[SUBJECT], site)
                if problem is not None:
                    message, on = problem
                    line = fact[SEO_LINE] if on == "seo" else fact[SEO_TITLE_LINE]
                    out.append((line or 0, "seo-title", message, line, "warning"))
        if len(out) > 1:
            out.sort()
        for row in out:
            code, severity = row[1], row[4]
            counts[code] = counts.get(code, 0) + 1
            severities[severity] += 1
        rows.append(out)
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


def _links(
    index: int,
    fact: Facts,
    found: tuple[int | None, ...],
    facts: list[Facts],
    paths: list[str],
    edges: set[int],
    count: int,
    want: Callable[[str], bool],
    out: list[Row],
) -> None:
    """The findings of one article's related entries (see `Checker._links`)."""
    links = fact[LINKS]
    repeats: dict[object, int] | None = None
    if None in found or len(set(found)) != len(found):
        repeats = {}
    for number, (link, target) in enumerate(zip(links, found, strict=True)):
        line = link[L_LINE]
        if repeats is not None:
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
        other = facts[target]
        if (
            link[L_TITLE] != other[TITLE]
            or link[L_SUBJECT] != other[SUBJECT]
            or link[L_URL] != other[URL]
        ) and want("stale-link"):
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
                message = f"{_key(link)} {', '.join(names)} differ from {paths[target]}"
                out.append((line or 0, "stale-link", message, line, "warning"))
        if target * count + index not in edges and want("one-way-link"):
            message = f"{_key(link)} links {paths[target]}, which does not link back"
            out.append((line or 0, "one-way-link", message, line, "info"))


def _key(link: tuple[object, ...]) -> str:
    key = link[L_KEY]
    return f"related_article{link[L_NUMBER]}" if key is None else str(key)


def _name(link: tuple[object, ...]) -> str:
    return link_name(link[L_ID], str(link[L_URL]))
