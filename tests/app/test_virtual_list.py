"""VirtualList: a Line API list that renders only visible rows (fast with 100,000 rows)."""

from __future__ import annotations

import statistics
import time

import pytest
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.strip import Strip

from qt_tui.ui.widgets.virtual_list import Rows, VirtualList

BIG = 100_000


class CountingList(VirtualList):
    """Counts `render_line` calls so a test can tell that a paint happened."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.lines_rendered = 0

    def render_line(self, y: int) -> Strip:
        self.lines_rendered += 1
        return super().render_line(y)


class ListApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.highlighted: list[tuple[str, int]] = []
        self.selected: list[tuple[str, int]] = []

    def compose(self) -> ComposeResult:
        yield CountingList(id="rows")

    @property
    def rows(self) -> CountingList:
        return self.query_one(CountingList)

    @on(VirtualList.Highlighted, "#rows")
    def _highlighted(self, event: VirtualList.Highlighted) -> None:
        assert isinstance(event.control, VirtualList) and event.control.id == "rows"
        self.highlighted.append((event.key, event.index))

    @on(VirtualList.Selected, "#rows")
    def _selected(self, event: VirtualList.Selected) -> None:
        assert isinstance(event.control, VirtualList) and event.control.id == "rows"
        self.selected.append((event.key, event.index))


def make_rows(count: int) -> list[tuple[str, Text]]:
    return [(f"k{i}", Text(f"Article number {i}")) for i in range(count)]


def line_text(widget: VirtualList, y: int) -> str:
    return widget.render_line(y).text


def visible(widget: VirtualList, index: int) -> bool:
    top = widget.scroll_offset.y
    return top <= index < top + widget.scrollable_content_region.height


async def start(pilot: Pilot[None], count: int = BIG) -> CountingList:
    app = pilot.app
    assert isinstance(app, ListApp)
    widget = app.rows
    widget.set_rows(make_rows(count))
    widget.focus()
    await pilot.pause()
    app.highlighted.clear()
    return widget


async def test_100k_rows_set_and_first_render() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 20)) as pilot:
        widget = app.rows
        await pilot.pause()
        before = widget.lines_rendered
        rows = make_rows(BIG)
        started = time.perf_counter()
        widget.set_rows(rows)
        await pilot.pause()
        first_render = time.perf_counter() - started
        assert widget.lines_rendered > before  # a paint happened
        assert widget.row_count == BIG
        assert widget.virtual_size.height == BIG
        assert line_text(widget, 0).startswith("Article number 0")
        assert line_text(widget, 5).startswith("Article number 5")
        screenshot = app.export_screenshot().replace("&#160;", " ")
        assert "Article number 0<" in screenshot
        assert "Article number 19<" in screenshot
        assert "Article number 20<" not in screenshot
        # Only the visible rows were rendered and cached.
        assert len(widget._strips) <= 4 * 20
        assert widget.keys[BIG - 1] == f"k{BIG - 1}"
        assert widget.index_of("k99999") == BIG - 1
        assert widget.key_at(3) == "k3"
        assert widget.key_at(BIG) is None
        assert widget.highlighted == 0

        widget.focus()
        await pilot.pause()
        times = []
        for _ in range(50):
            t0 = time.perf_counter()
            await pilot.press("down")
            times.append(time.perf_counter() - t0)
        assert widget.highlighted == 50
        p95 = statistics.quantiles(times, n=20)[-1]
        print(
            f"\n[VirtualList {BIG:,} rows] set_rows + first render: {first_render * 1000:.1f} ms;"
            f" 50 cursor moves via Pilot: median {statistics.median(times) * 1000:.1f} ms,"
            f" p95 {p95 * 1000:.1f} ms"
        )


async def test_cursor_keys_post_highlighted() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 20)) as pilot:
        widget = await start(pilot)
        await pilot.press("down", "down", "j")
        await pilot.pause()
        assert widget.highlighted == 3
        assert app.highlighted == [("k1", 1), ("k2", 2), ("k3", 3)]
        await pilot.press("up", "k")
        await pilot.pause()
        assert widget.highlighted == 1
        assert app.highlighted[-1] == ("k1", 1)
        assert widget.highlighted_key == "k1"
        # Up at the top stays put and posts nothing.
        await pilot.press("up", "up")
        await pilot.pause()
        count = len(app.highlighted)
        await pilot.press("up")
        await pilot.pause()
        assert widget.highlighted == 0
        assert len(app.highlighted) == count


async def test_page_and_end_jump() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 20)) as pilot:
        widget = await start(pilot)
        page = widget.scrollable_content_region.height
        await pilot.press("pagedown")
        await pilot.pause()
        assert widget.highlighted == page
        assert visible(widget, page)
        await pilot.press("pageup")
        await pilot.pause()
        assert widget.highlighted == 0
        await pilot.press("end")
        await pilot.pause()
        assert widget.highlighted == BIG - 1
        assert app.highlighted[-1] == (f"k{BIG - 1}", BIG - 1)
        assert visible(widget, BIG - 1)
        last_y = BIG - 1 - widget.scroll_offset.y
        assert line_text(widget, last_y).startswith(f"Article number {BIG - 1}")
        await pilot.press("home")
        await pilot.pause()
        assert widget.highlighted == 0
        assert widget.scroll_offset.y == 0
        await pilot.press("G")
        await pilot.pause()
        assert widget.highlighted == BIG - 1
        await pilot.press("g")
        await pilot.pause()
        assert widget.highlighted == 0


async def test_enter_posts_selected() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 20)) as pilot:
        await start(pilot)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert app.selected == [("k2", 2)]


async def test_highlight_key_scrolls_into_view() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 20)) as pilot:
        widget = await start(pilot)
        assert widget.scroll_offset.y == 0
        assert widget.highlight_key("k54321") is True
        await pilot.pause()
        assert widget.highlighted == 54321
        assert widget.scroll_offset.y > 0
        assert visible(widget, 54321)
        assert app.highlighted[-1] == ("k54321", 54321)
        y = 54321 - widget.scroll_offset.y
        assert line_text(widget, y).startswith("Article number 54321")
        assert widget.highlight_key("missing") is False
        assert widget.highlighted == 54321


async def test_set_rows_with_highlight_key() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 20)) as pilot:
        widget = app.rows
        widget.set_rows(make_rows(1000), highlight_key="k700")
        await pilot.pause()
        assert widget.highlighted == 700
        assert visible(widget, 700)
        assert app.highlighted[-1] == ("k700", 700)


async def test_click_highlights() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 20)) as pilot:
        widget = await start(pilot, 100)
        await pilot.click(CountingList, offset=(3, 4))
        await pilot.pause()
        assert widget.highlighted == 4
        assert app.highlighted[-1] == ("k4", 4)
        assert app.selected == []


async def test_labels_are_not_markup_and_long_ones_are_cropped() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 10)) as pilot:
        widget = app.rows
        long = "A very long title " * 10
        widget.set_rows(
            [
                ("a", Text("[bold]x[/]")),
                ("b", "[red]plain str[/red]"),
                ("c", Text(long)),
                ("d", "line\nbreak"),
            ]
        )
        await pilot.pause()
        width = widget.scrollable_content_region.width
        assert line_text(widget, 0).startswith("[bold]x[/]")
        assert line_text(widget, 1).startswith("[red]plain str[/red]")
        cropped = line_text(widget, 2)
        assert len(cropped) == width
        assert cropped.endswith("…")
        assert cropped.startswith("A very long title")
        assert line_text(widget, 3).startswith("line break")
        assert line_text(widget, 4).strip() == ""  # past the rows: blank
        assert all(len(line_text(widget, y)) == width for y in range(6))


async def test_shrinking_rows_clamps_cursor() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 20)) as pilot:
        widget = await start(pilot)
        await pilot.press("end")
        await pilot.pause()
        widget.set_rows(make_rows(10))
        await pilot.pause()
        assert widget.highlighted == 9
        assert visible(widget, 9)
        assert app.highlighted[-1] == ("k9", 9)
        assert line_text(widget, 9 - widget.scroll_offset.y).startswith("Article number 9")
        await pilot.press("down")
        await pilot.pause()
        assert widget.highlighted == 9


async def test_empty_list() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 20)) as pilot:
        widget = app.rows
        widget.focus()
        await pilot.pause()
        assert widget.row_count == 0
        assert widget.highlighted is None
        await pilot.press("down", "up", "pagedown", "pageup", "end", "home", "enter")
        await pilot.click(CountingList, offset=(2, 2))
        await pilot.pause()
        assert widget.highlighted is None
        assert app.highlighted == [] and app.selected == []
        assert line_text(widget, 0).strip() == ""
        # Emptying a populated list.
        widget.set_rows(make_rows(5))
        await pilot.pause()
        assert widget.highlighted == 0
        widget.set_rows([])
        await pilot.pause()
        assert widget.highlighted is None
        assert widget.highlighted_key is None
        assert widget.keys == ()
        assert widget.index_of("k1") is None
        assert widget.highlight_key("k1") is False
        assert line_text(widget, 0).strip() == ""


async def test_duplicate_keys_index_first() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 20)) as pilot:
        widget = app.rows
        widget.set_rows([("a", "one"), ("b", "two"), ("a", "three")])
        await pilot.pause()
        assert widget.index_of("a") == 0
        assert widget.index_of("b") == 1


async def test_prepared_rows_are_shared_and_shown_again_unchanged() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 20)) as pilot:
        widget = app.rows
        big = Rows([f"k{i}" for i in range(BIG)], [f"Article number {i}" for i in range(BIG)])
        other = Rows(["x", "y", "x"], ["ex", "why", "again"])
        widget.set_rows(big, highlight_key="k500")
        widget.focus()
        await pilot.pause()
        assert widget.highlighted == 500 and visible(widget, 500)
        widget.set_rows(other, fallback="first")
        await pilot.pause()
        assert widget.row_count == 3 and widget.index_of("x") == 0
        assert line_text(widget, 1).startswith("why")
        widget.set_rows(big, highlight_key="k99999")
        await pilot.pause()
        assert widget.keys is big.keys  # nothing was copied
        assert widget.highlighted == BIG - 1 and visible(widget, BIG - 1)
        assert widget.label_at(7) == "Article number 7"
        assert app.highlighted[-1] == ("k99999", BIG - 1)


def test_rows_need_a_label_per_key() -> None:
    with pytest.raises(ValueError, match="2 keys but 1 labels"):
        Rows(["a", "b"], ["only one"])
    assert len(Rows.from_pairs([("a", "A"), ("b", Text("B"))])) == 2
