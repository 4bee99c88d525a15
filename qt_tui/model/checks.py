"""Folder checks: what is wrong or worth a look in a library, as findings with stable codes.

Every finding has a code (stable: scripts may rely on it), a severity and, where known, the
1-based line of the front matter key it is about.

| code            | severity | what                                                             |
| --------------- | -------- | ---------------------------------------------------------------- |
| parse-error     | error    | not loadable: bad YAML, not a mapping, unterminated front        |
|                 |          | matter, not UTF-8, binary, unreadable, empty, too large          |
| no-front-matter | error    | the file does not start with a `---` line                        |
| duplicate-id    | error    | another file has the same id (the message names it)              |
| missing-field   | error    | id, title, subject or answer missing or empty in the front matter|
| bad-type        | error    | id not an integer, date not a date, related_articleN not a       |
|                 |          | mapping (or its id not an integer), a text field a list/mapping  |
| broken-link     | warning  | a related entry points at no article of this folder              |
| self-link       | warning  | a related entry points at its own article                        |
| duplicate-link  | warning  | a related entry repeats an earlier one (reported on the repeat)  |
| stale-link      | warning  | an entry's title, subject or url differ from its target's        |
| title-mismatch  | warning  | article_title or question differ from title                      |
| seo-title       | warning  | seo.title does not follow the folder's "<site> | <subject>"      |
|                 |          | pattern (site: the most common prefix, if most articles use it)  |
| seo-length      | warning  | seo.page_description over 160 or seo.title over 60 characters    |
| url-mismatch    | warning  | url's segment after /learn/ is not the subject's slug, or its    |
|                 |          | last segment is not the file name                                |
| one-way-link    | info     | A links B but B does not link A                                  |
| orphan          | info     | no article of the folder links here (line: none)                 |

missing-field reads the front matter keys themselves, not the app's fallbacks (a title taken
from `question` or the file name, an answer taken from the body still count as missing).
A repeated entry is reported only as duplicate-link (not also as broken, stale or one-way).
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from .article import Article, Problem, RelatedLink, Severity
from .editing import DELETE
from .form import SEO_DESCRIPTION_LIMIT, SEO_TITLE_LIMIT, stale_entries
from .library import Library, id_key

_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

#: Every code the checker reports, with its severity.
CODES: dict[str, Severity] = {
    "parse-error": _E,
    "no-front-matter": _E,
    "duplicate-id": _E,
    "missing-field": _E,
    "bad-type": _E,
    "broken-link": _W,
    "self-link": _W,
    "duplicate-link": _W,
    "stale-link": _W,
    "title-mismatch": _W,
    "seo-title": _W,
    "seo-length": _W,
    "url-mismatch": _W,
    "one-way-link": _I,
    "orphan": _I,
}

#: Codes that `fix_changes` can repair. title-mismatch is only fixed when asked for by name.
FIXABLE = frozenset({"stale-link", "duplicate-link", "title-mismatch"})

REQUIRED_FIELDS = ("id", "title", "subject", "answer")
TITLE_KEYS = ("title", "article_title", "question")
TEXT_FIELDS = ("title", "article_title", "question", "subject", "answer", "url", "author")

_RELATED = re.compile(r"^related_article(\d+)$")
_TOP_KEY = re.compile(r"([A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]|$)")
_CHILD_KEY = re.compile(r"([ \t]+)([A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]|$)")
_URL_PATH = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://[^/]*)?([^?#]*)")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Finding:
    """One thing the checker found in one file."""

    path: str
    line: int | None
    code: str
    severity: Severity
    message: str
    id: int | str | None = None

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.path, self.line or 0, self.code, self.message)

    def as_dict(self) -> dict[str, object]:
        """The finding as plain JSON-ready data."""
        return {
            "path": self.path,
            "line": self.line,
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "id": self.id,
        }


class _Add(Protocol):
    """The callback that records one finding of the article being checked."""

    def __call__(self, code: str, message: str, key: str | None = None) -> None: ...


@dataclass(frozen=True)
class _Entry:
    """A related entry with its resolved target and the earlier entry it repeats, if any."""

    link: RelatedLink
    target: Article | None
    repeat_of: RelatedLink | None


def slug(text: str) -> str:
    """Lowercase, every run of non-alphanumerics a '-', no '-' at either end."""
    return _NON_SLUG.sub("-", text.lower()).strip("-")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value if isinstance(value, str) else str(value)


def _show(value: object, limit: int = 80) -> str:
    """A value quoted for a one-line message, shortened when long."""
    text = " ".join(_text(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


def _kind(value: object) -> str:
    return {dict: "a mapping", list: "a list", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def key_lines(text: str) -> dict[str, int]:
    """1-based lines of the front matter's top-level keys and their direct children
    (as `parent.child`); the last of duplicate keys wins, as in YAML."""
    lines: dict[str, int] = {}
    parts = text.split("\n")
    if not parts or parts[0].lstrip("\ufeff").rstrip() != "---":
        return lines
    top: str | None = None
    child_indent: str | None = None
    for number, line in enumerate(parts[1:], start=2):
        line = line.rstrip("\r")
        if line.rstrip() == "---":
            break
        if match := _TOP_KEY.match(line):
            top, child_indent = match.group(1), None
            lines[top] = number
        elif top is not None and (match := _CHILD_KEY.match(line)):
            indent = match.group(1)
            if child_indent is None:
                child_indent = indent
            if indent == child_indent:
                lines.setdefault(f"{top}.{match.group(2)}", number)
    return lines


class Checker:
    """Checks one library; folder-wide facts (site name, backlinks) are computed once, lazily.

    Make one Checker and ask it for many articles (e.g. badge counts): `findings_for` alone
    rebuilds the folder-wide facts on every call.
    """

    def __init__(self, library: Library) -> None:
        self.library = library
        self._entries: dict[str, list[_Entry]] = {}
        self._lines: dict[str, dict[str, int]] = {}
        self._inbound: dict[str, set[str]] | None = None
        self._site: str | None = None
        self._site_known = False

    # -- folder-wide facts ------------------------------------------------------------------
    def entries(self, article: Article) -> list[_Entry]:
        """The article's related entries, resolved, with repeats marked."""
        cached = self._entries.get(article.key)
        if cached is not None:
            return cached
        seen: dict[tuple[str, ...], RelatedLink] = {}
        result: list[_Entry] = []
        for link in article.related:
            target = self.library.resolve(link)
            ident = (target.key,) if target else (id_key(link.id) or "", link.url)
            result.append(_Entry(link, target, seen.get(ident)))
            seen.setdefault(ident, link)
        self._entries[article.key] = result
        return result

    def targets(self, article: Article) -> set[str]:
        """Keys of the other articles this one links to."""
        keys = {e.target.key for e in self.entries(article) if e.target is not None}
        keys.discard(article.key)
        return keys

    def inbound(self) -> dict[str, set[str]]:
        """For every article key, the keys of the articles that link to it."""
        if self._inbound is None:
            index: dict[str, set[str]] = {}
            for source in self.library.articles():
                for key in self.targets(source):
                    index.setdefault(key, set()).add(source.key)
            self._inbound = index
        return self._inbound

    def site(self) -> str | None:
        """The `<site>` of `<site> | <subject>` SEO titles, if most articles follow it."""
        if not self._site_known:
            pairs = [(_seo_title(a), a.subject) for a in self.library.articles()]
            self._site, self._site_known = site_of(pairs), True
        return self._site

    def lines(self, article: Article) -> dict[str, int]:
        """Key -> line for the article's file, read again from disk (empty if unreadable)."""
        cached = self._lines.get(article.key)
        if cached is None:
            try:
                text = article.path.read_bytes().decode("utf-8-sig", errors="replace")
            except OSError:
                text = ""
            cached = self._lines[article.key] = key_lines(text)
        return cached

    # -- checks -----------------------------------------------------------------------------
    def check(self, select: set[str] | None = None) -> list[Finding]:
        """Every finding of the folder (only `select`ed codes, if given), sorted."""
        found: list[Finding] = []
        for article in self.library.failed():
            found += self._load_problems(article)
        for article in self.library.articles():
            found += self._article(article)
        if select is not None:
            found = [f for f in found if f.code in select]
        return sorted(found, key=Finding.sort_key)

    def findings_for(self, article: Article) -> list[Finding]:
        """Every finding about one article, sorted."""
        found = self._article(article) if article.loaded else self._load_problems(article)
        return sorted(found, key=Finding.sort_key)

    def _load_problems(self, article: Article) -> list[Finding]:
        return [
            Finding(article.relpath, p.line, p.code, p.severity, p.message, article.id)
            for p in article.problems
        ]

    def _article(self, article: Article) -> list[Finding]:
        out: list[Finding] = []
        lines = self.lines(article)

        def add(code: str, message: str, key: str | None = None) -> None:
            line = line_of(lines, key)
            out.append(Finding(article.relpath, line, code, CODES[code], message, article.id))

        # problems the loader noted, other than the ones re-checked here with lines
        for problem in article.problems:
            if problem.code != "bad-type":
                out.append(self._passthrough(article, problem))
        local_checks(article, lines, add)
        if article.id is not None and self.library.is_duplicate_id(article):
            others = [a.relpath for a in self.library.by_id(article.id) if a.key != article.key]
            add("duplicate-id", f"id {article.id} is also used by {', '.join(others)}", "id")
        self._links(article, add)
        self._seo(article, article.front_matter, add)
        return out

    def _passthrough(self, article: Article, problem: Problem) -> Finding:
        return Finding(
            article.relpath,
            problem.line,
            problem.code,
            problem.severity,
            problem.message,
            article.id,
        )

    def _links(self, article: Article, add: _Add) -> None:
        inbound = self.inbound()
        for entry in self.entries(article):
            link, target = entry.link, entry.target
            if entry.repeat_of is not None:
                what = target.relpath if target else _link_name(link)
                add(
                    "duplicate-link",
                    f"{link.key} repeats {entry.repeat_of.key} (same target: {what})",
                    link.key,
                )
                continue
            if target is None:
                add(
                    "broken-link",
                    f"{link.key} ({_link_name(link)}) is not in this folder",
                    link.key,
                )
                continue
            if target.key == article.key:
                add("self-link", f"{link.key} points at this article itself", link.key)
                continue
            stale = stale_entries(article, target, [link])
            if stale:
                names = ", ".join(k.split(".", 1)[1] for k in stale)
                add("stale-link", f"{link.key} {names} differ from {target.relpath}", link.key)
            if article.key not in self.targets(target):
                add(
                    "one-way-link",
                    f"{link.key} links {target.relpath}, which does not link back",
                    link.key,
                )
        if not inbound.get(article.key):
            add("orphan", "no article of this folder links here")

    def _seo(self, article: Article, fm: dict[str, Any], add: _Add) -> None:
        """The seo-title finding, which needs the folder's site name (seo-length is local)."""
        site = self.site()
        if site is None:
            return
        problem = seo_title_problem(_seo_title(article), seo_kind(fm), article.subject, site)
        if problem is not None:
            add("seo-title", *problem)

    # -- fixes ------------------------------------------------------------------------------
    def fix_changes(self, article: Article, codes: set[str] | frozenset[str]) -> dict[str, object]:
        """The front matter changes (for apply_changes) that repair `codes` in one article.

        stale-link: refresh the entry's title, subject and url from its target.
        duplicate-link: delete the repeated entries, then renumber the later entries down
        (whole-entry changes) so the numbering stays consecutive; when some related_articleN
        key is not a mapping or not canonically numbered, only the repeats are deleted.
        title-mismatch: set article_title and question to `title` (a string).
        """
        if not article.loaded:
            return {}
        fm = article.front_matter
        changes: dict[str, object] = {}
        entries = self.entries(article)
        updates: dict[str, dict[str, object]] = {}
        if "stale-link" in codes:
            for entry in entries:
                if entry.repeat_of is None and entry.target is not None:
                    for dotted, value in stale_entries(article, entry.target, [entry.link]).items():
                        key, _, name = dotted.partition(".")
                        updates.setdefault(key, {})[name] = value
        if "duplicate-link" in codes:
            dropped = {e.link.key for e in entries if e.repeat_of is not None}
            if dropped:
                changes.update(_renumber(fm, [e.link for e in entries], dropped, updates))
        for key, fields in updates.items():
            for name, value in fields.items():
                changes[f"{key}.{name}"] = value
        if "title-mismatch" in codes and isinstance(fm.get("title"), str):
            title = fm["title"].strip()
            for key in TITLE_KEYS[1:]:
                if title and key in fm and _text(fm[key]).strip() != title:
                    changes[key] = title
        return changes


