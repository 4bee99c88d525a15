"""The main screen: a thin coordinator between the three panes, the library and history."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, ProgressBar, Static

from ...model.article import Article
from ...model.library import Library
from ...model.text import printable
from ..history import History
from ..widgets.article_list import ArticleList
from ..widgets.article_view import ArticleDisplay, ArticleView
from ..widgets.footer import KeysFooter
from ..widgets.subject_tree import ALL, PROBLEMS, SubjectTree, TreeEntry
from .checks_flow import AUTO_CHECK_LIMIT, CHECK_BINDINGS, ChecksFlow
from .edit_flow import EDIT_BINDINGS, EditFlow
from .live_flow import LiveFlow
from .search import Searcher, SearchScreen

if TYPE_CHECKING:
    from ...model.cache import IndexCache
    from ...model.editing import SaveRecord
    from ...model.search import SearchHit

# The index, checks, YAML and Markdown modules are imported where they are first used, so
# that the first frame does not wait for them.


def settle_memory() -> None:
    """Collect, then freeze what is left (it lives as long as the library): later full
    collections no longer walk the index, the sorted lists and the rest (they took 20 to 60
    ms, in the middle of opening an article). Called from a timer of its own, so no handler's
    frame holds a cycle that would become garbage once frozen (frozen garbage is never freed);
    a new library unfreezes everything (see set_library)."""
    gc.collect()
    gc.freeze()


#: While cursor keys repeat faster than this, the view follows when they pause (seconds).
FOLLOW_INTERVAL = 0.06


class MainScreen(EditFlow, LiveFlow, ChecksFlow, Screen[None]):
    """Subject tree | article list | article view, with a status line and the footer."""

    BINDINGS = [
        Binding("tab", "app.focus_next", "Next pane", show=False),
        Binding("shift+tab", "app.focus_previous", "Previous pane", show=False),
        Binding("alt+left", "back", "Back", show=False),
        Binding("alt+right", "forward", "Forward", show=False),
        Binding("left_square_bracket", "back", "Back"),
        Binding("right_square_bracket", "forward", "Forward"),
        *(Binding(str(n), f"follow({n})", f"Follow link {n}", show=n == 1) for n in range(1, 10)),
        *EDIT_BINDINGS,
        *CHECK_BINDINGS,
        Binding("ctrl+f,s", "search", "Search"),
        Binding("m", "front_matter", "Front matter", show=False),
        Binding("n", "next_result(1)", "Next result", show=False),
        Binding("N", "next_result(-1)", "Previous result", show=False),
    ]

    def __init__(self, library: Library | None = None) -> None:
        super().__init__()
        self.library = library
        self.history = History()
        self.entry: TreeEntry = ALL
        self._status = Text("")
        self.undo_records: dict[str, SaveRecord] = {}
        self.deleted_keys: set[str] = set()
        self.watch_state = ""
        self.findings_by_key = {}
        self.code_counts = None
        self.check_generation = 0
        self.searcher: Searcher | None = None
        self.index_cache: IndexCache | None = None
        self.checks_enabled = False
        self.checks_requested = False
        self.search_state = ""
        self._pending_key: str | None = None
        self._follow_timer: Timer | None = None
        self._last_follow = 0.0
        self.search_query = ""
        self.search_results: list[str] = []
        self.search_position = -1
        self.before_write: Callable[[Path], None] = lambda path: None
        #: True once the app is quitting: background jobs end at their next step.
        self.stopped: Callable[[], bool] = lambda: False

    def compose(self) -> ComposeResult:
        yield Header(icon="?")
        with Horizontal(id="panes"):
            yield SubjectTree(id="tree")
            yield ArticleList(id="list")
            yield ArticleView(id="view")
        with Horizontal(id="status-bar"):
            yield Static(id="status")
            yield ProgressBar(total=1, id="progress", show_eta=False)  # never open-ended
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(ArticleList).filter_input.display = False
        self.query_one("#status", Static).update(self._status)
        self.query_one(ProgressBar).display = self.library is None  # empty until indexing says
        self.tree.focus()

    # -- panes ------------------------------------------------------------------------------
    @property
    def tree(self) -> SubjectTree:
        return self.query_one(SubjectTree)

    @property
    def article_list(self) -> ArticleList:
        return self.query_one(ArticleList)

    @property
    def view(self) -> ArticleView:
        return self.query_one(ArticleView)

    def set_progress(self, done: int | None, total: int | None) -> None:
        """Show indexing progress; None hides the bar.

        While the total is unknown the bar stays empty (the status line counts the files):
        Textual animates an open-ended bar fifteen times a second, and every frame drawn
        takes the interpreter from the indexing thread.
        """
        bar = self.query_one(ProgressBar)
        bar.display = done is not None
        if done is not None:
            bar.update(total=total or 1, progress=done if total else 0)

    def set_status(self, message: str) -> None:
        """Show one line in the status bar (text from files is never markup)."""
        self._status = Text(printable(message))
        if self.is_mounted:
            self.query_one("#status", Static).update(self._status)

    # -- library ----------------------------------------------------------------------------
    def set_library(self, library: Library, select: str | None = None) -> None:
        """Show a (re)loaded library, keeping the user's place where it still exists."""
        if self.library is not None and library is not self.library:
            # another library (a rescan): what was frozen with the old one (settle_memory)
            # must be collectable again, or the old index would stay in memory for good
            gc.unfreeze()
        self.library = library
        before = self.entry
        self.refresh_tree()  # problem counts are refreshed when the background check is done
        self.schedule_checks()
        open_key = self.view.article_key
        current = library.get(open_key) if open_key else None
        moved = current is not None and current.loaded and self.entry.kind == "subject"
        if select is None and moved and current is not None and self.entry.name != current.subject:
            self.entry = TreeEntry("subject", current.subject)  # follow it to its new subject
        if not self._entry_exists(self.entry):
            self.entry = ALL
        if self.entry != before:
            # only when the entry changed: the rebuilt tree kept its cursor, and moving it
            # anyway undid a move the user had just made (its message not handled yet)
            self.tree.move_to(self.entry)
        self.show_entry(self.entry)
        if select is not None and library.get(select) is not None:
            self.open_article(select)
        elif self.view.article_key is not None and (current := library.get(self.view.article_key)):
            if current.loaded:
                self.article_list.select(current.key)
                self._display(current, keep_scroll=True)
        elif self.view.article_key in self.deleted_keys and self.view.display_data is not None:
            self.view.display_data.deleted = True
            self.view.show_article(self.view.display_data, keep_scroll=True)
        elif self.view.article_key is None and self.article_list.highlighted_key is not None:
            # the first article: shown with the list in one frame, not in the frame after
            self._pending_key = self.article_list.highlighted_key
            self._show_highlighted()
        self.refresh_status()

    def refresh_tree(self) -> None:
        """Redraw the tree's counts and Problems node from the library and the last check."""
        library = self.library
        if library is None:
            return
        waiting = "checking…" if self.checks_requested or len(library) <= AUTO_CHECK_LIMIT else ""
        self.tree.show_library(
            library.subjects(),
            len(library.articles()),
            library.failed(),
            self.code_counts,
            pending=waiting or "select to check the folder",
        )
        # the rebuilt tree keeps its cursor where it was: moving it to `entry` here undid a
        # move the user had just made (its message not handled yet) whenever a check ended

    def _entry_exists(self, entry: TreeEntry) -> bool:
        assert self.library is not None
        if entry.kind == "subject":
            return bool(self.library.in_subject(entry.name))
        if entry.kind == "problem":
            article = self.library.get(entry.name)
            return article is not None and not article.loaded
        return True

    def refresh_status(self) -> None:
        """The status line: counts, problems, root and the watch state."""
        library = self.library
        if library is None:
            return
        loaded = library.loaded_count
        failed = len(library) - loaded
        subjects = len(library.subjects())
        note = f" · {failed} file(s) with problems" if failed else ""
        watch = f" · {self.watch_state}" if self.watch_state else ""
        if self.search_state:
            watch += f" · {self.search_state}"
        self.set_status(f"{loaded:,} articles in {subjects} subjects{note} · {library.root}{watch}")

    def reload_paths(self, paths: list[Path], deleted: list[Path] | None = None) -> None:
        """Re-read changed files (and drop deleted ones), then refresh every pane in place."""
        if self.library is None:
            return
        from ...model.files import is_content_file
        from ...model.indexing import update_paths

        wanted = [p for p in [*paths, *(deleted or [])] if is_content_file(p.name)]
        changed = [p for p in wanted if p.is_file()]
        gone = [p for p in wanted if not p.is_file()]
        open_key = self.view.article_key
        before = {self.relative_key(p) for p in gone if self.library.get(self.relative_key(p))}
        update_paths(self.library, self.index_cache, changed, gone)
        for path in changed:
            self.deleted_keys.discard(self.relative_key(path))
        if open_key in before:
            self.deleted_keys.add(open_key)
        self.set_library(self.library)

    def relative_key(self, path: Path) -> str:
        """The library key (path relative to the root) of a file path."""
        assert self.library is not None
        try:
            return path.resolve().relative_to(self.library.root.resolve()).as_posix()
        except ValueError:
            return path.name

    def _articles_for(self, entry: TreeEntry) -> tuple[str, list[Article]]:
        assert self.library is not None
        if entry.kind == "subject":
            return entry.name, self.library.in_subject(entry.name)
        if entry.kind == "code":
            keys = self.articles_with_code(entry.name)
            found = [a for k in keys if (a := self.library.get(k)) is not None]
            from ...model.checks import CODES

            return f"{entry.name} ({CODES[entry.name]})", found
        if entry.kind in ("problems", "problem"):
            return "Problems", self.library.failed()
        return "All articles", self.library.articles()

    def show_entry(self, entry: TreeEntry, keep: str | None = None) -> None:
        if self.library is None:
            return
        self.entry = entry
        heading, articles = self._articles_for(entry)
        if keep is None:
            keep = entry.name if entry.kind == "problem" else self.view.article_key
        deleted = self.view.article_key in self.deleted_keys
        version = (id(self.library), self.library.version) if entry.kind != "code" else None
        ordered = entry.kind in ("all", "subject") and self.library.in_title_order
        in_order = "title" if ordered else None
        self.article_list.show(
            heading,
            articles,
            keep=keep,
            fallback_first=not deleted,
            version=version,
            in_order=in_order,
        )

    def warm_lists(self) -> None:
        """Sort every subject's list ahead, one per moment the app is idle: opening an article
        of another subject (a related link, a search result) then does not wait for its sort."""
        library = self.library
        if library is None:
            return
        names = [name for name, _ in library.subjects()]
        version = (id(library), library.version)

        def next_subject() -> None:
            if not names or self.library is not library or library.version != version[1]:
                # done, or the library changed (what changed is sorted when shown)
                self.set_timer(0.1, settle_memory)
                return
            name = names.pop()
            in_order = "title" if library.in_title_order else None
            self.article_list.warm(name, library.in_subject(name), version, in_order)
            self.set_timer(0.05, next_subject)

        self.set_timer(0.05, next_subject)

    # -- opening articles -------------------------------------------------------------------
    def open_article(self, key: str, record: bool = True, keep_scroll: bool = False) -> None:
        """Show an article and bring the tree and list to it (from any route)."""
        if self.library is None or (article := self.library.get(key)) is None:
            return
        if not article.loaded:
            self.view.show_problem(article)
            return
        if record:
            self.history.visit(key)
        if self._follow_timer is not None:  # a pending cursor-follow must not undo this
            self._follow_timer.stop()
            self._follow_timer = None
        entry = TreeEntry("subject", article.subject)
        if self.entry != entry:
            self.tree.move_to(entry)
            self.show_entry(entry, keep=key)
        self.article_list.select(key)
        self._display(article, keep_scroll=keep_scroll)

    def _display(self, article: Article, keep_scroll: bool = False) -> None:
        assert self.library is not None
        article = self.library.full(article)
        rendered = self.library.render(article)
        from ...model.markdown import split_for_rendering

        head, tail = split_for_rendering(rendered.markdown)
        data = ArticleDisplay(
            article=article,
            markdown=printable(head),
            tail="\n\n".join(part for part in (tail, rendered.tail) if part),
            omitted_chars=rendered.omitted_chars,
            outline=rendered.info.outline,
            related=self.library.related(article),
            answer_links=self.library.answer_links(article),
            backlinks=self.library.backlinks(article),
            duplicates=[a for a in self.library.by_id(article.id) if a.key != article.key]
            if self.library.is_duplicate_id(article)
            else [],
            findings=self.findings_by_key.get(article.key, []),
        )
        if self.entry.kind == "code":
            data.focus_code = self.entry.name
            from ...model.loading import front_matter_lines

            data.source_lines = front_matter_lines(article.path)
        # (the header keeps the folder's path: a new header title with every article took
        # the screen a second layout and frame)
        self.view.show_article(data, keep_scroll=keep_scroll)

    # -- messages from the panes ------------------------------------------------------------
    @on(SubjectTree.EntryHighlighted)
    def _entry_highlighted(self, event: SubjectTree.EntryHighlighted) -> None:
        entry = event.entry
        cursor = self.tree.cursor_node
        if cursor is None or cursor.data != entry:
            return  # a stale message: the tree was rebuilt or moved since it was sent
        if entry.kind == "problem":
            self.show_entry(entry)
            assert self.library is not None
            if (article := self.library.get(entry.name)) is not None:
                self.article_list.select(article.key)
                self.view.show_problem(article)
            return
        if entry == PROBLEMS and self.code_counts is None and not self.checks_requested:
            self.action_run_checks()
        if entry != self.entry:
            self.show_entry(entry)

    @on(ArticleList.ArticleHighlighted)
    def _article_highlighted(self, event: ArticleList.ArticleHighlighted) -> None:
        """Show the row under the cursor: at once when idle, coalesced while keys repeat."""
        if event.key != self.article_list.highlighted_key:
            return  # a stale message: the list was refilled or moved since it was sent
        self._pending_key = event.key
        now = time.monotonic()
        busy = now - self._last_follow < FOLLOW_INTERVAL
        self._last_follow = now
        if self._follow_timer is not None:
            self._follow_timer.stop()
            self._follow_timer = None
        if busy:
            self._follow_timer = self.set_timer(FOLLOW_INTERVAL, self._show_pending)
        else:
            # The moved cursor is painted first; the view follows in the frame after.
            self.call_after_refresh(self._show_highlighted)

    def _show_pending(self) -> None:
        self._follow_timer = None
        self._show_highlighted()

    def _show_highlighted(self) -> None:
        key = self._pending_key
        if key is None or key != self.article_list.highlighted_key:
            return
        if self.library is None or (article := self.library.get(key)) is None:
            return
        if not article.loaded:
            self.view.show_problem(article)
        elif key != self.view.article_key:
            self.history.visit(key)
            self._display(article)

    @on(ArticleList.ArticleChosen)
    def _article_chosen(self, event: ArticleList.ArticleChosen) -> None:
        self._article_highlighted(ArticleList.ArticleHighlighted(event.key))
        self.view.focus()

    @on(ArticleView.FollowLink)
    def _follow(self, event: ArticleView.FollowLink) -> None:
        self.open_article(event.key)

    # -- actions ----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Single-key commands are text while an input has focus."""
        typed = (
            "follow",
            "back",
            "forward",
            "next_result",
            "search",
            "edit",
            "undo",
            "fix_article",
        )
        return not (action in typed and isinstance(self.focused, Input))

    def action_follow(self, number: int) -> None:
        """Follow related link N of the open article."""
        entry = self.view.related_target(number)
        if entry is None:
            self.notify(f"This article has no related link {number}.", severity="warning")
        elif entry.target is None:
            title = entry.link.title or entry.link.url
            self.notify(f"Link {number} ({title}) is not in this folder.", severity="warning")
        else:
            self.open_article(entry.target.key)

    def action_search(self) -> None:
        """Open the full-text search pane."""
        if self.searcher is None:
            self.notify("Search is available once the index is built.", timeout=3)
            return
        searcher = self.searcher

        def remember(query: str) -> list[SearchHit]:
            self.search_query = query
            return searcher(query)

        def chosen(result: tuple[str, list[str]] | None) -> None:
            if result is None:
                return
            key, self.search_results = result
            self.search_position = self.search_results.index(key)
            self.open_article(key)

        screen = SearchScreen(remember, self.search_query, pending=lambda: self.search_state)
        self.app.push_screen(screen, chosen)

    def action_front_matter(self) -> None:
        """Show or hide every front matter field of the open article (from any pane)."""
        self.view.action_toggle_front_matter()

    def action_next_result(self, step: int) -> None:
        """Open the next (or previous) search result."""
        if not self.search_results:
            self.notify("No search results: press s or ctrl+f to search.", timeout=3)
            return
        self.search_position = (self.search_position + step) % len(self.search_results)
        key = self.search_results[self.search_position]
        position = f"{self.search_position + 1}/{len(self.search_results)}"
        self.notify(f"Result {position}", timeout=1.5)
        self.open_article(key)

    def action_back(self) -> None:
        key = self.history.back()
        if key is None:
            self.notify("Nothing further back.", timeout=2)
        else:
            self.open_article(key, record=False)

    def action_forward(self) -> None:
        key = self.history.forward()
        if key is None:
            self.notify("Nothing further forward.", timeout=2)
        else:
            self.open_article(key, record=False)
