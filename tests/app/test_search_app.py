"""Full-text search from the app: results as you type, Enter opens, n/N step through."""

from __future__ import annotations

from pathlib import Path

from qt_tui.ui.app import QtApp
from qt_tui.ui.widgets.virtual_list import VirtualList
from tests.app.helpers import loaded, wait_until
from tests.conftest import SAMPLE

SIZE = (160, 45)


async def test_search_as_you_type_open_and_step_through_results() -> None:
    app = QtApp(SAMPLE, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: screen.searcher is not None and not screen.search_state)
        await pilot.press("s")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "SearchScreen")
        await pilot.press(*"photon")
        results = app.screen.query_one(VirtualList)
        await wait_until(pilot, lambda: results.row_count >= 2)
        keys = list(results.keys)
        assert all("photon" in Path(SAMPLE / k).read_text().lower() for k in keys)
        label = str(results.label_at(0))
        assert "·" in label  # title · subject — snippet
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.view.article_key == keys[0])
        await pilot.press("n")
        await wait_until(pilot, lambda: screen.view.article_key == keys[1])
        await pilot.press("N")
        await wait_until(pilot, lambda: screen.view.article_key == keys[0])


async def test_search_ranks_a_title_match_first_and_survives_odd_input() -> None:
    app = QtApp(SAMPLE, watch=False, use_cache=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: screen.searcher is not None and not screen.search_state)
        title = screen.library.get(screen.view.article_key).title
        hits = screen.searcher(title)
        assert hits and hits[0].relpath == screen.view.article_key
        for odd in ('"', "AND OR NOT", "*", "a:b", "(", "ν λ"):
            screen.searcher(odd)  # never raises


async def test_search_says_when_its_index_is_still_being_filled() -> None:
    app = QtApp(SAMPLE, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: screen.searcher is not None and not screen.search_state)
        # as while a large folder's search text is still being read in the background
        screen.search_state = "reading links and search text: 500 of 9,000 files"
        await pilot.press("s")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "SearchScreen")
        await pilot.press(*"photon")
        status = app.screen.query_one("#search-status")
        await wait_until(pilot, lambda: "still being filled" in str(status.render()))
        assert "500 of 9,000 files" in str(status.render())
        screen.search_state = ""
        await pilot.press("s")  # the next query: complete, no note
        await wait_until(pilot, lambda: "result(s)" in str(status.render()))
        assert "still being filled" not in str(status.render())
