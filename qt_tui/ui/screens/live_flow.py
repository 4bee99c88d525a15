"""The main screen's live refresh: apply watcher batches without losing the user's place."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from ...model.article import Article
from ...model.library import Library

if TYPE_CHECKING:
    from ...model.watching import ChangeBatch
    from .main import MainScreen


class FilesChanged(Message):
    """A batch of file changes from the watcher thread (posted, never blocking it)."""

    def __init__(self, batch: ChangeBatch) -> None:
        super().__init__()
        self.batch = batch


class ArticlesReread(Message):
    """Files re-read off the UI thread, ready to be put into the library."""

    def __init__(
        self, articles: list[Article], gone: list[Path], moved: list[tuple[Path, Path]]
    ) -> None:
        super().__init__()
        self.articles = articles
        self.gone = gone
        self.moved = moved


class LibraryRescanned(Message):
    """A full background rescan finished."""

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library


class LiveFlow:
    """Mixed into MainScreen: turns watcher batches into library updates and a refresh."""

    def _live(self) -> MainScreen:
        from .main import MainScreen

        assert isinstance(self, MainScreen)
        return self

    def on_files_changed(self, message: FilesChanged) -> None:
        screen = self._live()
        batch = message.batch
        if screen.library is None:
            return
        self._warn_open_form(batch)
        if batch.rescan:
            screen.set_status(f"Rescanning {screen.library.root} ({batch.reason}) …")
            self._rescan(screen.library.root)
            return
        changed = {*batch.changed, *batch.own_writes, *(new for _, new in batch.moved)}
        gone = {*batch.deleted, *(old for old, _ in batch.moved)}
        self._reread(sorted(changed), sorted(gone - changed), list(batch.moved))

    def _warn_open_form(self, batch: ChangeBatch) -> None:
        from .edit import EditScreen

        screen = self._live()
        for form in screen.app.screen_stack:
            if not isinstance(form, EditScreen):
                continue
            path = form.article.path
            if path in batch.changed or path in batch.deleted or batch.rescan:
                try:
                    current = path.read_bytes()
                except OSError:
                    current = b""
                if current != form.base:
                    form.file_changed_on_disk()

    @work(thread=True, group="live-reread", exit_on_error=False)
    def _reread(
        self, changed: list[Path], gone: list[Path], moved: list[tuple[Path, Path]]
    ) -> None:
        from ...model.files import is_content_file
        from ...model.indexing import update_paths

        screen = self._live()
        assert screen.library is not None
        scratch = Library(screen.library.root)  # parsed here, added to the real one on the UI
        wanted = [path for path in changed if is_content_file(path.name)]
        update_paths(scratch, screen.index_cache, wanted, gone)
        articles = [*scratch.articles(), *scratch.failed()]
        screen.post_message(ArticlesReread(articles, gone, moved))

    def on_articles_reread(self, message: ArticlesReread) -> None:
        screen = self._live()
        library = screen.library
        if library is None:
            return
        open_key = screen.view.article_key
        follow: str | None = None
        for old, new in message.moved:
            old_key, new_key = screen.relative_key(old), screen.relative_key(new)
            screen.history.rename(old_key, new_key)
            if old_key == open_key:
                follow = new_key
        for path in message.gone:
            key = screen.relative_key(path)
            if library.remove(key) is not None and key != follow:
                screen.deleted_keys.add(key)
        for article in message.articles:
            library.add(article)
            screen.deleted_keys.discard(article.key)
        screen.set_library(library, select=follow)

    @work(thread=True, exclusive=True, group="live-rescan", exit_on_error=False)
    def _rescan(self, root: Path) -> None:
        from ...model.indexing import IndexStopped, build_library
        from ..processes import start_resource_tracker

        start_resource_tracker()  # the rescan reads the files in worker processes

        screen = self._live()
        try:
            library = build_library(root, cache=screen.index_cache, stopped=screen.stopped)
        except IndexStopped:
            return  # the app is quitting
        screen.post_message(LibraryRescanned(library))

    def on_library_rescanned(self, message: LibraryRescanned) -> None:
        screen = self._live()
        old = screen.library
        open_key = screen.view.article_key
        if old is not None and open_key and message.library.get(open_key) is None:
            screen.deleted_keys.add(open_key)
        screen.set_library(message.library)
