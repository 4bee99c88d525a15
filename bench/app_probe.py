"""One measured run of the real app, headless, in its own process (driven by run_bench.py).

    python bench/app_probe.py ROOT [--rebuild-cache] [--interactions]

Prints one JSON line: seconds from process start to the first frame (tree and progress shown),
to the index being complete (every article listed and openable), peak RSS, and with
--interactions the per-action latencies of opening articles, cursor moves and searches.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

STARTED = time.time()  # as close to process start as Python lets us get

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# the app starts as `qt-tui DIR` starts it: the same imports, checks and set-up (cli.make_app)
from qt_tui import cli  # noqa: E402

if TYPE_CHECKING:
    from qt_tui.ui.app import QtApp


def rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return own / 1024


def record_frames(screen, clock) -> tuple[list[tuple[float, set[object]]], Callable[[], None]]:
    """Timestamp (by `clock`) every frame the screen composes, with the widgets it
    repainted; returns the growing list and a function that stops the recording."""
    frames: list[tuple[float, set[object]]] = []
    compose_frame = screen._compositor_refresh

    def timed_frame() -> None:
        repainted = set(screen._dirty_widgets)
        compose_frame()
        frames.append((clock(), repainted))

    def stop() -> None:
        screen._compositor_refresh = compose_frame

    screen._compositor_refresh = timed_frame  # called for every frame the screen paints
    return frames, stop


async def measure(
    root: Path, rebuild: bool, interactions: bool, complete: bool = False
) -> dict[str, object]:
    root, _ = cli.resolve_target(str(root))
    app = cli.make_app(root, watch=False, rebuild_cache=rebuild)
    result: dict[str, object] = {}
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.main_screen
        while app.first_frame_at is None:  # set by the app once its first frame is drawn
            await asyncio.sleep(0.005)
        result["first_frame"] = app.first_frame_at - STARTED
        frames, stop_recording = record_frames(screen, time.time)
        key, opened = None, 0.0  # the article shown, and since when
        while app._loading or screen.library is None or screen.view.article_key is None:
            if screen.view.article_key != key:
                key, opened = screen.view.article_key, time.time()
            await asyncio.sleep(0.002)
        loaded = time.time()
        if screen.view.article_key != key:
            opened = loaded
        answer = screen.view.query_one("#view-answer")
        covering = set(answer.ancestors_with_self)

        def first_frame(since: float, widgets: set[object] | None = None) -> float | None:
            times = [t for t, seen in frames if t >= since and (widgets is None or widgets & seen)]
            return min(times) if times else None

        # ready: the first frame after the load (every article listed) once the opened
        # article's answer is on screen (it may have been opened while indexing)
        while first_frame(loaded) is None or first_frame(opened, covering) is None:
            await asyncio.sleep(0.002)
        ready = max(first_frame(loaded) or 0.0, first_frame(opened, covering) or 0.0)
        stop_recording()
        result["ready"] = ready - STARTED
        stats = getattr(screen.library, "index_stats", None)
        if stats is not None:  # the load itself, without start-up and drawing
            result["index_s"] = stats.seconds
            result["in_workers"] = stats.in_workers
        own = resource.getrusage(resource.RUSAGE_SELF)
        result["cpu_s"] = own.ru_utime + own.ru_stime  # this process only, not the workers
        await pilot.pause()
        result["articles"] = len(screen.library.articles())
        result["rss_mb"] = rss_mb()
        if complete:  # backlinks and search text of every file indexed too
            deadline = time.time() + 600
            while not app.search_ready and time.time() < deadline:
                await asyncio.sleep(0.05)
            result["complete"] = time.time() - STARTED
            # and the folder check (it runs in its own process): the next, warm, run then
            # starts from a complete cache, as a start after any full session does
            while screen.code_counts is None and time.time() < deadline:
                await asyncio.sleep(0.1)
            result["rss_mb"] = rss_mb()
        if interactions:
            result.update(await interact(pilot, app))
            # again once the background work after the start (comparing the cache with the
            # folder, backlinks and search text, the folder check) is done
            deadline = time.time() + 300
            while not (app.index_ready and screen.code_counts is not None):
                if time.time() > deadline:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            quiet = await interact(pilot, app, seed=4)
            result["open_quiet_s"] = quiet["open_s"]
            result["move_quiet_s"] = quiet["move_s"]
            result["rss_mb"] = rss_mb()
    if app.snapshots is not None:  # the snapshot writer goes on after a quit: let it end
        app.snapshots.wait(300)  # so the next (warm) run finds what a later start would
    return result


async def interact(pilot, app: QtApp, seed: int = 3) -> dict[str, object]:
    """Latencies as the user sees them: from the action to the frame that shows its result.

    Every frame the screen composes is timestamped with the widgets it repainted. An open
    lasts until the screen is quiet (nothing queued, nothing to lay out or paint) and is
    timed to the last frame that repainted the answer or a container of it: from then on the
    answer pane no longer changes (`open_settled_s` runs to the last frame of all, e.g. a
    scrollbar of another pane; `open_first_paint_s` to the first frame with the answer). A
    cursor move lasts until the frame that repaints the list. `pilot.pause()` times nothing:
    it sleeps at least 20 ms and keeps sleeping while any work runs.
    """
    screen = app.main_screen
    library = screen.library
    rng = random.Random(seed)
    keys = [a.key for a in library.articles()]
    frames, stop_recording = record_frames(screen, time.perf_counter)

    def quiet() -> bool:
        """Nothing queued, nothing to lay out or paint, no callback waiting for a frame."""
        if screen._layout_required or screen._dirty_widgets or screen._repaint_required:
            return False
        if screen._callbacks:
            return False
        nodes = [app, *screen.walk_children(with_self=True)]
        return all(node._message_queue.empty() for node in nodes)

    def painted(widget, last: bool = False) -> float | None:
        """When the first (or last) frame that repainted `widget` or a container was composed."""
        covering = set(widget.ancestors_with_self)
        times = [t for t, repainted in frames if covering & repainted]
        return (times[-1] if last else times[0]) if times else None

    async def settled(condition) -> float:
        """Wait for `condition()` and a quiet screen; the time of the last frame painted."""
        while not (condition() and frames and quiet()):
            await asyncio.sleep(0.001)
        return frames[-1][0]

    answer = screen.view.query_one("#view-answer")
    opens, first_paints, settled_opens = [], [], []
    for key in rng.sample(keys, 40):
        frames.clear()
        started = time.perf_counter()
        screen.open_article(key)
        done = await settled(lambda key=key: screen.view.article_key == key)
        opens.append(painted(answer, last=True) - started)
        first_paints.append(painted(answer) - started)
        settled_opens.append(done - started)
        await asyncio.sleep(0.02)
    subject, size = max(library.subjects(), key=lambda item: item[1])
    screen.open_article(library.in_subject(subject)[0].key)
    await pilot.pause()
    options = screen.article_list.options
    options.focus()
    await pilot.pause()
    moves, pilot_moves = [], []
    for step in range(60):
        before = screen.view.article_key
        frames.clear()
        started = time.perf_counter()
        if step % 10:
            options.action_cursor_down()
        else:
            options.action_page_down()
        while painted(options) is None:
            await asyncio.sleep(0.001)  # until the list's new cursor row is on screen
        moves.append(painted(options) - started)
        await settled(lambda before=before: screen.view.article_key != before)  # the follow
        await asyncio.sleep(0.02)
    for _ in range(20):
        before = screen.view.article_key
        started = time.perf_counter()
        await pilot.press("down")
        while screen.view.article_key == before:
            await asyncio.sleep(0.001)
        pilot_moves.append(time.perf_counter() - started)
    stop_recording()
    searches = []
    index = app.index
    words = ["signal", "market theorem", "enzyme", "photon orbit", "glac", "compiler sy"]
    words += [w.split()[0] for w in (a.title for a in rng.sample(library.articles(), 40))]
    for query in words:
        started = time.perf_counter()
        index.search(query)
        searches.append(time.perf_counter() - started)
    return {
        "open_s": opens,
        "open_first_paint_s": first_paints,
        "open_settled_s": settled_opens,
        "move_s": moves,
        "move_pilot_s": pilot_moves,
        "move_rows": size,
        "search_s": searches,
        "search_queries": words,
    }


async def live_latency(root: Path, writes: int = 20) -> dict[str, object]:
    """Seconds from rewriting the open article's file to the view showing the new title."""
    target = next(iter(sorted(root.rglob("*.md"))))
    app = cli.make_app(root, selected=target.resolve())
    latencies = []
    async with app.run_test(size=(160, 45)):
        screen = app.main_screen
        while app.watcher is None or screen.view.article_key is None:
            await asyncio.sleep(0.01)
        original = target.read_text(encoding="utf-8")
        title = screen.library.get(screen.view.article_key).title
        try:
            for number in range(writes):
                new_title = f"{title} (edit {number})"
                started = time.perf_counter()
                target.write_text(original.replace(title, new_title, 1), encoding="utf-8")
                while screen.view.display_data is None or (
                    screen.view.display_data.article.title != new_title
                ):
                    await asyncio.sleep(0.002)
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.3)  # separate writes, as a person saving would
        finally:
            target.write_text(original, encoding="utf-8")
    return {"live_s": latencies}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("--rebuild-cache", action="store_true")
    parser.add_argument("--interactions", action="store_true")
    parser.add_argument(
        "--complete", action="store_true", help="also wait for backlinks and search text"
    )
    parser.add_argument("--live", action="store_true", help="measure write-to-view latency")
    args = parser.parse_args()
    if args.live:
        result = asyncio.run(live_latency(args.root))
    else:
        result = asyncio.run(
            measure(args.root, args.rebuild_cache, args.interactions, args.complete)
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
