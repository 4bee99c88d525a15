"""The middle pane: the articles of the selected node, sortable, filterable as you type."""

from __future__ import annotations

from collections import OrderedDict

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from ...model.article import Article
from ...model.library import SORT_KEYS, filter_articles, sort_articles
from ...model.text import one_line
from .virtual_list import Rows, VirtualList


class ArticleOptions(VirtualList):
    """The rows: only the visible ones are rendered, so 100,000 articles scroll freely."""


class ArticleList(Vertical):
    """A heading, a filter box shown by `/`, and one row per article."""

    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("o", "cycle_sort", "Sort"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    class ArticleHighlighted(Message):
        """The cursor is on an article: the view should show it."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    class ArticleChosen(Message):
        """Enter on a row: show it and move focus to the view."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    #: Sorted lists kept for reuse and their total rows: every subject of a 100,000-article
    #: folder and then some (a row costs about a hundred bytes).
    CACHED_LISTS = 40
    CACHED_ROWS = 250_000

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._articles: list[Article] = []
        self._shown: list[Article] = []
        self._heading = "Articles"
        self.sort_by = "title"
        self._version: object = None
        self._in_order: str | None = None
        # Sorted rows of recently shown lists, most recent last (see `show`).
        self._sorted: OrderedDict[tuple[str, str, object], tuple[list[Article], Rows]] = (
            OrderedDict()
        )

    def compose(self) -> ComposeResult:
        yield Static(id="list-heading")
        yield Input(placeholder="filter: words in title, id, keywords", id="list-filter")
        yield ArticleOptions(id="list-options")

    @property
    def options(self) -> ArticleOptions:
        return self.query_one(ArticleOptions)

    @property
    def filter_input(self) -> Input:
        return self.query_one(Input)

    @property
    def shown_keys(self) -> list[str]:
        """Keys of the rows currently listed, in order."""
        return [a.key for a in self._shown]

    @property
    def highlighted_key(self) -> str | None:
        return self.options.highlighted_key

    def show(
        self,
        heading: str,
        articles: list[Article],
        keep: str | None = None,
        fallback_first: bool = True,
        version: object = None,
        in_order: str | None = None,
    ) -> None:
        """Replace the rows; keep the cursor on `keep` (or the current row) when listed.

        When that row is gone the cursor goes to the first row, unless `fallback_first` is
        False (the open article was deleted: leave it on screen until the user moves).
        `version` identifies this list's content (e.g. the library's version): the sorted rows
        of a recent (heading, version) are reused instead of sorting tens of thousands again.
        `in_order` names the sort `articles` are already in (they are listed as they come).
        """
        self._heading = heading
        self._articles = articles
        self._version = version
        self._in_order = in_order
        self._refresh_rows(keep if keep is not None else self.highlighted_key, fallback_first)

    def warm(
        self, heading: str, articles: list[Article], version: object, in_order: str | None = None
    ) -> None:
        """Sort a list ahead of time (kept like a shown one), so that showing it is instant.
        `in_order` as for :meth:`show`."""
        cache_key = (heading, self.sort_by, version)
        if version is None or cache_key in self._sorted:
            return
        if in_order == self.sort_by:
            shown = list(articles)
        else:
            shown = sort_articles(articles, self.sort_by)
        self._remember(cache_key, (shown, self._rows(shown)))

    def _refresh_rows(self, keep: str | None, fallback_first: bool = True) -> None:
        query = self.filter_input.value
        cache_key = (self._heading, self.sort_by, self._version)
        cacheable = self._version is not None and not query
        cached = self._sorted.get(cache_key) if cacheable else None
        if cached is not None:
            self._sorted.move_to_end(cache_key)
        else:
            if self._in_order == self.sort_by and not query:
                shown = list(self._articles)
            else:
                shown = sort_articles(filter_articles(self._articles, query), self.sort_by)
            cached = (shown, self._rows(shown))
            if cacheable:
                self._remember(cache_key, cached)
        self._shown, rows = cached
        options = self.options
        options.set_rows(rows, highlight_key=keep, fallback="first" if fallback_first else "none")
        self._update_heading()

    def _remember(
        self, cache_key: tuple[str, str, object], entry: tuple[list[Article], Rows]
    ) -> None:
        """Keep sorted rows for reuse, least recently shown dropped first, within a budget."""
        sorted_lists = self._sorted
        for stale in [key for key in sorted_lists if key[2] != cache_key[2]]:
            del sorted_lists[stale]  # rows of an older library version are never shown again
        sorted_lists[cache_key] = entry
        total = sum(len(rows) for _, rows in sorted_lists.values())
        while len(sorted_lists) > 1 and (
            len(sorted_lists) > self.CACHED_LISTS or total > self.CACHED_ROWS
        ):
            _, (_, dropped) = sorted_lists.popitem(last=False)
            total -= len(dropped)

    def _rows(self, shown: list[Article]) -> Rows:
        if self.sort_by == "title":  # the usual case, at 100,000 rows: no call per row
            return Rows([a.relpath for a in shown], [a.title for a in shown])
        return Rows([a.relpath for a in shown], [self._row(a) for a in shown])

    def _row(self, article: Article) -> str:
        # A plain string: the list never parses it as markup and shows control characters
        # as spaces; styling 100,000 rows up front would cost more than rendering them.
        if self.sort_by == "date":
            return f"{article.date.isoformat() if article.date else '(no date) '}  {article.title}"
        if self.sort_by == "id":
            return f"{article.id}  {article.title}"
        return article.title

    def _update_heading(self) -> None:
        total = len(self._articles)
        shown = len(self._shown)
        count = f"{shown:,} of {total:,}" if shown != total else f"{total:,}"
        heading = Text(one_line(self._heading), style="bold")
        heading.append(f"  {count} · by {self.sort_by}", style="dim")
        self.query_one("#list-heading", Static).update(heading)

    def select(self, key: str) -> bool:
        """Move the cursor to an article, clearing the filter if it hides it."""
        if self.options.index_of(key) is None and self.filter_input.value:
            self.filter_input.value = ""
            self._refresh_rows(key)
        if self.options.index_of(key) is None:
            return False
        self.options.highlight_key(key)
        return True

    def action_filter(self) -> None:
        self.filter_input.display = True
        self.filter_input.focus()

    def action_clear_filter(self) -> None:
        if self.filter_input.value:
            self.filter_input.value = ""
        self.filter_input.display = False
        self.options.focus()

    def action_cycle_sort(self) -> None:
        self.sort_by = SORT_KEYS[(SORT_KEYS.index(self.sort_by) + 1) % len(SORT_KEYS)]
        self._refresh_rows(self.highlighted_key)
        self.notify(f"Sorted by {self.sort_by}", timeout=2)

    @on(Input.Changed, "#list-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._refresh_rows(self.highlighted_key)
        if (key := self.highlighted_key) is not None:
            self.post_message(self.ArticleHighlighted(key))

    @on(Input.Submitted, "#list-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.options.focus()

    @on(VirtualList.Highlighted, "#list-options")
    def _highlighted(self, event: VirtualList.Highlighted) -> None:
        event.stop()
        self.post_message(self.ArticleHighlighted(event.key))

    @on(VirtualList.Selected, "#list-options")
    def _selected(self, event: VirtualList.Selected) -> None:
        event.stop()
        self.post_message(self.ArticleChosen(event.key))
