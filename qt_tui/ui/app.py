"""The Textual application: loads the library in the background and wires the screens."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..model.library import Library
from ..model.watching import ContentWatcher
from ..resources import stylesheet
from .commands import ArticleCommands
from .screens.help import HelpScreen
from .screens.live_flow import FilesChanged
from .screens.main import MainScreen


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
        """The background load has read this many files."""

        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    def __init__(self, root: Path, selected: Path | None = None, watch: bool = True) -> None:
        super().__init__()
        self.root = root
        self.selected = selected
        self.watch = watch
        self.watcher: ContentWatcher | None = None
        self.main_screen = MainScreen()
        self.main_screen.before_write = self._before_write

    def get_default_screen(self) -> Screen[None]:
        return self.main_screen

    def on_mount(self) -> None:
        self.sub_title = str(self.root)
        self.main_screen.set_status(f"Loading {self.root} …")
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _load(self) -> Library:
        return Library.load(self.root, progress=lambda n: self.post_message(self.LoadProgress(n)))

    def on_qt_app_load_progress(self, message: LoadProgress) -> None:
        self.main_screen.set_status(f"Loading {self.root} … {message.count:,} files read")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "load":
            return
        if event.state is WorkerState.SUCCESS and isinstance(event.worker.result, Library):
            library = event.worker.result
            select = library.find_path(self.selected) if self.selected else None
            self.main_screen.set_library(library, select=select.key if select else None)
            if self.watch:
                self._start_watching()
            else:
                self._set_watch_state("not watching (--no-watch)")
        elif event.state is WorkerState.ERROR:
            self.main_screen.set_status(f"Could not load {self.root}: {event.worker.error}")
            self.notify(str(event.worker.error), title="Load failed", severity="error")

    # -- watching ---------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="watch")
    def _start_watching(self) -> None:
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
        if self.watcher is not None:
            self.watcher.stop()

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
        yield SystemCommand("Help", "Show the keys (?)", self.action_help)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
