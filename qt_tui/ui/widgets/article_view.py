"""The right pane: header, rendered answer, related articles, backlinks, front matter panel."""

from __future__ import annotations

import datetime
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from rich.style import Style
from rich.styled import Styled
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...model.article import Article
from ...model.library import ResolvedLink
from ...model.text import one_line, printable

if TYPE_CHECKING:
    from ...model.checks import Finding
    from ...model.markdown import Heading


@dataclass
class ArticleDisplay:
    """Everything the view shows for one article, gathered by the screen from the library."""

    article: Article
    markdown: str
    tail: str = ""
    outline: list[Heading] = field(default_factory=list)
    related: list[ResolvedLink] = field(default_factory=list)
    answer_links: list[ResolvedLink] = field(default_factory=list)
    backlinks: list[Article] = field(default_factory=list)
    duplicates: list[Article] = field(default_factory=list)
    omitted_chars: int = 0
    deleted: bool = False
    findings: list[Finding] = field(default_factory=list)
    focus_code: str | None = None
    source_lines: list[str] = field(default_factory=list)


class _SizedInOnePass:
    """Mixin: a new size found by a layout pass does not ask for another pass.

    Textual sets a widget's `virtual_size` after each layout pass with `layout=True`, so any
    widget whose content changed height made the screen lay out a second time (12 ms, at
    every article opened). These widgets' sizes are final after the first pass: their
    content is measured by it, and the scroll container updates its scrollbars (which do
    lay out again when one appears or goes) either way.
    """

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        return super()._size_updated(  # type: ignore[misc,no-any-return]
            size, virtual_size, container_size, layout=False
        )


class ViewText(_SizedInOnePass, Static):
    """A block of text in the view (header, findings, sections)."""


