"""The index over every article: lookups, subjects, link resolution, backlinks, rendering."""

from __future__ import annotations

import re
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .article import Article, RelatedLink

if TYPE_CHECKING:
    from .markdown import AnswerInfo

# The loader (YAML, python-frontmatter) and the Markdown tools (mistune) are imported where
# they are used: the app draws its first frame before it needs them.

_LEARN_PATH = re.compile(r"^(?:[a-z][a-z0-9+.-]*://[^/]+)?(/learn/[^?#]*)", re.IGNORECASE)

SORT_KEYS = ("title", "date", "id")

#: A `/learn/...` url that is its own url_key() once lowercased (the usual case).
_PLAIN_URL = re.compile(r"/learn/[^?#\s]*[^?#\s/]")

#: Answers longer than this are rendered in part: the rest is shown as bounded plain text.
MAX_RENDER_CHARS = 30_000
MAX_TAIL_CHARS = 20_000


def id_key(value: object) -> str | None:
    """Normalise an id (int in most files, sometimes a string) for lookups."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def url_key(url: str) -> str | None:
    """The `/learn/...` path of a link, without trailing slash, or None for other links."""
    match = _LEARN_PATH.match(url.strip())
    if not match:
        return None
    return match.group(1).rstrip("/").lower() or None


@dataclass(frozen=True)
class ResolvedLink:
    """A related entry (or answer link) and the article it points at, if it is in the folder."""

    link: RelatedLink
    target: Article | None
    repeats: int = 1


@dataclass(frozen=True)
class RenderedAnswer:
    """An answer turned into displayable Markdown plus what the AST says about it.

    A huge answer keeps the UI responsive: only its head is rendered; `tail` is plain text and
    `omitted_chars` says how much was not shown at all.
    """

    markdown: str
    info: AnswerInfo
    tail: str = ""
    omitted_chars: int = 0


class LinkSource(Protocol):
    """Where a library finds who links to what, when it does not keep that itself."""

    def linkers(self, handles: Iterable[str]) -> set[str]:
        """Keys of the articles with a related entry matching any of these handles."""
        ...


#: A lookup from one value to the keys having it: a single key, or a set when several do.
_Index = dict[str, str | set[str]]


def _index_add(index: _Index, value: str, key: str) -> None:
    have = index.get(value)
    if have is None:
        index[value] = key
    elif type(have) is str:
        if have != key:
            index[value] = {have, key}
    else:
        have.add(key)  # type: ignore[union-attr]


def _index_discard(index: _Index, value: str, key: str) -> None:
    have = index.get(value)
    if have is None:
        return
    if type(have) is str:
        if have == key:
            del index[value]
        return
    have.discard(key)  # type: ignore[union-attr]
    if len(have) == 1:
        index[value] = next(iter(have))
    elif not have:
        del index[value]


def _index_keys(index: _Index, value: str | None) -> list[str]:
    """The keys having `value`, sorted."""
    have = index.get(value) if value is not None else None
    if have is None:
        return []
    if type(have) is str:
        return [have]
    return sorted(have)


class Library:
    """Every article of one content folder, indexed by key, id, url, file stem and subject.

    Backlinks come from `links` when given (the index cache knows every file's related
    entries, so entries need not hold theirs); otherwise the library keeps its own table.
    """

    def __init__(self, root: Path, links: LinkSource | None = None) -> None:
        self.root = root
        self.links = links
        self._articles: dict[str, Article] = {}
        self._by_id: _Index = {}
        self._by_url: _Index = {}
        #: made on first use (a link whose id and url both miss): a start need not wait for it
        self._by_stem: _Index | None = None
        self._by_subject: dict[str, set[str]] = defaultdict(set)
        self._failed: set[str] = set()
        # who links to what, by the link's own id / url / file stem: backlinks of an article
        # are found from its id, url and stem, then checked with resolve() (no global rebuild)
        self._linkers: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._rendered: OrderedDict[str, RenderedAnswer] = OrderedDict()
        #: Bumped on every add or remove, so views can tell whether cached lists are current.
        self.version = 0
        self._subject_lists: dict[str, tuple[int, list[Article]]] = {}
        self._all: tuple[int, list[Article]] | None = None
        self._title_order = -1  # the version at which the articles were in title order

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path, progress: Callable[[int], None] | None = None) -> Library:
        """Load every content file under `root`."""
        from .files import discover
        from .loading import load_article

        library = cls(root)
        for count, path in enumerate(discover(root), start=1):
            library.add(load_article(path, root))
            if progress is not None and count % 500 == 0:
                progress(count)
        return library

    def add(self, article: Article) -> None:
        """Add or replace an article (by its relative path)."""
        self.remove(article.key)
        self.version += 1
        key = article.key
        self._articles[key] = article
        if not article.loaded:
            self._failed.add(key)
            return
        if self.links is None:
            for handle in _link_handles(article):
                self._linkers[handle].add(key)
        if (ident := id_key(article.id)) is not None:
            _index_add(self._by_id, ident, key)
        if (url := url_key(article.url)) is not None:
            _index_add(self._by_url, url, key)
        if self._by_stem is not None:
            _index_add(self._by_stem, article.stem.lower(), key)
        self._by_subject[article.subject].add(key)

    def extend(self, articles: Iterable[Article]) -> None:
        """Add many articles at once (the bulk of a new index: much quicker than add())."""
        entries = self._articles
        by_id, by_url, by_stem = self._by_id, self._by_url, self._by_stem
        by_subject = self._by_subject
        keep_links = self.links is None
        for article in articles:
            key = article.relpath
            if key in entries:
                self.add(article)
                continue
            entries[key] = article
            if not article.loaded:
                self._failed.add(key)
                continue
            if keep_links:
                for handle in _link_handles(article):
                    self._linkers[handle].add(key)
            ident = article.id
            value = str(ident) if type(ident) is int else id_key(ident)
            if value is not None:
                _index_add(by_id, value, key)
            url = article.url
            if url.startswith("/learn/") and _PLAIN_URL.fullmatch(url):
                # the url itself when already lower case: one string, not two, per article
                value = url if url.islower() else url.lower()
            else:
                value = url_key(url)
            if value is not None:
                _index_add(by_url, value, key)
            if by_stem is not None:
                _index_add(by_stem, article.stem.lower(), key)
            by_subject[article.subject].add(key)
        self.version += 1

    def remove(self, key: str) -> Article | None:
        """Drop an article; returns it if it was there."""
        article = self._articles.pop(key, None)
        if article is None:
            return None
        self.version += 1
        self._failed.discard(key)
        if article.loaded:
            if self.links is None:
                for handle in _link_handles(article):
                    linkers = self._linkers.get(handle)
                    if linkers is not None:
                        linkers.discard(key)
                        if not linkers:
                            del self._linkers[handle]
            for index, value in (
                (self._by_id, id_key(article.id)),
                (self._by_url, url_key(article.url)),
                (self._by_stem, article.stem.lower()),
            ):
                if index is not None and value is not None:
                    _index_discard(index, value, key)
            bucket = self._by_subject.get(article.subject)
            if bucket is not None:
                bucket.discard(key)
                if not bucket:
                    del self._by_subject[article.subject]
        self._rendered.pop(key, None)
        return article

    # -- snapshots --------------------------------------------------------------------------
    def lookup_tables(self) -> tuple[_Index, _Index, dict[str, set[str]]]:
        """The lookups by id, url and subject, as they are (for a snapshot)."""
        return self._by_id, self._by_url, dict(self._by_subject)

    def adopt(
        self,
        articles: dict[str, Article],
        failed: set[str],
        tables: tuple[_Index, _Index, dict[str, set[str]]],
        ordered: bool = False,
    ) -> None:
        """Take a whole index at once: the articles of an empty library, with the lookups
        :meth:`lookup_tables` gave for the same articles (read from a snapshot: indexing
        100,000 entries one by one is most of a start-up). Backlinks must come from `links`.
        `ordered`: the loaded articles come in title order (see :meth:`in_title_order`)."""
        if self._articles or self.links is None:
            raise ValueError("adopt() fills an empty library whose backlinks come from links")
        self._articles = articles
        self._failed = failed
        self._by_id, self._by_url, self._by_stem = tables[0], tables[1], None
        self._by_subject = defaultdict(set, tables[2])
        self.version += 1
        if ordered:
            self._title_order = self.version

    # -- lookups ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._articles)

    def get(self, key: str) -> Article | None:
        """The article stored under a relative path."""
        return self._articles.get(key)

    def find_path(self, path: Path) -> Article | None:
        """The article for a file path (absolute or relative to the root)."""
        try:
            rel = path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            rel = path.as_posix()
        return self._articles.get(rel)

    def full(self, article: Article) -> Article:
        """The complete article (answer included), reading the file if only a summary is held.

        The full article replaces the summary in the index, so this reads each file once.
        """
        if not article.partial:
            return article
        from .loading import load_article

        loaded = load_article(article.path, self.root)
        if self._articles.get(article.key) is not article:
            return loaded
        same_links = (loaded.id, loaded.url, loaded.subject, loaded.related) == (
            article.id,
            article.url,
            article.subject,
            article.related,
        )
        if loaded.loaded and same_links:
            self._articles[article.key] = loaded  # indexes and backlinks stay valid
        else:
            self.add(loaded)  # the file changed since it was indexed
        return loaded

    def articles(self) -> list[Article]:
        """Every article that loaded, in no particular order (see :meth:`in_title_order`).

        The list is shared until the library changes: do not modify it."""
        kept = self._all
        if kept is not None and kept[0] == self.version:
            return kept[1]
        failed = self._failed
        if failed:
            articles = [a for key, a in self._articles.items() if key not in failed]
        else:
            articles = list(self._articles.values())
        self._all = (self.version, articles)
        return articles

    @property
    def in_title_order(self) -> bool:
        """True when :meth:`articles` is sorted as sort_articles(..., "title") would sort it
        (a library read from a snapshot, until it changes): a list of 100,000 need not be
        sorted again. So is each subject's list (:meth:`in_subject`) then."""
        return self._title_order == self.version

    def failed(self) -> list[Article]:
        """Files that could not be loaded, sorted by path."""
        return [self._articles[key] for key in sorted(self._failed)]

    @property
    def loaded_count(self) -> int:
        """How many articles loaded (len() counts the failed files too)."""
        return len(self._articles) - len(self._failed)

    def subjects(self) -> list[tuple[str, int]]:
        """Every subject with its article count, sorted case-insensitively."""
        return sorted(
            ((name, len(keys)) for name, keys in self._by_subject.items()),
            key=lambda item: item[0].casefold(),
        )

    def in_subject(self, subject: str) -> list[Article]:
        """The articles of one subject (a list shared until the library changes: do not
        modify it; making it anew cost 14 ms for a 44,000-article subject at every visit)."""
        kept = self._subject_lists.get(subject)
        if kept is not None and kept[0] == self.version:
            return kept[1]
        if subject not in self._by_subject:
            return []
        if self.in_title_order:
            # every subject's list in one pass, each in title order (see in_title_order):
            # 25 sorts of up to 44,000 titles each took 0.2 s at 100,000 articles
            self._split_by_subject()
            return self._subject_lists[subject][1]
        articles = [self._articles[k] for k in self._by_subject.get(subject, ())]
        if len(self._subject_lists) > 64:
            self._subject_lists.clear()
        self._subject_lists[subject] = (self.version, articles)
        return articles

    def _split_by_subject(self) -> None:
        groups: dict[str, list[Article]] = {name: [] for name in self._by_subject}
        for article in self.articles():
            groups.setdefault(article.subject, []).append(article)
        self._subject_lists = {name: (self.version, found) for name, found in groups.items()}

    def by_id(self, ident: object) -> list[Article]:
        """Articles with this id (more than one means a duplicate id)."""
        return [self._articles[k] for k in _index_keys(self._by_id, id_key(ident))]

    def by_url(self, url: str) -> Article | None:
        """The article whose `url` is this `/learn/...` path."""
        keys = _index_keys(self._by_url, url_key(url))
        return self._articles[keys[0]] if keys else None

    def is_duplicate_id(self, article: Article) -> bool:
        """True when another article in the folder has the same id."""
        key = id_key(article.id)
        return key is not None and type(self._by_id.get(key)) is set

    # -- links ------------------------------------------------------------------------------
    def resolve(self, link: RelatedLink) -> Article | None:
        """The article a related entry points at: by id first, then url, then file name."""
        candidates = self.by_id(link.id)
        if candidates:
            wanted = url_key(link.url)
            for article in candidates:
                if wanted is not None and url_key(article.url) == wanted:
                    return article
            return candidates[0]
        if (by_url := self.by_url(link.url)) is not None:
            return by_url
        stem = link.url.rstrip("/").rsplit("/", 1)[-1].lower()
        keys = _index_keys(self._stems(), stem) if stem else []
        return self._articles[keys[0]] if keys else None

    def _stems(self) -> _Index:
        """The lookup by file stem, made the first time it is needed."""
        if self._by_stem is None:
            stems: _Index = {}
            failed = self._failed
            for key, article in self._articles.items():
                if key not in failed:
                    _index_add(stems, article.stem.lower(), key)
            self._by_stem = stems
        return self._by_stem

    def related(self, article: Article) -> list[ResolvedLink]:
        """The article's related entries, resolved, with repeated entries shown once."""
        shown: dict[tuple[str, ...], int] = {}
        result: list[ResolvedLink] = []
        for link in article.related:
            target = self.resolve(link)
            ident = (target.key,) if target else (id_key(link.id) or "", link.url)
            if ident in shown:
                index = shown[ident]
                previous = result[index]
                result[index] = ResolvedLink(previous.link, previous.target, previous.repeats + 1)
                continue
            shown[ident] = len(result)
            result.append(ResolvedLink(link, target))
        return result

    def links_between(self, source: Article, target: Article) -> list[RelatedLink]:
        """The related entries of `source` that resolve to `target`."""
        return [
            link
            for link in source.related
            if (resolved := self.resolve(link)) is not None and resolved.key == target.key
        ]

    def answer_links(self, article: Article) -> list[ResolvedLink]:
        """Links inside the answer that point at articles of this folder."""
        result: list[ResolvedLink] = []
        seen: set[str] = set()
        for number, link in enumerate(self.render(article).info.links, start=1):
            target = self.by_url(link.url) if url_key(link.url) else None
            if target is None or target.key in seen:
                continue
            seen.add(target.key)
            entry = RelatedLink("answer", number, target.id, link.text, target.subject, link.url)
            result.append(ResolvedLink(entry, target))
        return result

    def backlinks(self, article: Article) -> list[Article]:
        """Articles whose related entries point at this one, sorted by title."""
        handles = [("stem", article.stem.lower())]
        if (ident := id_key(article.id)) is not None:
            handles.append(("id", ident))
        if (url := url_key(article.url)) is not None:
            handles.append(("url", url))
        candidates: set[str] = set()
        if self.links is not None:
            candidates = self.links.linkers(f"{kind}:{value}" for kind, value in handles)
        else:
            for handle in handles:
                candidates |= self._linkers.get(handle, set())
        candidates.discard(article.key)
        sources = [
            source
            for key in candidates
            if (source := self._articles.get(key)) is not None
            and any(
                (target := self.resolve(link)) is not None and target.key == article.key
                for link in source.related
            )
        ]
        return sorted(sources, key=lambda a: a.title.casefold())

    # -- rendering --------------------------------------------------------------------------
    def render(self, article: Article) -> RenderedAnswer:
        """The answer as Markdown for display (escapes decoded, math as Unicode), cached."""
        cached = self._rendered.get(article.key)
        if cached is not None:
            self._rendered.move_to_end(article.key)
            return cached
        article = self.full(article)
        raw, tail_raw = article.answer, ""
        if len(raw) > MAX_RENDER_CHARS:
            cut = raw.rfind("\\n\\n", 0, MAX_RENDER_CHARS)
            cut = cut if cut > 0 else MAX_RENDER_CHARS
            raw, tail_raw = raw[:cut], raw[cut:]
        from .answer import answer_to_markdown, decode_escapes
        from .markdown import analyse

        markdown = answer_to_markdown(raw)
        rendered = RenderedAnswer(
            markdown,
            analyse(markdown),
            tail=decode_escapes(tail_raw[:MAX_TAIL_CHARS]).strip(),
            omitted_chars=max(0, len(tail_raw) - MAX_TAIL_CHARS),
        )
        self._rendered[article.key] = rendered
        if len(self._rendered) > 256:
            self._rendered.popitem(last=False)
        return rendered


