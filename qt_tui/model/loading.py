"""Bytes on disk -> Article: discovery, safe front matter, field fallbacks, problems."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

from frontmatter.default_handlers import YAMLHandler

from .article import NO_SUBJECT, Article, Problem, RelatedLink, Severity
from .yamlsafe import YamlLoadError, load_mapping

#: Files larger than this are reported, not parsed: no real article comes near it.
MAX_FILE_BYTES = 32 * 1024 * 1024

_RELATED_KEY = re.compile(r"^related_article(\d+)$")
_EMPTY_BODY = re.compile(r"^(?:\s|&nbsp;)*$")


#: python-frontmatter finds and splits the front matter; the YAML itself goes through our
#: bounded safe loader (yamlsafe), never the handler's own `load`.
_HANDLER = YAMLHandler()


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _decode(data: bytes) -> tuple[str | None, Problem | None]:
    """Bytes -> text (BOM dropped, CRLF normalised), or the reason it is not text."""
    if not data.strip():
        return None, Problem("parse-error", "empty file")
    if b"\x00" in data[:8192]:
        return None, Problem("parse-error", "binary file (contains NUL bytes), not Markdown")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, Problem("parse-error", f"not UTF-8 text (byte {exc.start})", line=line)
    return text.replace("\r\n", "\n"), None


def _split(text: str) -> tuple[str, str] | Problem:
    """Front matter and body, or why there is no usable front matter."""
    if not _HANDLER.detect(text):
        return Problem(
            "no-front-matter",
            "no front matter (the file must start with a '---' line)",
            line=1,
        )
    try:
        fm, body = _HANDLER.split(text)
    except ValueError:
        return Problem("parse-error", "front matter is not terminated (no closing '---')", line=1)
    return str(fm), str(body)


def _related(data: dict[str, Any], problems: list[Problem]) -> list[RelatedLink]:
    links: list[RelatedLink] = []
    for key, value in data.items():
        match = _RELATED_KEY.match(key)
        if not match:
            continue
        if not isinstance(value, dict):
            problems.append(
                Problem(
                    "bad-type", f"{key} is not a mapping of id/title/subject/url", Severity.WARNING
                )
            )
            continue
        raw_id = value.get("id")
        link_id = raw_id if isinstance(raw_id, int | str) and not isinstance(raw_id, bool) else None
        links.append(
            RelatedLink(
                key=key,
                number=int(match.group(1)),
                id=link_id,
                title=_text(value.get("title")).strip(),
                subject=_text(value.get("subject")).strip(),
                url=_text(value.get("url")).strip(),
            )
        )
    links.sort(key=lambda link: link.number)
    return links


def article_from_bytes(data: bytes, path: Path, root: Path) -> Article:
    """Build an Article from a file's bytes; never raises, failures become Problems."""
    try:
        relpath = path.relative_to(root).as_posix()
    except ValueError:
        relpath = path.name
    parts = Path(relpath).parts
    folder_subject = parts[0] if len(parts) > 1 else None
    article = Article(path=path, relpath=relpath, title=path.stem, file_name=path.name)
    article.subject = folder_subject or NO_SUBJECT

    text, problem = _decode(data)
    if problem is not None or text is None:
        article.problems.append(problem or Problem("parse-error", "unreadable"))
        return article
    split = _split(text)
    if isinstance(split, Problem):
        article.problems.append(split)
        return article
    fm_text, body = split
    try:
        # the split text starts with the newline that ends the opening '---' line
        fm = load_mapping(fm_text, first_line=1)
    except YamlLoadError as exc:
        article.problems.append(Problem("parse-error", exc.reason, line=exc.line))
        return article
    _fill(article, fm, body, folder_subject)
    return article


def _fill(article: Article, fm: dict[str, Any], body: str, folder_subject: str | None) -> None:
    article.front_matter = fm
    raw_id = fm.get("id")
    article.id = raw_id if isinstance(raw_id, int | str) and not isinstance(raw_id, bool) else None
    for key in ("title", "article_title", "question"):
        candidate = _text(fm.get(key)).strip()
        if candidate:
            article.title = candidate
            break
    article.subject = _text(fm.get("subject")).strip() or folder_subject or NO_SUBJECT
    article.date = _date(fm.get("date"))
    article.author = _text(fm.get("author")).strip()
    article.url = _text(fm.get("url")).strip()
    article.file_name = _text(fm.get("file_name")).strip() or article.path.name
    article.question = _text(fm.get("question")).strip()
    seo = fm.get("seo")
    if isinstance(seo, dict):
        article.seo_title = _text(seo.get("title")).strip()
        article.seo_description = _text(seo.get("page_description")).strip()
        article.seo_keywords = _text(seo.get("page_keywords")).strip()
    answer = fm.get("answer")
    if answer is not None and _text(answer).strip():
        article.answer = _text(answer)
    elif not _EMPTY_BODY.match(body):
        article.answer = body
    article.related = _related(fm, article.problems)


def load_article(path: Path, root: Path) -> Article:
    """Read and parse one file; an unreadable or oversized file becomes a Problem."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            article = article_from_bytes(b"", path, root)
            article.problems[:] = [
                Problem("parse-error", f"file too large ({size:,} bytes), not loaded")
            ]
            return article
        data = path.read_bytes()
    except OSError as exc:
        article = article_from_bytes(b"", path, root)
        reason = exc.strerror or type(exc).__name__
        article.problems[:] = [Problem("parse-error", f"unreadable: {reason}")]
        return article
    return article_from_bytes(data, path, root)


def front_matter_lines(path: Path, limit: int = 400) -> list[str]:
    """The file's first lines up to the closing '---' (for showing a problem in context)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(256 * 1024)
    except OSError:
        return []
    text = head.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
    lines = text.split("\n")[:limit]
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            return lines[: index + 1]
    return lines
