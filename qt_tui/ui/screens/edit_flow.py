"""The main screen's editing actions: form, external editor, undo, link-data propagation."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from textual.binding import Binding

from ...model.article import Article

if TYPE_CHECKING:
    from ...model.editing import SaveRecord
    from ...model.form import PlannedEdit
    from .edit import SaveOutcome
    from .main import MainScreen

# The editing core, the form and the dialogs are imported when first used: the first frame
# does not wait for them (nor for the YAML modules they bring).

EDIT_BINDINGS = [
    Binding("e", "edit", "Edit"),
    Binding("E", "external_edit", "$EDITOR", show=False),
    Binding("u", "undo", "Undo save", show=False),
    Binding("r", "refresh_related", "Refresh links", show=False),
]


class EditFlow:
    """Mixed into MainScreen: everything that writes files goes through here."""

    def _flow(self) -> MainScreen:
        from .main import MainScreen

        assert isinstance(self, MainScreen)
        return self

    def _open(self) -> Article | None:
        screen = self._flow()
        key = screen.view.article_key
        article = screen.library.get(key) if screen.library and key else None
        if article is None:
            screen.notify("Open an article first.", severity="warning")
        return article

    # -- the form ---------------------------------------------------------------------------
    def action_edit(self) -> None:
        from ...model.loading import article_from_bytes
        from .edit import EditScreen

        screen = self._flow()
        article = self._open()
        if article is None or screen.library is None:
            return
        article = screen.library.full(article)
        try:
            base = article.path.read_bytes()  # the file itself, never a cache
        except OSError as exc:
            screen.notify(f"Cannot read {article.relpath}: {exc.strerror}", severity="error")
            return
        library = screen.library
        article = article_from_bytes(base, article.path, library.root)  # exactly what is edited
        if not article.loaded:
            reason = article.problems[0].describe() if article.problems else "it does not load"
            screen.notify(f"Cannot edit {article.relpath}: {reason}", severity="error")
            return
        subjects = [name for name, _ in library.subjects()]
        form = EditScreen(article, base, subjects, library.articles(), screen.before_write)
        screen.app.push_screen(form, self._saved)

    def _saved(self, outcome: SaveOutcome | None) -> None:
        if outcome is None:
            return
        screen = self._flow()
        record = outcome.record
        screen.undo_records[self._key_for(record.path)] = record
        screen.reload_paths([record.path])
        keys = ", ".join(sorted(outcome.changes))
        screen.notify(f"Saved {record.path.name}: {keys}. Press u to undo.", timeout=5)
        title_changed = outcome.before.title != outcome.after.title
        subject_changed = outcome.before.subject != outcome.after.subject
        if title_changed or subject_changed:
            self._offer_propagation(record.path)

    def _key_for(self, path: Path) -> str:
        screen = self._flow()
        assert screen.library is not None
        article = screen.library.find_path(path)
        return article.key if article else path.name

    # -- keeping copied link data true ------------------------------------------------------
    def stale_backlink_edits(self, target: Article) -> tuple[list[PlannedEdit], list[str]]:
        """Planned edits for articles whose entries for `target` are stale, and failures."""
        from ...model.editing import EditError
        from ...model.form import plan_edit, stale_entries

        screen = self._flow()
        assert screen.library is not None
        plans: list[PlannedEdit] = []
        failures: list[str] = []
        for source in screen.library.backlinks(target):
            changes = stale_entries(source, target, screen.library.links_between(source, target))
            if not changes:
                continue
            try:
                plans.append(plan_edit(source.path, source.relpath, changes))
            except (EditError, OSError) as exc:
                failures.append(f"{source.relpath}: {exc}")
        return plans, failures

    def _offer_propagation(self, path: Path) -> None:
        from .dialogs import DiffScreen

        screen = self._flow()
        assert screen.library is not None
        target = screen.library.find_path(path)
        if target is None:
            return
        plans, failures = self.stale_backlink_edits(target)
        if not plans:
            return
        diff = "\n".join(plan.diff() for plan in plans)
        question = f"Update {len(plans)} article(s) that link here?"
        if failures:
            question += f" ({len(failures)} cannot be updated: {'; '.join(failures)[:200]})"

        def answered(approved: bool | None) -> None:
            if approved:
                self.apply_plans(plans, "Updated links in")

        screen.app.push_screen(DiffScreen(question, diff, ask=question), answered)

    def apply_plans(self, plans: list[PlannedEdit], verb: str) -> None:
        from ...model.editing import ConflictError, EditError, save_atomic

        screen = self._flow()
        done: list[str] = []
        failed: list[str] = []
        for plan in plans:
            screen.before_write(plan.path)
            try:
                save_atomic(plan.path, plan.after, expected_old=plan.before)
            except ConflictError:
                failed.append(f"{plan.label} (changed on disk)")
            except EditError as exc:
                failed.append(f"{plan.label} ({exc})")
            else:
                done.append(plan.label)
        screen.reload_paths([plan.path for plan in plans])
        message = f"{verb} {len(done)} file(s): {', '.join(done)}" if done else "Nothing written."
        if failed:
            message += f"\nNot written: {', '.join(failed)}"
        screen.notify(message, severity="warning" if failed else "information", timeout=8)

    def action_refresh_related(self) -> None:
        """Refresh the open article's related entries from their targets' front matter."""
        from ...model.editing import EditError
        from ...model.form import plan_edit, stale_entries
        from .dialogs import DiffScreen

        screen = self._flow()
        article = self._open()
        if article is None or screen.library is None:
            return
        changes: dict[str, object] = {}
        for entry in screen.library.related(article):
            if entry.target is not None:
                links = screen.library.links_between(article, entry.target)
                changes.update(stale_entries(article, entry.target, links))
        if not changes:
            screen.notify("Related entries already match their targets.", timeout=3)
            return
        try:
            plan = plan_edit(article.path, article.relpath, changes)
        except (EditError, OSError) as exc:
            screen.notify(f"Cannot refresh links: {exc}", severity="error")
            return

        def answered(approved: bool | None) -> None:
            if approved:
                self.apply_plans([plan], "Refreshed related entries in")

        ask = "Write these refreshed related entries?"
        screen.app.push_screen(DiffScreen(ask, plan.diff(), ask=ask), answered)

    # -- undo and the external editor -------------------------------------------------------
    def action_undo(self) -> None:
        from ...model.editing import ConflictError, EditError, undo_save

        screen = self._flow()
        article = self._open()
        if article is None:
            return
        record: SaveRecord | None = screen.undo_records.get(article.key)
        if record is None:
            screen.notify("No save of this article to undo.", timeout=3)
            return
        screen.before_write(record.path)
        try:
            undo_save(record)
        except ConflictError:
            screen.notify("Cannot undo: the file changed since that save.", severity="error")
            return
        except EditError as exc:
            screen.notify(f"Cannot undo: {exc}", severity="error")
            return
        del screen.undo_records[article.key]
        screen.reload_paths([record.path])
        screen.notify(f"Undid the last save of {record.path.name}.", timeout=4)

    def action_external_edit(self) -> None:
        screen = self._flow()
        article = self._open()
        if article is None:
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        try:
            with screen.app.suspend():
                subprocess.call([*shlex.split(editor), str(article.path)])
        except Exception as exc:  # SuspendNotSupported, a missing editor: tell the user
            screen.notify(f"Cannot run {editor}: {exc}", severity="error")
        screen.reload_paths([article.path])
