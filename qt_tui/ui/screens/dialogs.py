"""Small modal screens: a yes/no question, a diff to approve, and the article picker."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from ...model.article import Article
from ...model.text import one_line, printable


class ConfirmScreen(ModalScreen[bool]):
    """Ask a yes/no question; `y`/Enter is yes, `n`/Esc is no."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(classes="dialog-screen")
        self.question = question
        self.yes_label = yes
        self.no_label = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(printable(self.question)))
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes_label} (y)", variant="primary", id="yes")
                yield Button(f"{self.no_label} (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class DiffScreen(ModalScreen[bool]):
    """Show a unified diff; with `ask`, approve it (y) or not (n/Esc)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Apply", show=False),
        Binding("n", "answer(False)", "Cancel", show=False),
        Binding("escape", "answer(False)", "Close"),
    ]

    def __init__(self, title: str, diff: str, ask: str | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.heading = title
        self.diff = diff
        self.ask = ask

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(Text(printable(self.heading), style="bold"))
            with VerticalScroll(classes="diff-box"):
                body = printable(self.diff) or "(no change)"
                yield Static(Syntax(body, "diff", theme="ansi_dark", word_wrap=True))
            if self.ask is not None:
                yield Static(Text(f"{self.ask}  y: yes · n/Esc: no", style="bold"))
            else:
                yield Static(Text("Esc: close", style="dim"))

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer if self.ask is not None else False)


class ArticlePicker(ModalScreen[str | None]):
    """Pick an article by fuzzy title; returns its key, or None on Esc."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    LIMIT = 100

    def __init__(self, articles: list[Article], prompt: str = "Add a related article") -> None:
        super().__init__(classes="dialog-screen")
        self.articles = sorted(articles, key=lambda a: a.title.casefold())
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(Text(self.prompt, style="bold"))
            yield Input(placeholder="type part of a title", id="picker-query")
            yield OptionList(id="picker-options")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    def _fill(self, query: str) -> None:
        options = self.query_one(OptionList)
        if query.strip():
            matcher = Matcher(query)
            scored = [(matcher.match(a.title), a) for a in self.articles]
            found = [a for score, a in sorted(scored, key=lambda x: -x[0]) if score > 0]
        else:
            found = self.articles
        rows = []
        for article in found[: self.LIMIT]:
            label = Text(one_line(article.title))
            label.append(f"  · {one_line(article.subject)}", style="dim")
            rows.append(Option(label, id=article.key))
        options.set_options(rows)
        options.highlighted = 0 if rows else None

    @on(Input.Changed, "#picker-query")
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#picker-query")
    def _submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        options = self.query_one(OptionList)
        if key in ("down", "up") and self.focused is self.query_one(Input):
            options.action_cursor_down() if key == "down" else options.action_cursor_up()

    @on(OptionList.OptionSelected, "#picker-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
