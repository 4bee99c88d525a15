"""The app indexes a large folder with its worker processes, not on one core."""

from __future__ import annotations

from pathlib import Path

from qt_tui.model.indexing import CHUNK
from qt_tui.ui.app import QtApp
from tests.app.helpers import loaded, write_numbered_folder

SIZE = (160, 45)


async def test_a_large_folder_is_read_by_worker_processes(tmp_path: Path) -> None:
    # Textual's stand-in stderr once kept multiprocessing's resource tracker from starting,
    # and with it every pool: the app read all files on one core, three times slower.
    root = tmp_path / "content"
    count = CHUNK * 3
    write_numbered_folder(root, count)
    app = QtApp(root, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert screen.library is not None
        assert len(screen.library.articles()) == count
        stats = screen.library.index_stats
        assert stats.in_workers > 0, stats
        # the background pass (backlinks) ran in workers too and found them all
        (first,) = screen.library.by_id(1)
        assert [a.id for a in screen.library.backlinks(first)] == [0]
