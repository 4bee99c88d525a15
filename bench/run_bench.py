"""`make bench`: every scale figure of qt-tui on a generated folder, with ratios to references.

    python bench/run_bench.py [--root /tmp/qt-bench-100k] [--articles 100000] [--runs 3]

Generates the folder if missing (bench/gen_corpus.py), then measures, each in fresh processes:
first frame, cold index (no cache), warm start (cache present), peak RSS, opening an article,
cursor moves in the largest subject, full-text search, and a warm `qt-tui check`; plus the
references it is compared with: a naive `frontmatter.load` loop and grep/rg over the folder.
Prints a Markdown table with min / median / max over the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


#: Seconds the naive frontmatter.load loop took on the machine the issue's targets were set on.
REFERENCE_NAIVE = 23.5

#: The cold-index target as the issue set it: 6 s where a naive frontmatter.load loop took 23.5 s.
NAIVE_RATIO = REFERENCE_NAIVE / 6


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def spread(values: list[float], scale: float = 1.0, unit: str = "s") -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    if unit == "ms":
        return f"{low * 1000:.0f} / {mid * 1000:.0f} / {high * 1000:.0f} ms"
    if unit == "MB":
        return f"{low:.0f} / {mid:.0f} / {high:.0f} MB"
    return f"{low * scale:.2f} / {mid * scale:.2f} / {high * scale:.2f} s"


def probe(root: Path, env: dict[str, str], *flags: str) -> dict[str, object]:
    command = [PYTHON, str(HERE / "app_probe.py"), str(root), *flags]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if output.returncode != 0:
        raise SystemExit(f"probe failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def naive_loop(root: Path) -> float:
    code = (
        "import sys, time, pathlib, frontmatter\n"
        "t = time.perf_counter()\n"
        "for p in pathlib.Path(sys.argv[1]).rglob('*.md'):\n"
        "    frontmatter.load(p)\n"
        "print(time.perf_counter() - t)\n"
    )
    out = subprocess.run(
        [PYTHON, "-c", code, str(root)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def grep_reference(root: Path, queries: list[str]) -> tuple[str, list[float]]:
    tool = shutil.which("rg")
    times = []
    for query in queries:
        word = query.split()[0]
        if tool:
            command = [tool, "-i", "-l", "-F", word, str(root)]
        else:
            command = ["grep", "-r", "-i", "-l", "-F", word, str(root)]
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return ("rg" if tool else "grep -r (rg not installed)"), times


def read_folder(root: Path) -> None:
    """Read every file once, so that a cold run measures the index, not the disk: this
    machine's memory manager evicts idle page cache, and a run after it read 400 MB anew."""
    for path in root.rglob("*.md"):
        with open(path, "rb") as handle:
            while handle.read(1 << 20):
                pass


