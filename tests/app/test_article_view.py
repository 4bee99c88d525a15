"""What the article pane draws: the answer on screen, rewrapped on resize, scrolled to its end."""

from __future__ import annotations

from pathlib import Path

from textual.geometry import Region
from textual.widgets import OptionList

from qt_tui.ui.app import QtApp
from qt_tui.ui.screens.main import MainScreen
from qt_tui.ui.widgets.article_view import AnswerMarkdown
from tests.app.helpers import loaded, settle, wait_until

SIZE = (160, 45)

ANSWER = (
    "Intro paragraph about \\( \\sigma^2 \\) and sums.\\n\\n"
    "| Symbol | Meaning |\\n|---|---|\\n| μ | mean |\\n| σ | spread |\\n\\n"
    "```python\\nprint('hello from code')\\n```\\n\\n"
    + "\\n\\n".join(f"Paragraph {i} keeps the answer longer than the pane." for i in range(60))
    + "\\n\\nLast words of the answer."
)


def write_articles(root: Path) -> None:
    (root / "s").mkdir(parents=True)
    (root / "s" / "a.md").write_text(
        "---\nid: 1\ntitle: A long one\nsubject: S\n"
        f"answer: >-\n    {ANSWER}\n"
        "related_article1:\n    id: 2\n    title: B short\n    subject: S\n---\n"
    )
    (root / "s" / "b.md").write_text(
        "---\nid: 2\ntitle: B short\nsubject: S\nanswer: >-\n    Only **bold** words.\n---\n"
    )


def screen_lines(screen: MainScreen) -> list[str]:
    """The answer as drawn in the pane right now: its lines on screen, as text."""
    answer = screen.view.query_one(AnswerMarkdown)
    visible = answer.region.intersection(screen.view.scrollable_content_region)
    if not visible:
        return []
    top = visible.y - answer.region.y
    crop = Region(0, top, answer.size.width, visible.height)
    return [strip.text for strip in answer.render_lines(crop)]


def whole_answer(screen: MainScreen) -> list[str]:
    answer = screen.view.query_one(AnswerMarkdown)
    return [strip.text for strip in answer.rendered_lines(answer.size.width)]


async def test_answer_is_drawn_with_math_table_and_code(tmp_path: Path) -> None:
    write_articles(tmp_path)
    app = QtApp(tmp_path, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert screen.view.article_key == "s/a.md"
        await settle(pilot)
        on_screen = "\n".join(screen_lines(screen))
        assert "Intro paragraph about σ²" in on_screen
        assert "mean" in on_screen and "spread" in on_screen
        assert "───" in on_screen  # the table is drawn, its header ruled off
        assert "print('hello from code')" in on_screen
        # the pane shows as many answer lines as fit, not the whole (longer) answer
        assert len(screen_lines(screen)) < len(whole_answer(screen))


async def test_scrolling_the_view_reaches_the_end_and_the_related_links(tmp_path: Path) -> None:
    write_articles(tmp_path)
    app = QtApp(tmp_path, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        screen.view.focus()
        await settle(pilot)
        assert "Last words of the answer." not in "\n".join(screen_lines(screen))
        await pilot.press("end")
        await settle(pilot)
        assert "Last words of the answer." in "\n".join(whole_answer(screen)[-3:])
        related = screen.view.query_one("#view-related")
        assert related.region.intersection(screen.view.scrollable_content_region)
        await pilot.press("home")
        await settle(pilot)
        assert "Intro paragraph" in "\n".join(screen_lines(screen))


async def test_answer_rewraps_when_the_terminal_is_resized(tmp_path: Path) -> None:
    write_articles(tmp_path)
    app = QtApp(tmp_path, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await settle(pilot)
        wide = whole_answer(screen)
        await pilot.resize_terminal(110, 45)
        await wait_until(pilot, lambda: len(whole_answer(screen)) > len(wide))
        narrow = whole_answer(screen)
        width = screen.view.query_one(AnswerMarkdown).size.width
        assert all(len(line.rstrip()) <= width for line in narrow)
        words = " ".join(" ".join(narrow).split())
        assert "Paragraph 59 keeps the answer longer than the pane." in words
        assert "Last words of the answer." in words


async def test_following_a_link_and_back_redraws_each_answer(tmp_path: Path) -> None:
    write_articles(tmp_path)
    app = QtApp(tmp_path, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("1")
        await wait_until(pilot, lambda: screen.view.article_key == "s/b.md")
        await settle(pilot)
        assert "Only bold words." in "\n".join(screen_lines(screen))
        assert "Intro paragraph" not in "\n".join(screen_lines(screen))
        await pilot.press("left_square_bracket")
        await wait_until(pilot, lambda: screen.view.article_key == "s/a.md")
        await settle(pilot)
        assert "Intro paragraph about σ²" in "\n".join(screen_lines(screen))


async def test_a_long_related_list_scrolls_and_a_short_one_shows_every_row(
    tmp_path: Path,
) -> None:
    (tmp_path / "s").mkdir()
    related = "".join(
        f"related_article{n}:\n    id: {100 + n}\n    title: Target {n}\n    subject: S\n"
        for n in range(1, 16)
    )
    (tmp_path / "s" / "hub.md").write_text(
        f"---\nid: 1\ntitle: A hub\nsubject: S\nanswer: >-\n    Links below.\n{related}---\n"
    )
    for n in range(1, 16):
        (tmp_path / "s" / f"t{n:02}.md").write_text(
            f"---\nid: {100 + n}\ntitle: Target {n}\nsubject: S\nanswer: >-\n    T{n}.\n---\n"
        )
    app = QtApp(tmp_path, selected=tmp_path / "s" / "hub.md", watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: screen.view.article_key == "s/hub.md")
        await settle(pilot)
        links = screen.view.query_one("#view-related", OptionList)
        assert links.option_count == 15
        assert links.size.height < 15 and links.show_vertical_scrollbar
        links.focus()
        links.highlighted = 0
        for _ in range(14):
            await pilot.press("j")
        await settle(pilot)
        assert links.highlighted == 14
        top = links.scroll_offset.y
        assert top <= 14 < top + links.size.height  # the highlighted row scrolled into view
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.view.article_key == "s/t15.md")
        await settle(pilot)
        backlinks = screen.view.query_one("#view-backlinks", OptionList)
        assert backlinks.option_count == 1
        assert backlinks.size.height == 1 and not backlinks.show_vertical_scrollbar


async def test_going_between_a_long_and_a_short_answer_draws_the_view_once(
    tmp_path: Path,
) -> None:
    # The view's scrollbar came with the long answer and went with the short one, and each
    # time the screen was laid out and the whole view drawn again: the answer settled a frame
    # (20 to 50 ms) late.
    write_articles(tmp_path)
    app = QtApp(tmp_path, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await settle(pilot)
        answer = screen.view.query_one(AnswerMarkdown)
        frames: list[tuple[int, int]] = []  # per open: frames drawing the answer, the view
        draw = screen._compositor_refresh

        def counted() -> None:  # the real frame, counted by what it repaints
            drawn = screen._dirty_widgets
            frames[-1] = (frames[-1][0] + (answer in drawn), frames[-1][1] + (screen.view in drawn))
            draw()

        screen._compositor_refresh = counted  # type: ignore[method-assign]
        for key in ["s/b.md", "s/a.md", "s/b.md", "s/a.md"]:
            frames.append((0, 0))
            screen.open_article(key)
            await settle(pilot)
            assert screen.view.article_key == key
        assert frames == [(1, 0)] * 4, "one frame draws each answer; the view is not redrawn"
        assert screen.view.show_vertical_scrollbar
