"""The edit form: typed metadata fields and the ordered related list; ctrl+s saves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ...model.article import Article
from ...model.editing import ConflictError, EditError, SaveRecord, apply_changes, save_atomic
from ...model.editing import unified_diff as make_diff
from ...model.form import (
    SEO_DESCRIPTION_LIMIT,
    FormValues,
    RelatedEntry,
    changes_for,
    follow_subject,
    validate,
    values_from_article,
)
from ...model.text import one_line, printable
from ..widgets.footer import KeysFooter
from .dialogs import ArticlePicker, ConfirmScreen, DiffScreen

FIELDS = ("title", "subject", "date", "author", "seo_title", "seo_description", "seo_keywords")


@dataclass(frozen=True)
class SaveOutcome:
    """What the form saved: the undo record and the values before and after."""

    record: SaveRecord
    changes: dict[str, object]
    before: FormValues
    after: FormValues


class RelatedEditor(OptionList):
    """The ordered related entries: a add, x remove, ctrl+↑/↓ move."""

    BINDINGS = [
        Binding("a", "add", "Add link"),
        Binding("x,delete", "remove", "Remove link"),
        Binding("ctrl+up", "move(-1)", "Move up"),
        Binding("ctrl+down", "move(1)", "Move down"),
    ]

    def __init__(self, entries: list[RelatedEntry], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries = list(entries)

    def on_mount(self) -> None:
        self.show_entries()

    def show_entries(self, highlight: int | None = None) -> None:
        rows = []
        for number, entry in enumerate(self.entries, start=1):
            label = Text(f"{number:>2}. {one_line(entry.title) or '(untitled)'}")
            label.append(f"  · {one_line(entry.subject)} · id {entry.id}", style="dim")
            rows.append(Option(label))
        self.set_options(rows)
        if rows:
            self.highlighted = min(highlight or 0, len(rows) - 1)

    def action_add(self) -> None:
        screen = self.screen
        assert isinstance(screen, EditScreen)
        screen.pick_related()

    def action_remove(self) -> None:
        if self.highlighted is not None and self.entries:
            index = self.highlighted
            del self.entries[index]
            self.show_entries(index)

    def action_move(self, step: int) -> None:
        index = self.highlighted
        if index is None or not 0 <= index + step < len(self.entries):
            return
        self.entries[index], self.entries[index + step] = (
            self.entries[index + step],
            self.entries[index],
        )
        self.show_entries(index + step)


class EditScreen(ModalScreen[SaveOutcome | None]):
    """Edit one article's metadata; saves only the changed fields' lines, atomically."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("f2", "diff", "Show diff"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        article: Article,
        base: bytes,
        subjects: list[str],
        articles: list[Article],
        before_write: Callable[[Path], None] = lambda path: None,
    ) -> None:
        super().__init__()
        self.before_write = before_write
        self.article = article
        self.base = base
        self.initial = values_from_article(article)
        self.subjects = subjects
        self.articles = articles
        self._last_subject = self.initial.subject

    def compose(self) -> ComposeResult:
        v = self.initial
        with Vertical(id="edit-box"):
            yield Static(self._heading(), id="edit-heading")
            yield Static(id="edit-banner")
            with VerticalScroll(id="edit-fields"):
                yield from self._field("title", "Title", v.title)
                yield Checkbox(
                    "Also change article_title and question (they match the title)",
                    value=v.sync_title,
                    id="sync_title",
                )
                yield from self._field(
                    "subject",
                    "Subject (an existing one, or type a new one)",
                    v.subject,
                    suggester=SuggestFromList(self.subjects, case_sensitive=False),
                )
                yield from self._field("date", "Date (YYYY-MM-DD)", v.date)
                yield from self._field("author", "Author", v.author)
                yield from self._field("seo_title", "SEO title", v.seo_title)
                yield from self._field("seo_description", "SEO description", v.seo_description)
                yield from self._field("seo_keywords", "SEO keywords", v.seo_keywords)
                yield Label(Text("Related articles (a add · x remove · ctrl+↑/↓ move)"))
                yield RelatedEditor(v.related, id="related")
                yield Static(
                    Text(
                        f"url and file stay as they are: {one_line(self.article.url)} — "
                        "changing them would break links to this article.",
                        style="dim",
                    )
                )
        yield KeysFooter()

    def _heading(self) -> Text:
        text = Text(f"Edit {one_line(self.article.relpath)}", style="bold")
        text.append(f"   id {self.article.id} (read-only)", style="dim")
        return text

    def _field(
        self, name: str, label: str, value: str, suggester: SuggestFromList | None = None
    ) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Label(label, classes="field-label")
            yield Input(
                value=value,
                id=name,
                suggester=suggester,
                classes="field-input",
                select_on_focus=False,
            )
        yield Static(id=f"{name}-note", classes="field-note")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()
        self._update_notes()

    # -- values -----------------------------------------------------------------------------
    def values(self) -> FormValues:
        """The form's current values."""
        get = {name: self.query_one(f"#{name}", Input).value for name in FIELDS}
        return FormValues(
            title=get["title"].strip(),
            sync_title=self.query_one("#sync_title", Checkbox).value,
            subject=get["subject"].strip(),
            date=get["date"].strip(),
            author=get["author"].strip(),
            seo_title=get["seo_title"].strip(),
            seo_description=get["seo_description"].strip(),
            seo_keywords=get["seo_keywords"].strip(),
            related=list(self.query_one(RelatedEditor).entries),
        )

    @property
    def dirty(self) -> bool:
        return self.values() != self.initial

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id == "subject":
            seo = self.query_one("#seo_title", Input)
            pattern, old_subject = self.initial.seo_title, self.initial.subject
            expected = follow_subject(pattern, old_subject, self._last_subject)
            new_subject = event.value.strip()
            if new_subject and seo.value == expected:
                seo.value = follow_subject(pattern, old_subject, new_subject)
            self._last_subject = new_subject or self._last_subject
        self._update_notes()

    def _update_notes(self) -> None:
        errors, warnings = validate(self.values())
        for name in FIELDS:
            note = self.query_one(f"#{name}-note", Static)
            message = errors.get(name) or warnings.get(name) or ""
            style = "bold red" if name in errors else "yellow"
            if name == "seo_description" and not message:
                count = len(self.query_one("#seo_description", Input).value.strip())
                message, style = f"{count} / {SEO_DESCRIPTION_LIMIT} characters", "dim"
            note.update(Text(message, style=style))
            note.display = bool(message)

    def _banner(self, message: str, style: str = "bold red") -> None:
        self.query_one("#edit-banner", Static).update(Text(printable(message), style=style))

    # -- related ----------------------------------------------------------------------------
    def pick_related(self) -> None:
        def chosen(key: str | None) -> None:
            target = next((a for a in self.articles if a.key == key), None)
            if target is None:
                return
            editor = self.query_one(RelatedEditor)
            editor.entries.append(RelatedEntry.from_article(target))
            editor.show_entries(len(editor.entries) - 1)
            self._update_notes()

        self.app.push_screen(ArticlePicker(self.articles), chosen)

    # -- actions ----------------------------------------------------------------------------
    def _new_bytes(self) -> tuple[dict[str, object], bytes] | None:
        values = self.values()
        errors, _ = validate(values)
        self._update_notes()
        if errors:
            self._banner("Fix the fields marked in red before saving.")
            return None
        changes = changes_for(self.article, values)
        try:
            return changes, apply_changes(self.base, changes) if changes else self.base
        except EditError as exc:
            self._banner(f"Cannot apply this edit: {exc}")
            return None

    def action_diff(self) -> None:
        result = self._new_bytes()
        if result is not None:
            diff = make_diff(self.article.relpath, self.base, result[1])
            self.app.push_screen(DiffScreen(f"What saving writes to {self.article.relpath}", diff))

    def action_save(self) -> None:
        result = self._new_bytes()
        if result is None:
            return
        changes, new = result
        if not changes:
            self.dismiss(None)
            self.app.notify("Nothing changed; nothing written.", timeout=3)
            return
        self.before_write(self.article.path)
        try:
            save_atomic(self.article.path, new, expected_old=self.base)
        except ConflictError:
            self._banner(
                "Not saved: the file changed on disk since this form opened. "
                "Esc, then open the form again to edit the new version."
            )
            return
        except EditError as exc:
            self._banner(f"Not saved: {exc}")
            return
        record = SaveRecord(self.article.path, self.base, new)
        self.dismiss(SaveOutcome(record, changes, self.initial, self.values()))

    def action_cancel(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen("Discard your unsaved changes?", "Discard", "Keep editing"), answered
        )

    def file_changed_on_disk(self) -> None:
        """Called when the watcher sees this file change under the form."""
        self._banner(
            "This file changed on disk. Saving now will be refused as a conflict; "
            "Esc and reopen the form to edit the new version."
        )
