"""The app indexes a large folder with its worker processes, not on one core."""

from __future__ import annotations

from pathlib import Path

from qt_tui.model.indexing import CHUNK
from qt_tui.ui.app import QtApp
from tests.app.helpers import loaded, wait_until, write_numbered_folder

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


async def test_the_next_start_reads_the_snapshot_and_shows_the_same(sample_copy: Path) -> None:
    from qt_tui.model.snapshot import is_current

    app = QtApp(sample_copy, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert screen.library is not None
        first_tree = screen.library.subjects()
        first_list = list(screen.article_list.shown_keys)
        assert not screen.library.index_stats.snapshot  # type: ignore[attr-defined]
        # written in another process once the search index is complete too
        await wait_until(pilot, lambda: app.snapshots is not None)
        assert app.index is not None and app.snapshots is not None
        assert app.snapshots.wait(60) == 0
        assert app.index.snapshot_file is not None
        assert is_current(app.index.snapshot_file, app.index.generation())
    again = QtApp(sample_copy, watch=False)
    async with again.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert screen.library is not None
        assert screen.library.index_stats.snapshot  # type: ignore[attr-defined]
        assert screen.library.subjects() == first_tree
        assert screen.article_list.shown_keys == first_list  # "All articles", by title
        assert screen.view.article_key == first_list[0]
        # nothing to read in full: the folder check runs once, not again when the
        # background work ends (that restarted it, half done, at 100,000 articles)
        await wait_until(pilot, lambda: again.index_ready and screen.code_counts is not None)
        await pilot.pause(0.3)
        assert screen.check_generation == 1


async def test_an_edit_made_while_closed_shows_after_a_snapshot_start(sample_copy: Path) -> None:
    first = QtApp(sample_copy, watch=False)
    async with first.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await wait_until(pilot, lambda: first.snapshots is not None)
        assert first.snapshots is not None and first.snapshots.wait(60) == 0
    newton = sample_copy / "physics" / "what-is-newtons-second-law-of-motion.md"
    text = newton.read_text(encoding="utf-8")
    newton.write_text(text.replace("title:", "title: Edited while closed —", 1), encoding="utf-8")
    again = QtApp(sample_copy, watch=False)
    async with again.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert screen.library is not None
        assert screen.library.index_stats.snapshot  # type: ignore[attr-defined]
        key = "physics/what-is-newtons-second-law-of-motion.md"
        await wait_until(
            pilot,
            lambda: (
                (a := screen.library.get(key)) is not None  # type: ignore[union-attr]
                and a.title.startswith("Edited while closed")
            ),
        )


async def test_a_quit_after_a_change_leaves_a_current_snapshot(sample_copy: Path) -> None:
    first = QtApp(sample_copy, watch=False)
    newton = sample_copy / "physics" / "what-is-newtons-second-law-of-motion.md"
    async with first.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: first.snapshots is not None)
        assert first.snapshots is not None and first.snapshots.wait(60) == 0
        text = newton.read_text(encoding="utf-8")
        newton.write_text(text.replace("title:", "title: Changed in the run —", 1), "utf-8")
        screen.reload_paths([newton])  # as the live watch does
    assert first.snapshots.wait(60) == 0  # rewritten as the app quit
    again = QtApp(sample_copy, watch=False)
    async with again.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert screen.library is not None
        assert screen.library.index_stats.snapshot  # type: ignore[attr-defined]
        article = screen.library.get("physics/what-is-newtons-second-law-of-motion.md")
        assert article is not None and article.title.startswith("Changed in the run")
