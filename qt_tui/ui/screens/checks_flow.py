"""The main screen's integrity view: background checks, the Problems node, one-key fixes."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding
from textual.message import Message

from ...model.library import Library
from ..processes import start_resource_tracker

if TYPE_CHECKING:
    from ...model.checks import Finding
    from ...model.foldercheck import CompactReport
    from .main import MainScreen

# The checks, their report and the fixes are imported when first used (after the first frame).

CHECK_BINDINGS = [Binding("f", "fix_article", "Fix", show=False)]

#: Codes the `f` key repairs on the open article (title-mismatch is only fixed on request).
SAFE_FIXES = frozenset({"stale-link", "duplicate-link"})

_ORDER = {"error": 0, "warning": 1, "info": 2}

#: Above this many articles the folder checks run only when asked (Enter on Problems, or the
#: palette). They run in another process from cached per-file facts (a warm check of 100,000
#: articles takes seconds and never holds this interpreter), so only huge folders wait.
AUTO_CHECK_LIMIT = 250_000


class ChecksDone(Message):
    """The folder's findings, computed off the UI thread for one version of the library."""

    def __init__(
        self,
        library: Library,
        generation: int,
        findings: CompactReport,
        code_counts: list[tuple[str, str, int]],
    ) -> None:
        super().__init__()
        self.library = library
        self.generation = generation
        self.findings = findings
        self.code_counts = code_counts


def folder_report_elsewhere(root: Path, stopped: Callable[[], bool] | None = None) -> CompactReport:
    """The folder's report, computed in a separate low-priority process (forkserver: this
    one has threads), so that the check neither competes with the UI for the interpreter
    nor keeps its facts in the app's memory; computed here if no process can be started.
    Raises CheckSuperseded when a newer check stopped this one, CheckStopped when the app
    stopped it (see foldercheck.stop_checks) or `stopped()` is True."""
    from ...model.foldercheck import CheckStopped, CompactReport, folder_report, report_elsewhere

    methods = multiprocessing.get_all_start_methods()
    method = "forkserver" if "forkserver" in methods else "spawn"
    try:
        start_resource_tracker()
        report = report_elsewhere(root, multiprocessing.get_context(method), stopped)
    except (OSError, RuntimeError, ImportError, ValueError, AssertionError):
        report = None
    if report is not None:
        return report
    if stopped is not None and stopped():
        raise CheckStopped  # the app is quitting: no check here either
    return CompactReport.of(folder_report(root))


class ChecksFlow:
    """Mixed into MainScreen: keeps `findings` current and offers the safe fixes."""

    findings_by_key: Mapping[str, list[Finding]]
    code_counts: list[tuple[str, str, int]] | None
    check_generation: int
    checks_requested: bool

    def action_run_checks(self) -> None:
        """Check the whole folder now (and keep the results current from then on)."""
        screen = self._checks()
        self.checks_requested = True
        screen.notify("Checking every article of the folder…", timeout=3)
        self.schedule_checks()

    def _checks(self) -> MainScreen:
        from .main import MainScreen

        assert isinstance(self, MainScreen)
        return self

    def schedule_checks(self) -> None:
        """Re-run the checks in the background for the folder as it is now."""
        screen = self._checks()
        if screen.library is None or not screen.checks_enabled:
            return
        if len(screen.library) > AUTO_CHECK_LIMIT and not self.checks_requested:
            return
        self.check_generation += 1
        self._run_checks(screen.library, self.check_generation)

    @work(thread=True, exclusive=True, group="checks", exit_on_error=False)
    def _run_checks(self, library: Library, generation: int) -> None:
        from ...model.checks import CODES
        from ...model.foldercheck import CheckStopped, CheckSuperseded

        screen = self._checks()
        while True:
            if generation != self.check_generation:
                return  # a newer check was asked for (a change on disk): it reports instead
            try:
                report = folder_report_elsewhere(library.root, screen.stopped)
            except CheckSuperseded:
                # Two checks asked for in a row start their processes from two threads, and
                # the later start stops the other: when the older request's process came
                # second, this (newest) one was stopped and no report came at all. Start again.
                continue
            except CheckStopped:
                return  # quitting
            break
        counts = sorted(
            ((code, str(CODES[code]), n) for code, n in report.counts.items()),
            key=lambda item: (_ORDER.get(item[1], 3), item[0]),
        )
        screen.post_message(ChecksDone(library, generation, report, counts))

    def on_checks_done(self, message: ChecksDone) -> None:
        screen = self._checks()
        if message.generation != self.check_generation or message.library is not screen.library:
            return
        self.findings_by_key = message.findings
        self.code_counts = message.code_counts
        screen.refresh_tree()
        if screen.entry.kind == "code":
            screen.show_entry(screen.entry)
        if screen.view.display_data is not None:
            key = screen.view.display_data.article.key
            screen.view.set_findings(self.findings_by_key.get(key, []))

    def articles_with_code(self, code: str) -> list[str]:
        """Keys of the articles with at least one finding of `code`."""
        from ...model.foldercheck import CompactReport

        found = self.findings_by_key
        if isinstance(found, CompactReport):
            return found.paths_with(code)
        return [key for key, items in found.items() if any(f.code == code for f in items)]

    def action_fix_article(self) -> None:
        """Show, then apply, the open article's safe fixes (stale or repeated related entries)."""
        from ...model.checks import Checker
        from ...model.editing import EditError
        from ...model.form import plan_edit
        from .dialogs import DiffScreen

        screen = self._checks()
        key = screen.view.article_key
        if screen.library is None or key is None or (article := screen.library.get(key)) is None:
            screen.notify("Open an article first.", severity="warning")
            return
        changes = Checker(screen.library).fix_changes(screen.library.full(article), SAFE_FIXES)
        if not changes:
            screen.notify("Nothing to fix automatically in this article.", timeout=3)
            return
        try:
            plan = plan_edit(article.path, article.relpath, changes)
        except (EditError, OSError) as exc:
            screen.notify(f"Cannot fix {article.relpath}: {exc}", severity="error")
            return

        def answered(approved: bool | None) -> None:
            if approved:
                screen.apply_plans([plan], "Fixed")

        ask = "Apply these fixes (refreshed and de-duplicated related entries)?"
        screen.app.push_screen(DiffScreen(ask, plan.diff(), ask=ask), answered)
