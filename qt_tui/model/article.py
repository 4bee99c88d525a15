"""Plain data for one article, its related links and what went wrong loading it."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

NO_SUBJECT = "(no subject)"


class Severity(StrEnum):
    """How bad a problem is: errors stop an article loading, warnings and infos do not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Problem:
    """Something wrong with a file, with a stable code and the line where known."""

    code: str
    message: str
    severity: Severity = Severity.ERROR
    line: int | None = None

    def describe(self) -> str:
        """One line for a person: the reason, and the line when known."""
        where = f" (line {self.line})" if self.line is not None else ""
        return f"{self.message}{where}"


@dataclass(frozen=True)
class RelatedLink:
    """One `related_articleN` entry as written in the file (copied data, may be stale)."""

    key: str
    number: int
    id: int | str | None
    title: str
    subject: str
    url: str


@dataclass
class Article:
    """One content file: the fields the app shows, every other key kept as loaded, problems."""

    path: Path
    relpath: str
    id: int | str | None = None
    title: str = ""
    subject: str = NO_SUBJECT
    date: datetime.date | None = None
    author: str = ""
    url: str = ""
    file_name: str = ""
    question: str = ""
    seo_title: str = ""
    seo_description: str = ""
    seo_keywords: str = ""
    answer: str = ""
    related: list[RelatedLink] = field(default_factory=list)
    front_matter: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: True for an index summary (from the cache or a fast scan): `answer` and the answer's
    #: own key in `front_matter` are not filled in; Library.full() reads the file for them.
    partial: bool = False

    @property
    def loaded(self) -> bool:
        """False when the file could not be read as an article at all."""
        if not self.problems:
            return True
        return not any(p.severity is Severity.ERROR for p in self.problems)

    @property
    def stem(self) -> str:
        """The file name without `.md`, which is also the url's last segment."""
        name = self.relpath.rpartition("/")[2]
        return name[:-3] if name.endswith(".md") else self.path.stem

    @property
    def key(self) -> str:
        """A unique handle for this article within a library: its relative path."""
        return self.relpath


#: Fields an IndexedArticle holds from the start; every other field is read on first use.
LEAN_FIELDS = ("id", "title", "subject", "date", "url", "question", "seo_keywords")

#: Reads the complete summary of an index entry (from the cache, else from its file).
DetailSource = Callable[["IndexedArticle"], Article]


def _detail_field(name: str) -> property:
    def get(self: IndexedArticle) -> Any:
        values = self.__dict__
        if name not in values:
            self.load_detail()
        return values[name]

    def put(self: IndexedArticle, value: Any) -> None:
        self.__dict__[name] = value

    return property(get, put, doc=f"`{name}`, read from the index on first use.")


class IndexedArticle(tuple, Article):  # type: ignore[type-arg]
    """An index entry of a loaded article: what lists, sorting and lookups need, nothing more.

    A 100,000-article index holds these. Each is a tuple of the relpath, `LEAN_FIELDS`, the
    root and `source` (a tuple is made in C: a tenth of the time an object with a dict of
    those fields took, and half the memory); the rest (SEO fields, related entries, front
    matter, problems) is fetched by `source` the first time any of it is read, and kept, after
    which this is an ordinary summary (`partial`) Article. The lean fields are read-only,
    and being a tuple it cannot be weakly referenced nor used with dataclasses.replace();
    it compares as the Article it stands for (not as a tuple) and is not hashable.
    """

    __slots__ = ()
    partial = True
    # compared, shown and (not) hashed as the Article it stands for, never as a tuple
    __eq__ = Article.__eq__
    __hash__ = None  # type: ignore[assignment]
    __repr__ = Article.__repr__

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    @classmethod
    def make(
        cls,
        root: Path,
        relpath: str,
        values: tuple[Any, ...],
        source: DetailSource,
    ) -> IndexedArticle:
        """An entry from `values` in LEAN_FIELDS order (`date` as a proleptic ordinal)."""
        return tuple.__new__(cls, (relpath, *values, root, source))

    @classmethod
    def make_many(
        cls,
        root: Path,
        relpaths: Iterable[str],
        columns: Iterable[Iterable[Any]],
        source: DetailSource,
    ) -> list[IndexedArticle]:
        """Entries from one column per LEAN_FIELDS value, in step with `relpaths`."""
        rows = zip(relpaths, *columns, repeat(root), repeat(source), strict=False)
        return list(map(tuple.__new__, repeat(cls), rows))

    @property
    def source(self) -> DetailSource:
        return tuple.__getitem__(self, _SOURCE)  # type: ignore[no-any-return]

    @property
    def root(self) -> Path:
        return tuple.__getitem__(self, _ROOT)  # type: ignore[no-any-return]

    def load_detail(self) -> None:
        """Fill in every field not held yet from the complete summary."""
        full = self.source(self)
        values = self.__dict__
        for name in _DETAIL_FIELDS:
            values.setdefault(name, getattr(full, name))

    @property
    def loaded(self) -> bool:
        return True  # entries are only made for articles that loaded

    @property
    def path(self) -> Path:
        values = self.__dict__
        path = values.get("path")
        if path is None:
            path = values["path"] = self.root / self.relpath
        return path

    @path.setter
    def path(self, value: Path) -> None:
        self.__dict__["path"] = value


_ROOT, _SOURCE = 1 + len(LEAN_FIELDS), 2 + len(LEAN_FIELDS)


def _lean_field(index: int) -> property:
    return property(itemgetter(index), doc="Read-only: the entry is a tuple.")


def _date_field(index: int) -> property:
    def get(self: IndexedArticle) -> datetime.date | None:
        ordinal = tuple.__getitem__(self, index)
        return None if ordinal is None else datetime.date.fromordinal(ordinal)

    return property(get, doc="The date, kept as a proleptic ordinal.")


for _index, _name in enumerate(("relpath", *LEAN_FIELDS)):
    setattr(IndexedArticle, _name, _date_field(_index) if _name == "date" else _lean_field(_index))

_DETAIL_FIELDS = (
    "author",
    "file_name",
    "seo_title",
    "seo_description",
    "answer",
    "related",
    "front_matter",
    "problems",
)
for _name in _DETAIL_FIELDS:
    setattr(IndexedArticle, _name, _detail_field(_name))
