"""The Problems counts follow changes on disk (the check runs again, from cached facts)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

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


async def test_checks_asked_for_twice_in_a_row_still_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each request starts its check process from a thread of its own, and a start stops the
    # check running before it. Here the older request's process starts second (it waits for
    # the newer one's to run), which stopped the newest: no report came, "checking…" for good.
    root = make_folder(tmp_path / "c")
    app = QtApp(root, watch=False)
    real = foldercheck.report_elsewhere
    calls: list[int] = []
    guard = threading.Lock()

    def older_starts_second(*args: Any, **kwargs: Any) -> Any:
        with guard:
            calls.append(1)
            first = len(calls) == 1
        if first:
            deadline = time.monotonic() + 10
            while not foldercheck._RUNNING and time.monotonic() < deadline:
                time.sleep(0.005)
        return real(*args, **kwargs)  # the real check, in its real process

    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: screen.code_counts is not None, timeout=30)
        monkeypatch.setattr(foldercheck, "report_elsewhere", older_starts_second)
        screen.code_counts = None
        screen.schedule_checks()
        await wait_until(pilot, lambda: len(calls) == 1)  # its thread runs, and waits
        screen.schedule_checks()
        await wait_until(pilot, lambda: screen.code_counts is not None, timeout=15)
        assert codes(screen).get("one-way-link") == 1
        assert len(calls) == 3, "the newest check started again once stopped"
