"""Helpers for driving the real app headless with Pilot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.pilot import Pilot

from qt_tui.ui.app import QtApp
from qt_tui.ui.screens.main import MainScreen


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
