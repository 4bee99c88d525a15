"""The Problems counts follow changes on disk (the check runs again, from cached facts)."""

from __future__ import annotations

from pathlib import Path

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