def _link_handles(article: Article) -> set[tuple[str, str]]:
    """The id, url and file stem of every related entry: what resolve() could match on."""
    handles: set[tuple[str, str]] = set()
    for link in article.related:
        if (ident := id_key(link.id)) is not None:
            handles.add(("id", ident))
        if (url := url_key(link.url)) is not None:
            handles.add(("url", url))
        stem = link.url.rstrip("/").rsplit("/", 1)[-1].lower()
        if stem:
            handles.add(("stem", stem))
    return handles


def sort_articles(articles: Iterable[Article], by: str = "title") -> list[Article]:
    """Articles sorted by title, date (newest first) or id."""
    items = list(articles)
    if by == "date":  # newest first; the same day in title order (not as the files came)
        return sorted(
            items,
            key=lambda a: (a.date is None, -(a.date.toordinal() if a.date else 0), title_order(a)),
        )
    if by == "id":
        return sorted(items, key=lambda a: (_id_sort(a.id), a.key))
    return sorted(items, key=title_order)


def title_order(article: Article) -> str:
    """The sort key of the title order: case-folded title, then path (one string, not a
    tuple: 100,000 titles sort in 0.2 s instead of 0.35, as they share their first words;
    the NUL between them sorts a title before the longer titles it begins)."""
    return f"{article.title.casefold()}\x00{article.relpath}"


def _id_sort(value: object) -> tuple[int, int, str]:
    text = id_key(value) or ""
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def filter_articles(articles: Iterable[Article], query: str) -> list[Article]:
    """Articles whose title, id, question or keywords contain every word of the query."""
    words = query.casefold().split()
    if not words:
        return list(articles)
    result = []
    for article in articles:
        haystack = f"{article.title} {article.id} {article.question} {article.seo_keywords}"
        folded = haystack.casefold()
        if all(word in folded for word in words):
            result.append(article)
    return result
