"""Helpers for driving the real app headless with Pilot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from qt_tui.ui.app import QtApp
from qt_tui.ui.screens.main import MainScreen


def write_numbered_folder(
    root: Path, count: int, title: str = "Article number {n}", extra: str = ""
) -> None:
    """`count` articles in three subjects, article n linking to article n + 1; `title` is the
    YAML of each title (with {n}), `extra` more front matter lines."""
    for number in range(count):
        subject = ("physics", "history", "music")[number % 3]
        folder = root / subject
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"article-{number}.md").write_text(
            f"---\nid: {number}\ntitle: {title.format(n=number)}\nsubject: {subject.title()}\n"
            f"url: /learn/{subject}/questions/article-{number}\n"
            f"answer: >-\n    The answer of article {number}.\n"
            f"related_article1:\n    id: {(number + 1) % count}\n{extra}---\n&nbsp;\n",
            encoding="utf-8",
        )


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 10
) -> None:
    """Poll until `condition()` holds; fail after `timeout` seconds (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.02)


async def loaded(pilot: Pilot[None]) -> MainScreen:
    """Wait for the background load (backlinks included) and the first article to be shown."""
    app = pilot.app
    assert isinstance(app, QtApp)
    screen = app.main_screen
    await wait_until(pilot, lambda: screen.library is not None and app.index_ready)
    await wait_until(
        pilot, lambda: screen.view.article_key is not None or not screen.library.articles()
    )
    await pilot.pause()
    return screen


def view_text(screen: MainScreen) -> str:
    """Everything the article view shows as plain text: header, answer, link lists."""
    from textual.widgets import OptionList, Static

    from qt_tui.ui.widgets.article_view import AnswerMarkdown

    view = screen.view
    parts = [str(view.query_one("#view-header", Static).render())]
    markdown = view.query_one("#view-answer", AnswerMarkdown)
    parts.append(markdown.source)
    for links in view.query(OptionList):
        parts.extend(str(links.get_option_at_index(i).prompt) for i in range(links.option_count))
    return "\n".join(parts)


async def settle(pilot: Pilot[None]) -> None:
    """Let queued messages run."""
    await pilot.pause()
    await asyncio.sleep(0)
    await pilot.pause()
