"""The Textual application: loads the library in the background and wires the screens."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..model.article import Article
from ..model.library import Library
from ..resources import stylesheet
from .commands import ArticleCommands
from .processes import start_resource_tracker
from .screens.help import HelpScreen
from .screens.live_flow import FilesChanged
from .screens.main import MainScreen, settle_memory

if TYPE_CHECKING:
    from ..model.cache import IndexCache
    from ..model.snapshot import SnapshotWriter
    from ..model.watching import ChangeBatch, ContentWatcher

# The index, cache and watcher modules (SQLite, YAML, watchdog) are imported by the workers
# that use them, after the first frame is on screen.

#: More changed files than this since the last run: rescan the folder (in worker processes)
#: rather than re-reading them one by one.
STALE_RESCAN = 500

#: With more articles than this, the background work after loading waits for the library
#: to be drawn (half a second).
DRAW_FIRST = 20_000

#: gc.set_threshold() while the app runs (the default is 700, 10, 10).
GC_THRESHOLDS = (1_000, 10, 100)

#: Seconds between progress redraws while indexing.
PROGRESS_INTERVAL = 0.5


class QtApp(App[None]):
    """qt-tui: browse a folder of QuickTakes articles."""

    TITLE = "qt-tui"
    CSS_PATH = str(stylesheet("app.tcss"))
    COMMANDS = App.COMMANDS | {ArticleCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
    ]

    class LoadProgress(Message):
        """The background index has handled `done` of `total` files."""

        def __init__(self, done: int, total: int | None) -> None:
            super().__init__()
            self.done = done
            self.total = total

    class ArticlesFound(Message):
        """A chunk of articles indexed in the background, to browse before the end."""

        def __init__(self, articles: list[Article]) -> None:
            super().__init__()
            self.articles = articles

    def __init__(
        self,
        root: Path,
        selected: Path | None = None,
        watch: bool = True,
        use_cache: bool = True,
        rebuild_cache: bool = False,
    ) -> None:
        super().__init__()
        self.root = root
        self.selected = selected
        self.watch = watch
        self.use_cache = use_cache
        self.rebuild_cache = rebuild_cache
        self.index: IndexCache | None = None
        self.watcher: ContentWatcher | None = None
        self.snapshots: SnapshotWriter | None = None
        self._snapshot_lock = threading.Lock()
        #: Set when the app unmounts: the background jobs (indexing, the folder check) end
        #: at their next step instead of holding the exit until they are done.
        self.stopping = threading.Event()
        self.main_screen = MainScreen()
        self.main_screen.before_write = self._before_write
        self.main_screen.stopped = self.stopping.is_set
        self._partial = Library(root)
        self._partial_dirty = False
        self._loading = True
        #: When the first frame was drawn (time.time()), for the benchmark.
        self.first_frame_at: float | None = None
        #: True once backlinks are complete (the files' related entries are all indexed).
        self.index_ready = False
        #: True once the search index holds every file too (the end of the background work).
        self.search_ready = False
        self._show_while_indexing = True
        self._progress: tuple[int, int | None] = (0, None)
        self._last_partial = 0.0
        self._partial_shown = 0  # articles in the partial library when it was last shown
        self._last_progress = 0.0

    def get_default_screen(self) -> Screen[None]:
        return self.main_screen

    def on_mount(self) -> None:
        self.sub_title = str(self.root)
        self.main_screen.set_status(f"Indexing {self.root} …")
        self.main_screen.index_cache = None
        self._partial_timer = self.set_interval(0.5, self._show_partial)

    def on_ready(self) -> None:
        """The first frame is on screen: now start the work (it competes for the CPU)."""
        self.first_frame_at = time.time()
        # what start-up made lives as long as the app: out of the collector's way (qt-tui
        # turned the collector off until now, see cli.make_app)
        gc.freeze()
        # A large heap that lives as long as the app, and bursts of small objects at each
        # keypress (strips, messages): a full collection walked every object made since the
        # last freeze (20 to 60 ms, in the middle of opening an article). Full collections
        # now come after a hundred middle ones instead of ten.
        gc.set_threshold(*GC_THRESHOLDS)
        gc.enable()
        self._load()

    def _open_index(self) -> IndexCache:
        import sqlite3

        from ..model.cache import IndexCache

        if self.use_cache:
            try:
                return IndexCache.open(self.root, rebuild=self.rebuild_cache)
            except (OSError, sqlite3.Error) as exc:
                self.call_from_thread(
                    self.notify, f"Index cache unavailable ({exc}); indexing in memory."
                )
        return IndexCache.in_memory(self.root)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _load(self) -> Library | None:
        from ..model.indexing import IndexStopped, build_library

        self.index = self._open_index()
        # a cache a stopped build left (files missing) is compared with the folder
        warm = self.index.count() > 0 and self.index.listed()
        if warm:
            # the cache is read in a second or two: browsing a partial copy (built on the
            # UI thread) would only slow it down
            self._show_while_indexing = False
        else:  # the workers read the folder now (a warm start needs them after it is shown)
            self.call_from_thread(start_resource_tracker)
        # Cold, the library shown while indexing (built on the UI thread from the batches)
        # becomes the final one: this thread keeps no second copy (see on_worker_state_changed)
        # the index is made of long-lived objects: no collection passes over them while
        # they are made, and they are frozen (kept out of every later collection) after
        gc.disable()
        try:
            return build_library(
                self.root,
                cache=self.index,
                progress=lambda done, total: self.post_message(self.LoadProgress(done, total)),
                batch_sink=lambda articles: self.post_message(self.ArticlesFound(articles)),
                defer_search=True,  # list everything first; the search index fills in after
                details=False,  # related entries and search text: read after, in the background
                verify=not warm,  # compared with the folder after the start (_complete_index)
                stopped=self.stopping.is_set,
                keep=warm,
            )
        except IndexStopped:
            return None  # quitting: what was indexed is kept, the next start reads the rest
        finally:
            gc.freeze()
            gc.enable()

    @work(thread=True, exclusive=True, exit_on_error=False, group="complete-index")
    def _complete_index(self, verified: bool) -> None:
        """After the start: catch up with changes made while the app was closed, read new
        files in full (backlinks, search text), then fill the search index."""
        from ..model.indexing import (
            IndexStopped,
            StaleCheckFailed,
            complete_details,
            stale_paths,
        )
        from ..model.watching import ChangeBatch

        stopped = self.stopping.is_set
        try:
            index = self.index
            if index is None or stopped():
                return
            if not verified:
                self.call_from_thread(self._set_search_state, "comparing the index with the folder")
                try:
                    changed, deleted = stale_paths(self.root, index, stopped=stopped)
                except IndexStopped:
                    return
                except StaleCheckFailed as exc:  # read everything again rather than trust it
                    self._post_files(ChangeBatch(rescan=True, reason=str(exc)))
                    changed, deleted = [], []
                if len(changed) + len(deleted) > STALE_RESCAN:
                    # the rescan reads what is new in full; search text left from before is
                    # still filled in below
                    self._post_files(ChangeBatch(rescan=True, reason="the index is out of date"))
                elif changed or deleted:
                    self._post_files(
                        ChangeBatch(changed=frozenset(changed), deleted=frozenset(deleted))
                    )

            shown = [0.0]
            read = [False]  # any file read in full now: backlinks may have been found

            def linking(done: int, total: int) -> None:
                read[0] = True
                if stopped() or (time.monotonic() - shown[0] < 1.0 and done < total):
                    return
                shown[0] = time.monotonic()
                state = f"reading links and search text: {done:,} of {total:,} files"
                self.call_from_thread(self._set_search_state, state)

            reread = complete_details(
                self.root, index, defer_search=True, progress=linking, stopped=stopped
            )
            if stopped():
                return  # the files left keep their quick rows: the next start reads them
            if reread:
                paths = frozenset(self.root / relpath for relpath, _, _ in reread)
                self._post_files(ChangeBatch(changed=paths))
            self.call_from_thread(self._links_ready, read[0] or bool(reread))
            left = index.index_pending(limit=5_000)
            while left and not stopped():  # each batch is one transaction
                self.call_from_thread(self._set_search_state, f"search index: {left:,} files to go")
                left = index.index_pending(limit=5_000)
            if not stopped():
                self.call_from_thread(self._set_search_state, "")
                self.search_ready = True
                self._refresh_snapshot()
        finally:
            self.index_ready = True  # also when this failed or the app is quitting

    def _refresh_snapshot(self) -> None:
        """Have the next start read the index from one file (model/snapshot.py), not rows:
        once the index is complete, and as the app quits if the rows changed since (saves,
        live changes). The writer is a process of its own that finishes after a quit."""
        from ..model.snapshot import SnapshotWriter

        index = self.index
        if index is None or index.path is None or not index.listed():
            return  # no cache file, or a listing cut short: the next start lists the folder
        with self._snapshot_lock:  # from the completing thread, and at quit
            if self.snapshots is None:
                self.snapshots = SnapshotWriter()
            self.snapshots.refresh(index.path, self.root, index.generation())

    def _links_ready(self, found: bool = True) -> None:
        """Every file's related entries are in the index: show the backlinks found since
        (`found`: files were read in full during this run; after a start from a complete
        cache none were, and drawing everything again and restarting the folder check only
        took turns from the user), and make every subject's list ahead."""
        library = self.main_screen.library
        if library is not None:
            if found:
                self.main_screen.set_library(library)
            self.main_screen.warm_lists()
        self.index_ready = True

    def _post_files(self, batch: ChangeBatch) -> None:
        self.main_screen.post_message(FilesChanged(batch))

    def _set_search_state(self, state: str) -> None:
        self.main_screen.search_state = state
        self.main_screen.refresh_status()

    def on_qt_app_load_progress(self, message: LoadProgress) -> None:
        if not self._loading:
            return
        self._progress = (message.done, message.total)
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_INTERVAL:
            return  # every redraw takes time from the indexing
        self._last_progress = now
        total = f" of {message.total:,}" if message.total else ""
        self.main_screen.set_status(f"Indexing {self.root} … {message.done:,}{total} files")
        self.main_screen.set_progress(message.done, message.total)

    def on_qt_app_articles_found(self, message: ArticlesFound) -> None:
        if not self._loading or not self._show_while_indexing:
            return
        if self._partial.links is None:
            # backlinks from the index, never from the entries (that would read every file)
            self._partial.links = self.index
        self._partial.extend(message.articles)
        self._partial_dirty = True
        if self.main_screen.library is None:
            self._show_partial()

    def _show_partial(self) -> None:
        """While indexing, show what is indexed so far (less often as it grows)."""
        if not (self._loading and self._partial_dirty):
            return
        # refresh less often as the list grows (each refresh sorts it), so indexing keeps
        # the CPU: every second at first, every 3 s at 50,000, at most every 8 s
        now = time.monotonic()
        if now - self._last_partial < min(8.0, 1.0 + self._partial_shown / 25_000):
            return
        self._last_partial = now
        self._partial_shown = len(self._partial)
        self._partial_dirty = False
        self.main_screen.set_library(self._partial)
        self.main_screen.set_progress(*self._progress)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "load":
            return
        if event.state is WorkerState.SUCCESS and isinstance(event.worker.result, Library):
            library = event.worker.result
            if self._show_while_indexing:
                # every batch was posted before the worker ended: the copy is complete
                stats = getattr(library, "index_stats", None)
                library = self._partial
                library.links = self.index
                library.index_stats = stats  # type: ignore[attr-defined]
            self._loading = False
            self._partial_timer.stop()
            self._partial = Library(self.root)  # shown while indexing; now the library
            self.main_screen.set_progress(None, None)
            self.main_screen.index_cache = self.index
            if self.index is not None:
                self.main_screen.searcher = self.index.search
            stats = getattr(library, "index_stats", None)
            verified = stats is None or stats.verified
            select = library.find_path(self.selected) if self.selected else None
            self.main_screen.set_library(library, select=select.key if select else None)
            # the background work (comparing with the folder, backlinks, search text, checks)
            # starts once the library is drawn: it would compete with the first paint
            # (from a timer of its own: see settle_memory)
            delay = 0.5 if len(library) > DRAW_FIRST else 0.01
            self.set_timer(delay, lambda: self._start_background(verified))
            if self.watch:
                self._start_watching()
            else:
                self._set_watch_state("not watching (--no-watch)")
        elif event.state is WorkerState.ERROR:
            self._loading = False
            self._partial_timer.stop()
            self.main_screen.set_status(f"Could not load {self.root}: {event.worker.error}")
            self.notify(str(event.worker.error), title="Load failed", severity="error")

    def _start_background(self, verified: bool) -> None:
        start_resource_tracker()  # else no worker process can start under Textual
        settle_memory()  # from a timer: the index is long-lived, out of the collector's way
        self._complete_index(verified=verified)
        self.main_screen.checks_enabled = True
        self.main_screen.schedule_checks()

    # -- watching ---------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="watch")
    def _start_watching(self) -> None:
        from ..model.watching import ContentWatcher

        watcher = ContentWatcher(
            self.root, lambda batch: self.main_screen.post_message(FilesChanged(batch))
        )
        try:
            mode = watcher.start()
        except OSError as exc:
            self.call_from_thread(self._set_watch_state, f"not watching: {exc.strerror or exc}")
            return
        self.watcher = watcher
        state = f"watching ({mode})"
        self.call_from_thread(self._set_watch_state, state)
        if mode.startswith("polling"):
            self.call_from_thread(
                self.notify, f"File events unavailable: {mode}", severity="warning"
            )

    def _set_watch_state(self, state: str) -> None:
        self.main_screen.watch_state = state
        self.main_screen.refresh_status()

    def _before_write(self, path: Path) -> None:
        if self.watcher is not None:
            self.watcher.expect_own_write(path)

    def on_unmount(self) -> None:
        from ..model.foldercheck import stop_checks

        # Quit promptly: the index threads end at their next file (the exit waits for them)
        # and a folder check process is stopped, not waited for. Before the cache closes.
        self.stopping.set()
        stop_checks()
        self._refresh_snapshot()  # current already, unless files changed during the run
        if self.watcher is not None:
            self.watcher.stop()
        if self.index is not None:
            self.index.close()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            yield SystemCommand("Back", "Previous article in history ([)", screen.action_back)
            yield SystemCommand("Forward", "Next article in history (])", screen.action_forward)
            yield SystemCommand(
                "Filter list", "Filter the article list (/)", screen.article_list.action_filter
            )
            yield SystemCommand(
                "Sort list", "Cycle title/date/id (o)", screen.article_list.action_cycle_sort
            )
            yield SystemCommand(
                "Front matter", "Show every field (m)", screen.view.action_toggle_front_matter
            )
            yield SystemCommand(
                "Check folder", "Run every integrity check now", screen.action_run_checks
            )
        yield SystemCommand("Help", "Show the keys (?)", self.action_help)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
