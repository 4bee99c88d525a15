"""The search pane: full-text results as you type, with subject and a highlighted snippet."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ...model.search import SearchHit, split_marked
from ...model.text import one_line
from ..widgets.virtual_list import VirtualList

Searcher = Callable[[str], list[SearchHit]]


def hit_label(hit: SearchHit) -> Text:
    """One result row: title · subject — snippet with the matched words highlighted."""
    label = Text(one_line(hit.title), style="bold")
    label.append(f"  · {one_line(hit.subject)}  ", style="cyan")
    for piece, matched in split_marked(one_line(hit.snippet)):
        label.append(piece, style="reverse" if matched else "dim")
    return label


class SearchScreen(ModalScreen[tuple[str, list[str]] | None]):
    """Type to search every title, question, answer, keyword and subject; Enter opens."""

    BINDINGS = [Binding("escape", "cancel", "Close"), Binding("down", "focus_results", show=False)]

    def __init__(
        self, search: Searcher, query: str = "", pending: Callable[[], str] | None = None
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.search = search
        #: What the index is still doing ("" when it is complete): results are partial then.
        self.pending = pending
        self.initial_query = query
        self.hits: list[SearchHit] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(Text("Search all articles", style="bold"))
            yield Input(self.initial_query, placeholder="words (the last one may be partial)")
            yield Static(id="search-status")
            yield VirtualList(id="search-results")
            yield Static(
                Text("Enter: open · ↓: to the results · Esc: close · then n / N: next / previous"),
                classes="dim-note",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        if self.initial_query:
            self._run(self.initial_query)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._run(event.value)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _run(self, query: str) -> None:
        hits = self.search(query)
        self.app.call_from_thread(self._show, query, hits)

    def _show(self, query: str, hits: list[SearchHit]) -> None:
        if query != self.query_one(Input).value:
            return  # a newer query is on its way
        self.hits = hits
        results = self.query_one(VirtualList)
        results.set_rows([(hit.relpath, hit_label(hit)) for hit in hits], fallback="first")
        status = f"{len(hits)} result(s)" if query.strip() else ""
        if query.strip() and len(hits) == 50:
            status = "the best 50 results"
        state = self.pending() if self.pending is not None else ""
        if query.strip() and state:
            status += f" so far: the search index is still being filled ({state})"
        self.query_one("#search-status", Static).update(Text(status, style="dim"))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self._open(self.query_one(VirtualList).highlighted_key)

    @on(VirtualList.Selected)
    def _selected(self, event: VirtualList.Selected) -> None:
        self._open(event.key)

    def _open(self, key: str | None) -> None:
        if key is not None:
            self.dismiss((key, [hit.relpath for hit in self.hits]))

    def action_focus_results(self) -> None:
        self.query_one(VirtualList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