def check_time(root: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "-m", "qt_tui", "check", str(root), "--format", "json"],
        env=env, capture_output=True, check=False,
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description="qt-tui scale benchmark")
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "qt-bench-100k")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-naive", action="store_true", help="skip the slow reference loop")
    args = parser.parse_args()
    root: Path = args.root
    if not root.is_dir():
        print(f"generating {args.articles:,} articles in {root} …", flush=True)
        subprocess.run(
            [PYTHON, str(HERE / "gen_corpus.py"), str(root), "--articles", str(args.articles)],
            check=True,
        )
    # bytecode as an installed copy has it (pip compiles on install; this machine may set
    # PYTHONDONTWRITEBYTECODE, which made every probe compile the project again)
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(HERE.parent / "qt_tui")], check=True)
    cache_home = Path(tempfile.mkdtemp(prefix="qt-bench-cache-"))
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}

    cold, first, warm, rss, complete = [], [], [], [], []
    # every warm run opens, moves and searches: a p95 of 40 opens from one run swung by 30 ms
    # with this VM's speed from minute to minute
    runs: list[dict[str, object]] = []
    for run in range(args.runs):
        print(f"run {run + 1}/{args.runs}: cold …", flush=True)
        read_folder(root)
        result = probe(root, env, "--rebuild-cache", "--complete")
        cold.append(float(result["ready"]))
        complete.append(float(result["complete"]))
        first.append(float(result["first_frame"]))
        rss.append(float(result["rss_mb"]))
        print(f"run {run + 1}/{args.runs}: warm …", flush=True)
        result = probe(root, env, "--interactions")
        warm.append(float(result["ready"]))
        first.append(float(result["first_frame"]))
        rss.append(float(result["rss_mb"]))
        runs.append(result)
    checks = [check_time(root, env) for _ in range(args.runs)]
    interactions = runs[0]

    def pooled(name: str) -> list[float]:
        return [float(v) for result in runs for v in result[name]]

    def per_run_p95(name: str) -> str:
        each = [p95([float(v) for v in result[name]]) * 1000 for result in runs]
        return " / ".join(f"{v:.0f}" for v in each)

    opens = pooled("open_s")
    moves = pooled("move_s")
    pilot_moves = pooled("move_pilot_s")
    searches = pooled("search_s")
    tool, grep_times = grep_reference(root, list(interactions["search_queries"])[:10])
    naive = None if args.skip_naive else naive_loop(root)
    live_root = Path(tempfile.mkdtemp(prefix="qt-bench-live-"))
    shutil.copytree(HERE.parent / "sample_content", live_root / "content")
    live = [float(v) for v in probe(live_root / "content", env, "--live")["live_s"]]
    shutil.rmtree(live_root, ignore_errors=True)
    shutil.rmtree(cache_home, ignore_errors=True)

    cpus = os.cpu_count()
    print()
    print(f"qt-tui benchmark — {time.strftime('%Y-%m-%d')}, {platform.machine()}, {cpus} cores,")
    print(
        f"Python {platform.python_version()}, {int(interactions['articles']):,} articles in {root}"
    )
    print()
    print("| figure | target | min / median / max | verdict |")
    print("| --- | --- | --- | --- |")

    def row(name: str, target: str, shown: str, ok: bool) -> None:
        print(f"| {name} | {target} | {shown} | {'ok' if ok else 'MISSED'} |")

    row("first frame (tree + progress)", "≤ 0.5 s", spread(first), statistics.median(first) <= 0.5)
    # the target is 6 s against a naive loop of 23.5 s on the machine it was set on: on a
    # slower or faster machine the ratio to the naive loop of the same run is what compares
    if naive is not None:
        ratio = naive / statistics.median(cold)
        row(
            "cold index, no cache",
            f"≤ 6 s, or ≥ {NAIVE_RATIO:.1f}× the naive loop",
            f"{spread(cold)} ({ratio:.1f}× the naive loop's {naive:.1f} s)",
            statistics.median(cold) <= 6 or ratio >= NAIVE_RATIO,
        )
    else:
        row("cold index, no cache", "≤ 6 s", spread(cold), statistics.median(cold) <= 6)
    print(
        f"| … then backlinks and search text of every file (background) | — |"
        f" {spread(complete)} | — |"
    )
    row("warm start, cache present", "≤ 1.0 s", spread(warm), statistics.median(warm) <= 1.0)
    row("peak RSS", "≤ 300 MB", spread(rss, unit="MB"), max(rss) <= 300)
    count = len(runs)
    row(
        f"open an article, p95 of {len(opens)} ({count} runs of 40), right after the start"
        " (background work running)",
        "≤ 100 ms",
        f"{p95(opens) * 1000:.0f} ms (median {statistics.median(opens) * 1000:.0f} ms;"
        f" each run's p95 {per_run_p95('open_s')} ms)",
        p95(opens) <= 0.1,
    )
    quiet = pooled("open_quiet_s")
    row(
        f"open an article, p95 of {len(quiet)} ({count} runs of 40), once the background work"
        " is done",
        "≤ 100 ms",
        f"{p95(quiet) * 1000:.0f} ms (median {statistics.median(quiet) * 1000:.0f} ms;"
        f" each run's p95 {per_run_p95('open_quiet_s')} ms)",
        p95(quiet) <= 0.1,
    )
    size = int(interactions["move_rows"])
    row(
        f"cursor move, {size:,}-row list, p95 of {len(moves)} ({count} runs of 60)",
        "≤ 30 ms",
        f"{p95(moves) * 1000:.0f} ms (through Pilot: {p95(pilot_moves) * 1000:.0f} ms)",
        p95(moves) <= 0.03,
    )
    row(
        f"search, p95 of {len(searches)} queries ({count} runs of 46)",
        "≤ 100 ms",
        f"{p95(searches) * 1000:.0f} ms",
        p95(searches) <= 0.1,
    )
    row("qt-tui check, warm", "≤ 2 s", spread(checks), statistics.median(checks) <= 2)
    row(
        "file write → view shows it (sample folder), p95 of 20",
        "≤ 0.5 s",
        f"{p95(live) * 1000:.0f} ms (median {statistics.median(live) * 1000:.0f} ms)",
        p95(live) <= 0.5,
    )
    print()
    if naive is not None:
        ratio = naive / statistics.median(cold)
        print(f"- naive frontmatter.load loop: {naive:.1f} s; cold index is {ratio:.1f}× faster")
        # This VM's speed drifts by half from hour to hour: the same figures at the speed of
        # the machine the targets were set on (for reading only; the verdicts above are not
        # scaled)
        scale = REFERENCE_NAIVE / naive
        print(
            f"- at the speed of the issue's machine (naive loop {REFERENCE_NAIVE} s, so times"
            f" × {scale:.2f}): warm start {statistics.median(warm) * scale:.2f} s, open p95"
            f" {p95(opens) * scale * 1000:.0f} ms right after the start and"
            f" {p95(quiet) * scale * 1000:.0f} ms once quiet,"
            f" warm check {statistics.median(checks) * scale:.2f} s"
        )
    grep_median = statistics.median(grep_times)
    search_median = statistics.median(searches)
    print(
        f"- {tool} over the folder: median {grep_median * 1000:.0f} ms per word; "
        f"search median {search_median * 1000:.1f} ms ({grep_median / search_median:.0f}× faster)"
    )


if __name__ == "__main__":
    main()
