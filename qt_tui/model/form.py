"""What the edit form means as front matter changes: values, validation, link propagation."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .article import Article, RelatedLink
from .editing import DELETE, apply_changes, unified_diff

SEO_DESCRIPTION_LIMIT = 160
SEO_TITLE_LIMIT = 60
_SEO_PATTERN = re.compile(r"^(?P<site>.+?)\s*\|\s*(?P<subject>.+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class RelatedEntry:
    """One related link as the form holds it (what is written to `related_articleN`)."""

    id: int | str | None
    title: str
    subject: str
    url: str

    @classmethod
    def from_link(cls, link: RelatedLink) -> RelatedEntry:
        return cls(link.id, link.title, link.subject, link.url)

    @classmethod
    def from_article(cls, article: Article) -> RelatedEntry:
        """An entry that points at `article`, copying its current id, title, subject and url."""
        return cls(article.id, article.title, article.subject, article.url)

    def as_mapping(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "subject": self.subject, "url": self.url}


@dataclass
class FormValues:
    """The fields of the edit form."""

    title: str
    sync_title: bool
    subject: str
    date: str
    author: str
    seo_title: str
    seo_description: str
    seo_keywords: str
    related: list[RelatedEntry] = field(default_factory=list)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def titles_in_sync(front_matter: dict[str, Any]) -> bool:
    """True when `title`, `article_title` and `question` (those present) hold the same text."""
    values = {
        _text(front_matter[key]).strip()
        for key in ("title", "article_title", "question")
        if key in front_matter
    }
    return len(values) <= 1


def values_from_article(article: Article) -> FormValues:
    """The form's starting values for an article."""
    fm = article.front_matter
    seo = fm.get("seo") if isinstance(fm.get("seo"), dict) else {}
    assert isinstance(seo, dict)
    return FormValues(
        title=_text(fm.get("title", article.title)).strip(),
        sync_title=titles_in_sync(fm),
        subject=_text(fm.get("subject")).strip(),
        date=_text(fm.get("date")).strip(),
        author=_text(fm.get("author")).strip(),
        seo_title=_text(seo.get("title")).strip(),
        seo_description=_text(seo.get("page_description")).strip(),
        seo_keywords=_text(seo.get("page_keywords")).strip(),
        related=[RelatedEntry.from_link(link) for link in article.related],
    )


def follow_subject(seo_title: str, old_subject: str, new_subject: str) -> str:
    """`<site> | <subject>` follows a subject change; any other SEO title is left alone."""
    match = _SEO_PATTERN.match(seo_title)
    if match is None or match.group("subject").strip() != old_subject.strip():
        return seo_title
    return seo_title[: match.start("subject")] + new_subject


def validate(values: FormValues) -> tuple[dict[str, str], dict[str, str]]:
    """Errors (which block a save) and warnings (which do not), by field name."""
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    if not values.title.strip():
        errors["title"] = "The title cannot be empty."
    if not values.subject.strip():
        errors["subject"] = "The subject cannot be empty."
    if values.date.strip():
        if not _DATE.match(values.date.strip()):
            errors["date"] = "Use YYYY-MM-DD."
        else:
            try:
                datetime.date.fromisoformat(values.date.strip())
            except ValueError:
                errors["date"] = "Not a real date."
    if len(values.seo_description) > SEO_DESCRIPTION_LIMIT:
        warnings["seo_description"] = (
            f"{len(values.seo_description)} characters: over {SEO_DESCRIPTION_LIMIT}, "
            "search engines will cut it."
        )
    if len(values.seo_title) > SEO_TITLE_LIMIT:
        warnings["seo_title"] = f"{len(values.seo_title)} characters: over {SEO_TITLE_LIMIT}."
    return errors, warnings


def changes_for(article: Article, values: FormValues) -> dict[str, object]:
    """The dotted-key changes that turn the article's front matter into the form's values."""
    fm = article.front_matter
    before = values_from_article(article)
    changes: dict[str, object] = {}
    if values.title != before.title:
        changes["title"] = values.title
        if values.sync_title:
            for key in ("article_title", "question"):
                if key in fm:
                    changes[key] = values.title
    if values.subject != before.subject:
        changes["subject"] = values.subject
    if values.date != before.date:
        changes["date"] = datetime.date.fromisoformat(values.date) if values.date else DELETE
    for key, new, old in (
        ("author", values.author, before.author),
        ("seo.title", values.seo_title, before.seo_title),
        ("seo.page_description", values.seo_description, before.seo_description),
        ("seo.page_keywords", values.seo_keywords, before.seo_keywords),
    ):
        if new != old:
            changes[key] = new
    old_related = [RelatedEntry.from_link(link) for link in article.related]
    if values.related != old_related:
        old_keys = [link.key for link in article.related]
        for number, entry in enumerate(values.related, start=1):
            changes[f"related_article{number}"] = entry.as_mapping()
        for key in old_keys:
            if key not in changes:
                changes[key] = DELETE
    return changes


@dataclass(frozen=True)
class PlannedEdit:
    """An edit of one file, computed from the bytes it was based on; saved later if approved."""

    path: Path
    label: str
    before: bytes
    after: bytes
    changed_keys: tuple[str, ...]

    def diff(self) -> str:
        return unified_diff(self.label, self.before, self.after)


def plan_edit(path: Path, label: str, changes: dict[str, object]) -> PlannedEdit:
    """Read the file itself (never a cache) and compute its edited bytes. Raises EditError."""
    before = path.read_bytes()
    after = apply_changes(before, changes)
    return PlannedEdit(path, label, before, after, tuple(sorted(changes)))


def stale_entries(
    source: Article, target: Article, links: Iterable[RelatedLink]
) -> dict[str, object]:
    """Changes that make `source`'s related entries pointing at `target` match it again."""
    changes: dict[str, object] = {}
    for link in links:
        for name, current in (
            ("title", target.title),
            ("subject", target.subject),
            ("url", target.url),
        ):
            if current and getattr(link, name) != current:
                changes[f"{link.key}.{name}"] = current
    return changes