def _renumber(
    fm: dict[str, Any],
    links: list[RelatedLink],
    dropped: set[str],
    updates: dict[str, dict[str, object]],
) -> dict[str, object]:
    """Changes deleting `dropped` entries and moving later ones down (pops moved updates)."""
    changes: dict[str, object] = {}
    related = [k for k in fm if _RELATED.match(k)]
    canonical = all(
        isinstance(fm[k], dict) and k == f"related_article{int(k[15:])}" for k in related
    )
    if not canonical:
        for key in sorted(dropped):
            changes[key] = DELETE
            updates.pop(key, None)
        return changes
    first = min(link.number for link in links if link.key in dropped)
    number = first
    assigned: set[str] = set()
    vacated: set[str] = set(dropped)
    for link in sorted(links, key=lambda item: item.number):
        if link.key in dropped or link.number < first:
            continue
        new_key = f"related_article{number}"
        number += 1
        assigned.add(new_key)
        if new_key == link.key:
            continue
        value = dict(fm[link.key])
        value.update(updates.pop(link.key, {}))
        changes[new_key] = value
        vacated.add(link.key)
    for key in dropped:
        updates.pop(key, None)
    for key in sorted(vacated - assigned, key=lambda k: int(k[15:])):
        changes[key] = DELETE
    return changes