class AnswerMarkdown(_SizedInOnePass, Widget):
    """The rendered answer: Rich's Markdown drawn once per width into lines (the Line API).

    Textual's Markdown widget mounts a widget for every paragraph, list and table (about half
    a second per article), and a `Static` renders the Markdown again to measure its height and
    again to draw it. Here one render gives both: the height is the number of lines, and only
    the lines on screen are handed to the compositor. Recent renders are kept, so going back
    to an article, or a refresh of the one on screen, costs nothing.
    """

    DEFAULT_CSS = """
    AnswerMarkdown {
        width: 1fr;
        height: auto;
    }
    """

    #: How many rendered answers (per width and style) are kept for going back and forth.
    CACHED_RENDERS = 24

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = ""
        self._renders: OrderedDict[tuple[str, int, Style], list[Strip]] = OrderedDict()

    def show_markdown(self, markdown: str) -> None:
        """Replace the answer (already math-rendered, control characters made visible)."""
        if markdown == self.source:
            return
        self.source = markdown
        self.refresh(layout=True)

    def rendered_lines(self, width: int) -> list[Strip]:
        """The answer rendered at `width` cells, one strip a line (rendered once, then kept)."""
        if width <= 0 or not self.source:
            return []
        style = self.visual_style.rich_style
        key = (self.source, width, style)
        renders = self._renders
        lines = renders.get(key)
        if lines is not None:
            renders.move_to_end(key)
            return lines
        from rich.markdown import Markdown as RichMarkdown  # after the first frame

        markdown = RichMarkdown(self.source, code_theme="ansi_dark", hyperlinks=False)
        options = self.app.console_options.update(highlight=False, width=width, height=None)
        segments = self.app.console.render(Styled(markdown, style), options)
        lines = [
            Strip(line)
            for line in Segment.split_and_crop_lines(
                segments, width, include_new_lines=False, pad=False
            )
        ]
        renders[key] = lines
        while len(renders) > self.CACHED_RENDERS:
            renders.popitem(last=False)
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.rendered_lines(width))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        lines = self.rendered_lines(width)
        if 0 <= y < len(lines):
            return lines[y]
        return Strip.blank(width, self.visual_style.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh(layout=True)


class LinkList(OptionList):
    """Rows of links; Enter follows one."""

    BINDINGS = [("j", "cursor_down", "Down"), ("k", "cursor_up", "Up")]

    #: Rows shown before the list scrolls (its `max-height` in app.tcss).
    MAX_ROWS = 12


class ArticleView(_SizedInOnePass, VerticalScroll):
    """Shows one article, or why a file failed to load."""

    BINDINGS = [
        Binding("j", "scroll_down", "Scroll down", show=False),
        Binding("k", "scroll_up", "Scroll up", show=False),
    ]

    class FollowLink(Message):
        """The user chose a link whose target is the article with this key."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.display_data: ArticleDisplay | None = None

    def compose(self) -> ComposeResult:
        yield ViewText(id="view-header")
        yield ViewText(id="view-findings")
        yield ViewText(id="view-source")
        yield AnswerMarkdown(id="view-answer")
        yield ViewText(id="view-tail")
        yield ViewText("Related articles", classes="section", id="related-title")
        yield LinkList(id="view-related")
        yield ViewText("Referenced by", classes="section", id="backlinks-title")
        yield LinkList(id="view-backlinks")
        yield ViewText(id="view-front-matter")

    def on_mount(self) -> None:
        self.query_one("#view-front-matter").display = False
        self.show_nothing("Loading…")

    # -- public -----------------------------------------------------------------------------
    @property
    def article_key(self) -> str | None:
        """The key of the article on screen, if any."""
        return self.display_data.article.key if self.display_data else None

    def show_nothing(self, message: str) -> None:
        """An empty view with a message (nothing selected, or still loading)."""
        self.display_data = None
        self.query_one("#view-findings", Static).display = False
        self.query_one("#view-source", Static).display = False
        self.query_one("#view-header", Static).update(Text(message, style="dim"))
        self._set_markdown("")
        self.query_one("#view-tail", Static).display = False
        self._set_links("#view-related", "#related-title", [])
        self._set_links("#view-backlinks", "#backlinks-title", [])
        self.query_one("#view-front-matter", Static).update("")

    def show_article(self, data: ArticleDisplay, keep_scroll: bool = False) -> None:
        """Show an article; scroll to the top unless it is the same article refreshed."""
        same = self.article_key == data.article.key
        self.display_data = data
        self.query_one("#view-header", Static).update(self._header(data))
        self._show_findings(data)
        self._set_markdown(data.markdown or "*This article has no answer.*")
        tail = self.query_one("#view-tail", Static)
        tail.display = bool(data.tail)
        if data.tail:
            note = Text("— the rest of this very long answer, as plain text —\n\n", style="dim")
            body = note + Text(printable(data.tail))
            if data.omitted_chars:
                body.append(
                    f"\n\n… {data.omitted_chars:,} more characters not shown here; "
                    "open the file in an editor to read them.",
                    style="bold yellow",
                )
            tail.update(body)
        self._set_links("#view-related", "#related-title", self._related_rows(data))
        backlink_rows = [Option(self._article_row(a), id=a.key) for a in data.backlinks]
        self._set_links("#view-backlinks", "#backlinks-title", backlink_rows)
        self.query_one("#view-front-matter", Static).update(self._front_matter(data.article))
        if not (same and keep_scroll) and self.scroll_offset.y:
            # now, not after the next refresh (the default): that took a second layout and
            # frame for every article opened
            self.scroll_home(animate=False, immediate=True)

    def set_findings(self, findings: list[Finding]) -> None:
        """New check results for the open article (the badge and list under the header)."""
        if self.display_data is not None:
            self.display_data.findings = findings
            self._show_findings(self.display_data)

    def _show_findings(self, data: ArticleDisplay) -> None:
        box = self.query_one("#view-findings", Static)
        source = self.query_one("#view-source", Static)
        shown = [f for f in data.findings if f.severity != "info" or f.code == data.focus_code]
        box.display = bool(shown)
        source.display = bool(data.focus_code and data.source_lines)
        if shown:
            text = Text(f"⚠ {len(shown)} problem(s) in this file", style="bold yellow")
            for finding in shown[:12]:
                where = f"line {finding.line}" if finding.line else "file"
                style = "reverse bold" if finding.code == data.focus_code else ""
                text.append(f"\n  {where} · {finding.severity} {finding.code}: ", style=style)
                text.append(one_line(finding.message), style=style or "dim")
            if len(shown) > 12:
                text.append(f"\n  … and {len(shown) - 12} more", style="dim")
            text.append("\n  f: apply the safe fixes (stale or repeated related entries)", "dim")
            box.update(text)
        if source.display:
            source.update(self._source(data))

    @staticmethod
    def _source(data: ArticleDisplay) -> Text:
        lines = {f.line for f in data.findings if f.code == data.focus_code and f.line}
        first = min(lines) if lines else 1
        start = max(1, first - 3)
        text = Text("Front matter around the problem\n", style="bold")
        for number in range(start, min(len(data.source_lines), first + 6) + 1):
            line = printable(data.source_lines[number - 1])
            style = "reverse" if number in lines else ""
            text.append(f"{number:>4} │ ", style="dim")
            text.append(line + "\n", style=style)
        return text

    def show_problem(self, article: Article) -> None:
        """Explain why a file could not be loaded."""
        self.show_nothing("")
        text = Text(one_line(article.relpath), style="bold red")
        text.append("\n\nThis file could not be loaded:\n", style="bold")
        for problem in article.problems:
            text.append(f"  • {one_line(problem.describe())}\n")
        text.append(f"\n{printable(str(article.path))}", style="dim")
        self.query_one("#view-header", Static).update(text)

    def related_target(self, number: int) -> ResolvedLink | None:
        """Related link N (1-based, as numbered on screen), if there is one."""
        if self.display_data is None:
            return None
        links = self.display_data.related + self.display_data.answer_links
        return links[number - 1] if 0 < number <= len(links) else None

    def action_toggle_front_matter(self) -> None:
        panel = self.query_one("#view-front-matter", Static)
        panel.display = not panel.display
        if panel.display:
            self.scroll_to_widget(panel, top=True, animate=False)

    # -- rendering --------------------------------------------------------------------------
    def _set_markdown(self, markdown: str) -> None:
        self.query_one(AnswerMarkdown).show_markdown(markdown)

    def _header(self, data: ArticleDisplay) -> Text:
        article = data.article
        text = Text(one_line(article.title), style="bold")
        if data.deleted:
            text.append("\n⚠ this file was deleted on disk; showing its last content", "bold red")
        date = article.date.isoformat() if article.date else "no date"
        text.append(f"\n{one_line(article.subject)} · {date} · id {article.id}", style="cyan")
        if article.author:
            text.append(f" · {one_line(article.author)}", style="cyan")
        text.append(f"\n{one_line(article.url) or '(no url)'}", style="dim")
        text.append(f"\n{one_line(article.relpath)}", style="dim")
        if data.duplicates:
            others = ", ".join(one_line(a.relpath) for a in data.duplicates)
            text.append(f"\n⚠ duplicate id {article.id}: also {others}", style="bold yellow")
        for problem in article.problems:
            text.append(f"\n⚠ {one_line(problem.describe())}", style="yellow")
        if data.outline and len(data.outline) > 1:
            headings = " › ".join(one_line(h.text) for h in data.outline[:8])
            text.append(f"\nOutline: {headings}", style="dim italic")
        return text

    def _related_rows(self, data: ArticleDisplay) -> list[Option]:
        rows: list[Option] = []
        for number, entry in enumerate(data.related + data.answer_links, start=1):
            label = Text(f"{number:>2}. ", style="bold")
            title = entry.target.title if entry.target else entry.link.title
            label.append(one_line(title or entry.link.url or "(untitled)"))
            if entry.link.key == "answer":
                label.append("  (linked in the answer)", style="dim")
            if entry.target is None:
                label.append("  — not in this folder", style="red")
                rows.append(Option(label, disabled=True))
                continue
            label.append(f"  · {one_line(entry.target.subject)}", style="dim")
            if entry.repeats > 1:
                label.append(f"  (listed {entry.repeats}×)", style="yellow")
            rows.append(Option(label, id=entry.target.key))
        return rows

    @staticmethod
    def _article_row(article: Article) -> Text:
        label = Text(one_line(article.title))
        label.append(f"  · {one_line(article.subject)}", style="dim")
        return label

    def _set_links(self, list_id: str, title_id: str, rows: list[Option]) -> None:
        links = self.query_one(list_id, LinkList)
        # A scrollbar only when the rows exceed the list's height: with "auto" it flickers on
        # while the new rows meet the old height, costing two more layouts per article.
        links.styles.overflow_y = "auto" if len(rows) > LinkList.MAX_ROWS else "hidden"
        links.set_options(rows)
        title = self.query_one(title_id, Static)
        name = "Related articles" if list_id == "#view-related" else "Referenced by"
        title.update(Text(f"{name} ({len(rows)})", style="bold"))
        links.display = bool(rows)

    @staticmethod
    def _front_matter(article: Article) -> Text:
        text = Text("Front matter (every key)\n", style="bold")
        for key, value in article.front_matter.items():
            _append_value(text, key, value, 0)
        return text

    @on(OptionList.OptionSelected, "LinkList")
    def _link_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.FollowLink(event.option.id))


def _append_value(text: Text, key: str, value: Any, depth: int) -> None:
    pad = "  " * depth
    if isinstance(value, dict):
        text.append(f"{pad}{one_line(str(key))}:\n", style="bold cyan")
        for child_key, child in value.items():
            _append_value(text, str(child_key), child, depth + 1)
        return
    if isinstance(value, datetime.date):
        shown = value.isoformat()
    else:
        shown = printable(str(value)) if value is not None else "null"
    if len(shown) > 400:
        shown = shown[:400] + f"… ({len(shown):,} characters)"
    text.append(f"{pad}{one_line(str(key))}: ", style="cyan")
    text.append(f"{shown}\n")
