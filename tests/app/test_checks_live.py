"""The Problems counts follow changes on disk (the check runs again, from cached facts)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from qt_tui.model import foldercheck
from qt_tui.ui.app import QtApp
from tests.app.helpers import loaded, wait_until
from tests.app.test_live import SIZE, article, make_folder, watching


def codes(screen) -> dict[str, int]:
    return {code: n for code, _, n in screen.code_counts or []}


async def test_problem_counts_follow_an_edit_on_disk(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "c")  # two.md links one.md, which does not link back
    app = QtApp(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await watching(pilot)
        await wait_until(pilot, lambda: codes(screen).get("one-way-link") == 1, timeout=30)
        assert screen.findings_by_key.get("alpha/two.md")
        (root / "alpha" / "one.md").write_text(article(1, "One", "Alpha", related=2))
        await wait_until(pilot, lambda: "one-way-link" not in codes(screen), timeout=30)
        assert screen.articles_with_code("stale-link") == ["alpha/one.md", "alpha/two.md"]
        assert not [
            f for f in screen.findings_by_key.get("alpha/two.md", []) if f.code == "one-way-link"
        ]


async def test_checks_asked_for_twice_in_a_row_still_report(tmp_path: Path) -> None:
    # Each request starts its check process from a thread of its own, and a start stops
    # the check running before it: the older request's process could start second and stop
    # the newest one, leaving "checking…" on screen for good.
    root = make_folder(tmp_path / "c")
    app = QtApp(root, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: screen.code_counts is not None, timeout=30)
        for _ in range(8):
            screen.code_counts = None
            # both requests' threads wait at the same point, then go on in either order
            with foldercheck._LOCK:
                screen.schedule_checks()
                await asyncio.sleep(0.1)  # its thread is running: a later request cannot undo it
                screen.schedule_checks()
                await asyncio.sleep(0.1)
            await wait_until(pilot, lambda: screen.code_counts is not None, timeout=30)
            assert codes(screen).get("one-way-link") == 1