def line_of(lines: dict[str, int], key: str | None) -> int | None:
    """The line of a finding about `key` (a `parent.child` key falls back to its parent)."""
    if key is None:
        return None
    line = lines.get(key)
    if line is None and "." in key:
        line = lines.get(key.split(".", 1)[0])
    return line


def local_checks(article: Article, lines: dict[str, int], add: _Add) -> None:
    """The checks that need nothing but the article's own file: missing fields, types,
    titles, SEO lengths and the url. (Loader problems, duplicate ids, links and the SEO
    title pattern are the caller's.)"""
    fm = article.front_matter
    _fields(article, fm, add, lines if article.partial else None)
    _types(fm, add)
    _titles(fm, add)
    _seo_length(fm, _seo_title(article), add)
    _url(article, fm, add)


def site_of(pairs: Iterable[tuple[str, str]]) -> str | None:
    """The `<site>` of `<site> | <subject>` SEO titles, from every loaded article's
    (seo title, subject), if more than half the articles follow it."""
    prefixes: Counter[str] = Counter()
    following: Counter[str] = Counter()
    total = 0
    for title, subject in pairs:
        prefix, site = seo_site_parts(title, subject)
        total += 1
        if prefix is not None:
            prefixes[prefix] += 1
        if site is not None:
            following[site] += 1
    return site_from_counts(prefixes, following, total)


