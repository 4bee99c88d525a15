"""Plain data for one article, its related links and what went wrong loading it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from enum import StrEnum
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
        return self.path.stem

    @property
    def key(self) -> str:
        """A unique handle for this article within a library: its relative path."""
        return self.relpath
