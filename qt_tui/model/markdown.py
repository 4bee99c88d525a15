"""What the app derives from an answer via mistune's AST: outline, links, plain text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mistune

_PARSER = mistune.create_markdown(renderer="ast", plugins=["table", "strikethrough"])

#: Blocks past this many are not rendered as widgets; the rest is shown as plain text.
MAX_RENDERED_BLOCKS = 120


@dataclass(frozen=True)
class Heading:
    """One heading of the answer's outline."""

    level: int
    text: str


@dataclass(frozen=True)
class AnswerLink:
    """A Markdown link inside the answer."""

    text: str
    url: str


@dataclass
class AnswerInfo:
    """The outline, links and plain text of one answer."""

    outline: list[Heading] = field(default_factory=list)
    links: list[AnswerLink] = field(default_factory=list)
    plain: str = ""
    block_count: int = 0


def _tokens(markdown: str) -> list[dict[str, Any]]:
    result = _PARSER(markdown)
    return result if isinstance(result, list) else []


def _inline_text(token: dict[str, Any]) -> str:
    if "raw" in token and isinstance(token["raw"], str):
        return token["raw"]
    if token.get("type") in ("softbreak", "linebreak"):
        return " "
    return "".join(_inline_text(child) for child in token.get("children", []))


def _walk(tokens: list[dict[str, Any]], info: AnswerInfo, plain: list[str]) -> None:
    for token in tokens:
        kind = token.get("type")
        if kind == "heading":
            text = _inline_text(token).strip()
            info.outline.append(Heading(int(token.get("attrs", {}).get("level", 1)), text))
            plain.append(text)
        elif kind == "link":
            url = str(token.get("attrs", {}).get("url", ""))
            info.links.append(AnswerLink(_inline_text(token).strip(), url))
        elif kind in ("paragraph", "block_text", "table_cell"):
            plain.append(_inline_text(token))
        elif kind == "block_code":
            plain.append(str(token.get("raw", "")))
        children = token.get("children")
        if isinstance(children, list):
            _walk(children, info, plain if kind not in ("heading",) else [])


def analyse(markdown: str) -> AnswerInfo:
    """Parse the (math-rendered) answer Markdown once and collect what the app needs."""
    tokens = _tokens(markdown)
    info = AnswerInfo(block_count=sum(1 for t in tokens if t.get("type") != "blank_line"))
    plain: list[str] = []
    _walk(tokens, info, plain)
    info.plain = " ".join(" ".join(part.split()) for part in plain if part.strip())
    return info


def split_for_rendering(markdown: str, max_blocks: int = MAX_RENDERED_BLOCKS) -> tuple[str, str]:
    """Split a huge answer into a head to render as Markdown and a tail to show as plain text.

    Textual builds one widget per block, so an answer of thousands of blocks would freeze the UI.
    """
    if markdown.count("\n\n") < max_blocks:
        return markdown, ""
    paragraphs = markdown.split("\n\n")
    head = "\n\n".join(paragraphs[:max_blocks])
    # never cut inside a fenced code block
    if head.count("```") % 2:
        head += "\n```"
    return head, "\n\n".join(paragraphs[max_blocks:])