def seo_site_parts(title: str, subject: str) -> tuple[str | None, str | None]:
    """What one article says about the folder's site: the prefix of its SEO title (None
    without " | "), and the site its title follows `<site> | <subject>` for (None if none)."""
    prefix = title.split(" | ", 1)[0].strip() if " | " in title else None
    head, sep, tail = title.partition("|")
    site = head.strip() if sep and tail.strip() == subject.strip() else None
    return prefix, site


def site_from_counts(prefixes: Counter[str], following: Counter[str], total: int) -> str | None:
    """The site: the most common prefix (the least of equals), if more than half of `total`
    articles follow it (`following`: articles per site they follow)."""
    if not prefixes:
        return None
    best = max(prefixes.values())
    candidate = min(p for p, n in prefixes.items() if n == best)
    return candidate if candidate and following[candidate] * 2 > total else None


def seo_kind(fm: dict[str, Any]) -> str | None:
    """What `seo` is when it is present but not a mapping ("a list" ...), else None."""
    if "seo" not in fm:
        return None
    seo = fm["seo"]
    return None if isinstance(seo, dict) else _kind(seo)


def seo_title_problem(
    title: str, kind: str | None, subject: str, site: str
) -> tuple[str, str] | None:
    """(message, key) of the seo-title finding of an article, or None when it follows
    `<site> | <subject>`. `kind` is :func:`seo_kind` of its front matter."""
    if _seo_ok(title, site, subject):
        return None
    expected = _show(f"{site} | {subject}")
    if kind is not None:
        return f"seo is {kind}, not a mapping; expected title {expected}", "seo"
    if not title:
        return f"seo.title is missing; expected {expected}", "seo"
    return f"seo.title {_show(title)} is not {expected}", "seo.title"


def _seo_length(fm: dict[str, Any], title: str, add: _Add) -> None:
    seo = fm.get("seo")
    if not isinstance(seo, dict):
        return
    description = _text(seo.get("page_description")).strip()
    if len(description) > SEO_DESCRIPTION_LIMIT:
        add(
            "seo-length",
            f"seo.page_description is {len(description)} characters (over {SEO_DESCRIPTION_LIMIT})",
            "seo.page_description",
        )
    if len(title) > SEO_TITLE_LIMIT:
        add(
            "seo-length",
            f"seo.title is {len(title)} characters (over {SEO_TITLE_LIMIT})",
            "seo.title",
        )


def _link_name(link: RelatedLink) -> str:
    return link_name(link.id, link.url)


