"""Quitting is prompt while the folder is being indexed or checked, and the next start
goes on from what was indexed.

Each run goes through `asyncio.run`, as `App.run` does: it returns only once the threads the
app started have ended, which is what a user waits for after pressing q.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path

from qt_tui.model.cache import IndexCache, stat_key
from qt_tui.model.indexing import CHUNK, IndexStats
from qt_tui.model.library import Library
from qt_tui.ui.app import QtApp
from tests.app.helpers import wait_until, write_numbered_folder

SIZE = (160, 45)

#: Files of the folder: every one has a quoted title with escapes (which the quick reader
#: leaves to YAML) and a long front matter, so each takes the full loader, about 2 ms. On
#: the 2-core machine this was written on, listing them takes about 9 s and checking them
#: about 15 s; before quitting stopped the work, q took 8 s here while they were listed and
#: 17 s while they were checked (now: under half a second).
COUNT = CHUNK * 18

#: Seconds from pressing q until the app's run has returned.
QUIT_BOUND = 5.0


def write_folder(root: Path, count: int) -> None:
    notes = "".join(
        f"note{key}: [{', '.join(f'item{key}-{n}' for n in range(8))}]\n" for key in range(40)
    )
    write_numbered_folder(root, count, title='"Article \\"{n}\\""', extra=notes)


def quit_when(root: Path, ready: Callable[[QtApp], bool]) -> tuple[QtApp, float]:
    """Run the app on `root`, press q as soon as `ready(app)`; the app and the seconds from
    the key press until its run returned."""
    app = QtApp(root, watch=False)
    pressed: list[float] = []

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: ready(app), timeout=120)
            pressed.append(time.monotonic())
            await pilot.press("q")

    asyncio.run(run())
    return app, time.monotonic() - pressed[0]


def loaded(library: Library) -> bool:
    """The index is built: the library shown is the final one (it carries the build's stats),
    not the partial one shown while the files are listed."""
    return isinstance(getattr(library, "index_stats", None), IndexStats)


def checks_running() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "qt-tui-check"]


def test_quitting_while_indexing_is_prompt_and_the_next_start_goes_on(tmp_path: Path) -> None:
    root = tmp_path / "content"
    write_folder(root, COUNT)

    def indexing(app: QtApp) -> bool:  # the first articles are listed, the rest being read
        library = app.main_screen.library
        return library is not None and not loaded(library) and bool(len(library))

    _, seconds = quit_when(root, indexing)
    assert seconds < QUIT_BOUND
    with IndexCache.open(root) as cache:
        rows = list(cache.entries())
        assert not cache.listed()  # the next start compares the cache with the folder
    assert 0 < len(rows) < COUNT  # it stopped part-way; what it kept is true to the files
    for relpath, stat, lean, _ in rows:
        st = (root / relpath).stat()
        assert stat == stat_key(st.st_size, st.st_mtime_ns, st.st_ino)
        assert lean is not None
        number = int(relpath.rsplit("-", 1)[1].removesuffix(".md"))
        assert lean[:2] == (number, f'Article "{number}"')

    def checking(app: QtApp) -> bool:  # every article listed, the folder check running
        library = app.main_screen.library
        return library is not None and loaded(library) and bool(checks_running())

    app, seconds = quit_when(root, checking)
    library = app.main_screen.library
    assert library is not None and loaded(library)
    assert len(library.articles()) == COUNT
    stats = library.index_stats  # type: ignore[attr-defined]
    assert (stats.cached, stats.parsed) == (len(rows), COUNT - len(rows))  # rows reused
    assert seconds < QUIT_BOUND
    assert checks_running() == []  # stopped, not left behind
    with IndexCache.open(root) as cache:
        assert cache.listed() and cache.count() == COUNT