def link_name(link_id: object, url: str) -> str:
    """How a related entry is named in a message: its id and url, as far as it has them."""
    parts = []
    if link_id is not None:
        parts.append(f"id {link_id}")
    if url:
        parts.append(url)
    return ", ".join(parts) or "no id or url"


def seo_title(article: Article) -> str:
    """The article's `seo.title`, stripped ("" when there is none)."""
    return _seo_title(article)


def _seo_title(article: Article) -> str:
    seo = article.front_matter.get("seo")
    return _text(seo.get("title")).strip() if isinstance(seo, dict) else ""


def _seo_ok(title: str, site: str, subject: str) -> bool:
    head, sep, tail = title.partition("|")
    return bool(sep) and head.strip() == site and tail.strip() == subject.strip()


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fields(article: Article, fm: dict[str, Any], add: _Add, lines: dict[str, int] | None) -> None:
    """Required keys present and not empty. For an index summary (no answer held), the
    answer's presence is read from the file's key lines instead."""
    for name in REQUIRED_FIELDS:
        if name == "answer" and article.partial and lines is not None:
            if "answer" not in lines:
                add("missing-field", "answer is missing")
            continue
        if name not in fm:
            note = ""
            if name == "answer" and article.answer.strip():
                note = " (the body text is shown instead)"
            add("missing-field", f"{name} is missing{note}")
        elif _empty(fm[name]):
            add("missing-field", f"{name} is empty", name)


def _types(fm: dict[str, Any], add: _Add) -> None:
    raw_id = fm.get("id")
    if not _empty(raw_id) and not _is_int(raw_id):
        add("bad-type", f"id {_show(raw_id)} is {_kind(raw_id)}, not an integer", "id")
    date = fm.get("date")
    if not _empty(date) and not isinstance(date, datetime.date):
        valid = False
        if isinstance(date, str):
            try:
                datetime.date.fromisoformat(date.strip())
                valid = True
            except ValueError:
                valid = False
        if not valid:
            add("bad-type", f"date {_show(date)} is not a date (YYYY-MM-DD)", "date")
    for name in TEXT_FIELDS:
        value = fm.get(name)
        if isinstance(value, dict | list):
            add("bad-type", f"{name} is {_kind(value)}, not text", name)
    for key, value in fm.items():
        if not _RELATED.match(key):
            continue
        if not isinstance(value, dict):
            add("bad-type", f"{key} is {_kind(value)}, not a mapping of id/title/subject/url", key)
        elif "id" in value and not _empty(value["id"]) and not _is_int(value["id"]):
            link_id = value["id"]
            add(
                "bad-type",
                f"{key}.id {_show(link_id)} is {_kind(link_id)}, not an integer",
                f"{key}.id",
            )


def _titles(fm: dict[str, Any], add: _Add) -> None:
    present = [key for key in TITLE_KEYS if key in fm]
    if len(present) < 2:
        return
    base = present[0]
    reference = _text(fm[base]).strip()
    for key in present[1:]:
        if _text(fm[key]).strip() != reference:
            add("title-mismatch", f"{key} {_show(fm[key])} differs from {base}", key)


def _url(article: Article, fm: dict[str, Any], add: _Add) -> None:
    url = _text(fm.get("url")).strip()
    if not url:
        return
    match = _URL_PATH.match(url)
    path = match.group(1).rstrip("/") if match else ""
    segments = path.split("/")[1:] if path.startswith("/") else []
    if len(segments) < 3 or segments[0] != "learn":
        add("url-mismatch", f"url {_show(url)} is not a /learn/<subject>/.../<file> path", "url")
        return
    subject = fm.get("subject")
    if isinstance(subject, str | int | float) and str(subject).strip():
        wanted = slug(str(subject))
        if segments[1] != wanted:
            add(
                "url-mismatch",
                f"url subject segment '{segments[1]}' is not '{wanted}' (from the subject)",
                "url",
            )
    if segments[-1] != article.stem:
        add(
            "url-mismatch",
            f"url ends in '{segments[-1]}', not the file name '{article.stem}'",
            "url",
        )


def check_library(library: Library, select: set[str] | None = None) -> list[Finding]:
    """Every finding of the folder (only `select`ed codes, if given), sorted by path, line, code."""
    return Checker(library).check(select)


def findings_for(library: Library, article: Article) -> list[Finding]:
    """The findings about one article (builds folder-wide facts: use a Checker for many)."""
    return Checker(library).findings_for(article)


def blocking(findings: list[Finding]) -> bool:
    """True when any finding is an error or a warning (infos do not count)."""
    return any(f.severity is not Severity.INFO for f in findings)
