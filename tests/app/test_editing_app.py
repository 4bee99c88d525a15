"""Editing as a user drives it: the edit form, undo, link propagation, on copies of real files."""

from __future__ import annotations

import difflib
import os
import shutil
import stat
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Static

from qt_tui.model.article import Article
from qt_tui.model.form import stale_entries
from qt_tui.model.library import Library
from qt_tui.model.loading import load_article
from qt_tui.ui.app import QtApp
from qt_tui.ui.screens.dialogs import ArticlePicker, ConfirmScreen, DiffScreen
from qt_tui.ui.screens.edit import EditScreen, RelatedEditor
from qt_tui.ui.screens.main import MainScreen
from qt_tui.ui.widgets.subject_tree import TreeEntry
from tests.app.helpers import loaded, settle, view_text, wait_until

SIZE = (160, 45)

# -- reading files as lines ---------------------------------------------------------------------


def lines_of(data: bytes) -> list[str]:
    """The file's lines with their endings (bytes.splitlines splits on \\n and \\r only)."""
    return [line.decode("utf-8") for line in data.splitlines(keepends=True)]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def key_block(data: bytes, dotted: str) -> range:
    """Line numbers of a front matter key: its own line and every more-indented line after."""
    lines = [line.rstrip("\r\n") for line in lines_of(data)]
    lo, hi = 1, lines.index("---", 1)
    indent = 0
    block = range(0)
    for depth, seg in enumerate(dotted.split(".")):
        start = next(
            k
            for k in range(lo, hi)
            if _indent(lines[k]) == indent and lines[k][indent:].startswith(f"{seg}:")
        )
        end = start + 1
        while end < hi and (not lines[end].strip() or _indent(lines[end]) > indent):
            end += 1
        block = range(start, end)
        if depth < len(dotted.split(".")) - 1:
            lo, hi, indent = start + 1, end, _indent(lines[start + 1])
    return block


def value_lines(data: bytes, dotted: str) -> set[int]:
    """The lines holding a key's value: the key line for `k: v`, the body for `k: >-` blocks."""
    block = key_block(data, dotted)
    head = lines_of(data)[block.start].rstrip("\r\n")
    if head.rstrip().endswith((":", ">-", "|-", ">", "|")) and len(block) > 1:
        return set(block[1:])
    return {block.start}


def changed_lines(old: bytes, new: bytes) -> set[int]:
    """Old line numbers touched by the change (an insertion counts the line it follows)."""
    matcher = difflib.SequenceMatcher(None, lines_of(old), lines_of(new), autojunk=False)
    touched: set[int] = set()
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        touched.update(range(i1, i2) if i2 > i1 else {i1 - 1})
    return touched


def assert_only(old: bytes, new: bytes, allowed: set[int]) -> None:
    touched = changed_lines(old, new)
    assert touched, "nothing changed"
    assert touched <= allowed, "".join(
        difflib.unified_diff(lines_of(old), lines_of(new), "before", "after")
    )


# -- driving the app ------------------------------------------------------------------------------


def static_text(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


def list_row(screen: MainScreen, key: str) -> str:
    """The text of the article list's row for `key`."""
    options = screen.article_list.options
    index = options.index_of(key)
    assert index is not None, f"{key} is not listed"
    return str(options.label_at(index))


def notices(app: QtApp) -> list[str]:
    return [n.message for n in app._notifications]


async def open_app(pilot: Pilot[None], article: Article) -> MainScreen:
    screen = await loaded(pilot)
    await wait_until(pilot, lambda: screen.view.article_key == article.key)
    return screen


async def open_form(pilot: Pilot[None]) -> EditScreen:
    await pilot.press("e")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, EditScreen))
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, EditScreen)
    return form


async def replace_field(pilot: Pilot[None], form: EditScreen, name: str, text: str) -> None:
    """Focus a field, clear it and type `text` as a user would."""
    form.query_one(f"#{name}", Input).focus()
    await settle(pilot)
    await pilot.press("end", "ctrl+u")
    if text:
        await pilot.press(*text)
    await wait_until(pilot, lambda: form.query_one(f"#{name}", Input).value == text)


async def append_to_field(pilot: Pilot[None], form: EditScreen, name: str, text: str) -> str:
    field = form.query_one(f"#{name}", Input)
    field.focus()
    await settle(pilot)
    wanted = field.value + text
    await pilot.press("end", *text)
    await wait_until(pilot, lambda: field.value == wanted)
    return wanted


async def paste(pilot: Pilot[None], field: Input, text: str) -> None:
    """Paste `text` into a field at its cursor, as a terminal's bracketed paste delivers it."""
    wanted = field.value[: field.cursor_position] + text + field.value[field.cursor_position :]
    field.post_message(events.Paste(text))
    await wait_until(pilot, lambda: field.value == wanted)


async def save_and_close(pilot: Pilot[None]) -> None:
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: not isinstance(pilot.app.screen, EditScreen))
    await settle(pilot)


async def answer_diff(pilot: Pilot[None], key: str) -> str:
    """Wait for the DiffScreen question, answer it, and return its heading."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DiffScreen))
    dialog = pilot.app.screen
    assert isinstance(dialog, DiffScreen)
    heading = dialog.heading
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
    await settle(pilot)
    return heading


# -- choosing articles of the sample copy ---------------------------------------------------------


def pick(library: Library, *, with_backlinks: bool = False) -> Article:
    """A loaded article whose backlinks (if any) currently hold fresh copies of its data."""
    for article in sorted(library.articles(), key=lambda a: a.key):
        backlinks = library.backlinks(article)
        if with_backlinks and len(backlinks) < 2:
            continue
        if all(not stale_entries(s, article, library.links_between(s, article)) for s in backlinks):
            return article
    raise AssertionError("no suitable article in the sample")


def snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*.md")}


# -- the form ------------------------------------------------------------------------------------


async def test_title_edit_changes_only_the_title_lines_and_shows_everywhere(
    sample_copy: Path,
) -> None:
    library = Library.load(sample_copy)
    article = pick(library)
    before = snapshot(sample_copy)
    original = before[article.path]
    app = QtApp(sample_copy, selected=article.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, article)
        form = await open_form(pilot)
        assert form.query_one("#title", Input).value == article.title
        assert form.query_one("#sync_title", Checkbox).value is True
        new_title = await append_to_field(pilot, form, "title", " (revised)")
        await save_and_close(pilot)
        if library.backlinks(article):
            await answer_diff(pilot, "n")
        after = article.path.read_bytes()
        allowed = set().union(
            *(value_lines(original, k) for k in ("title", "article_title", "question"))
        )
        assert_only(original, after, allowed)
        assert changed_lines(original, after) == allowed
        reloaded = load_article(article.path, sample_copy)
        assert reloaded.title == reloaded.question == new_title
        assert reloaded.front_matter["article_title"] == new_title
        # every other file is untouched (the propagation offer was declined)
        assert {p: b for p, b in snapshot(sample_copy).items() if p != article.path} == {
            p: b for p, b in before.items() if p != article.path
        }
        await wait_until(pilot, lambda: new_title in static_text(screen.view, "#view-header"))
        assert new_title in list_row(screen, article.key)
        assert any(f"Saved {article.path.name}" in m for m in notices(app))


async def test_sync_off_changes_only_the_title_line(sample_copy: Path) -> None:
    library = Library.load(sample_copy)
    article = pick(library)
    original = article.path.read_bytes()
    app = QtApp(sample_copy, selected=article.path)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, article)
        form = await open_form(pilot)
        checkbox = form.query_one("#sync_title", Checkbox)
        checkbox.focus()
        await settle(pilot)
        await pilot.press("space")
        await wait_until(pilot, lambda: checkbox.value is False)
        await replace_field(pilot, form, "title", "New title")
        await save_and_close(pilot)
        if library.backlinks(article):
            await answer_diff(pilot, "n")
        after = article.path.read_bytes()
        assert changed_lines(original, after) == value_lines(original, "title")
        reloaded = load_article(article.path, sample_copy)
        assert reloaded.title == "New title"
        assert reloaded.question == article.question


@pytest.mark.parametrize("answer", ["y", "n"])
async def test_title_change_offers_to_update_linking_articles(
    sample_copy: Path, answer: str
) -> None:
    library = Library.load(sample_copy)
    target = pick(library, with_backlinks=True)
    sources = library.backlinks(target)
    numbers = {s.path: [link.key for link in library.links_between(s, target)] for s in sources}
    before = snapshot(sample_copy)
    app = QtApp(sample_copy, selected=target.path)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, target)
        form = await open_form(pilot)
        new_title = await append_to_field(pilot, form, "title", " (revised)")
        await save_and_close(pilot)
        heading = await answer_diff(pilot, answer)
        assert heading == f"Update {len(sources)} article(s) that link here?"
        for source in sources:
            after = source.path.read_bytes()
            if answer == "n":
                assert after == before[source.path]
                continue
            old = before[source.path]
            allowed = set().union(*(value_lines(old, f"{k}.title") for k in numbers[source.path]))
            assert_only(old, after, allowed)
            titles = {
                link.key: link.title for link in load_article(source.path, sample_copy).related
            }
            assert all(titles[k] == new_title for k in numbers[source.path])
        untouched = set(before) - {target.path}
        if answer == "y":
            untouched -= {s.path for s in sources}
            assert any(f"Updated links in {len(sources)} file(s)" in m for m in notices(app))
        else:
            assert not any("Updated links" in m for m in notices(app))
        assert all(p.read_bytes() == before[p] for p in untouched)


async def test_invalid_date_and_empty_title_block_the_save(sample_copy: Path) -> None:
    article = pick(Library.load(sample_copy))
    original = article.path.read_bytes()
    app = QtApp(sample_copy, selected=article.path)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, article)
        form = await open_form(pilot)
        await replace_field(pilot, form, "date", "2025-13-40")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "Not a real date" in static_text(form, "#date-note")
        assert "Fix the fields" in static_text(form, "#edit-banner")
        assert article.path.read_bytes() == original

        date = form.query_one("#date", Input)
        await pilot.press("end", "ctrl+u")
        await paste(pilot, date, article.date.isoformat())
        assert not form.query_one("#date-note", Static).display
        await replace_field(pilot, form, "title", "")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "cannot be empty" in static_text(form, "#title-note")
        assert article.path.read_bytes() == original


async def test_long_seo_description_warns_but_saves(sample_copy: Path) -> None:
    article = pick(Library.load(sample_copy))
    original = article.path.read_bytes()
    long_text = ("A deliberately long description, " * 6).strip(" ,") + "."
    assert len(long_text) > 160
    app = QtApp(sample_copy, selected=article.path)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, article)
        form = await open_form(pilot)
        field = form.query_one("#seo_description", Input)
        field.focus()
        await settle(pilot)
        await pilot.press("end", "ctrl+u")
        await paste(pilot, field, long_text)
        note = static_text(form, "#seo_description-note")
        assert f"{len(long_text)} characters: over 160" in note
        await save_and_close(pilot)
        after = article.path.read_bytes()
        assert_only(original, after, value_lines(original, "seo.page_description"))
        assert load_article(article.path, sample_copy).seo_description == long_text


async def test_file_changed_under_the_form_is_not_overwritten(sample_copy: Path) -> None:
    article = pick(Library.load(sample_copy))
    app = QtApp(sample_copy, selected=article.path)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, article)
        form = await open_form(pilot)
        await append_to_field(pilot, form, "author", " and friends")
        theirs = article.path.read_bytes().replace(b"---\n", b"---\n# edited elsewhere\n", 1)
        article.path.write_bytes(theirs)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "changed on disk" in static_text(form, "#edit-banner")
        assert article.path.read_bytes() == theirs


async def test_read_only_file_is_not_saved(sample_copy: Path) -> None:
    article = pick(Library.load(sample_copy))
    original = article.path.read_bytes()
    app = QtApp(sample_copy, selected=article.path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await open_app(pilot, article)
            form = await open_form(pilot)
            await append_to_field(pilot, form, "author", " and friends")
            article.path.chmod(0o444)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is form
            banner = static_text(form, "#edit-banner")
            assert "Not saved" in banner
            assert "read-only" in banner
            assert article.path.read_bytes() == original
            assert stat.S_IMODE(article.path.stat().st_mode) == 0o444
    finally:
        article.path.chmod(0o644)


async def test_undo_restores_the_exact_bytes_and_refuses_after_an_external_change(
    sample_copy: Path,
) -> None:
    article = pick(Library.load(sample_copy))
    original = article.path.read_bytes()
    app = QtApp(sample_copy, selected=article.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, article)
        form = await open_form(pilot)
        await append_to_field(pilot, form, "author", " and friends")
        await save_and_close(pilot)
        assert article.path.read_bytes() != original
        assert "and friends" in view_text(screen)
        await pilot.press("u")
        await wait_until(pilot, lambda: article.path.read_bytes() == original)
        await wait_until(pilot, lambda: any("Undid the last save" in m for m in notices(app)))
        await wait_until(pilot, lambda: "and friends" not in view_text(screen))

        form = await open_form(pilot)
        await append_to_field(pilot, form, "author", " again")
        await save_and_close(pilot)
        theirs = article.path.read_bytes() + b"\nA line added elsewhere.\n"
        article.path.write_bytes(theirs)
        await pilot.press("u")
        await wait_until(pilot, lambda: any("Cannot undo" in m for m in notices(app)))
        error = next(n for n in app._notifications if "Cannot undo" in n.message)
        assert error.severity == "error"
        assert article.path.read_bytes() == theirs


async def test_subject_change_moves_the_article_and_follows_the_seo_title(
    sample_copy: Path,
) -> None:
    library = Library.load(sample_copy)
    article = next(
        a
        for a in sorted(library.articles(), key=lambda a: a.key)
        if a.seo_title == f"QuickTakes | {a.subject}"
    )
    counts = dict(library.subjects())
    new_subject = next(name for name in sorted(counts) if name != article.subject)
    original = article.path.read_bytes()
    app = QtApp(sample_copy, selected=article.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, article)
        labels = [str(node.label) for node in screen.tree.root.children]
        assert f"{article.subject} ({counts[article.subject]})" in labels
        assert f"{new_subject} ({counts[new_subject]})" in labels
        form = await open_form(pilot)
        await replace_field(pilot, form, "subject", new_subject)
        assert form.query_one("#seo_title", Input).value == f"QuickTakes | {new_subject}"
        await save_and_close(pilot)
        if library.backlinks(article):
            await answer_diff(pilot, "n")
        after = article.path.read_bytes()
        allowed = value_lines(original, "subject") | value_lines(original, "seo.title")
        assert changed_lines(original, after) == allowed
        reloaded = load_article(article.path, sample_copy)
        assert (reloaded.subject, reloaded.seo_title) == (
            new_subject,
            f"QuickTakes | {new_subject}",
        )
        moved = (
            f"{article.subject} ({counts[article.subject] - 1})",
            f"{new_subject} ({counts[new_subject] + 1})",
        )
        await wait_until(
            pilot, lambda: set(moved) <= {str(n.label) for n in screen.tree.root.children}
        )
        await settle(pilot)
        # the edited article stays open, and the tree and list follow it to its new subject
        assert screen.view.article_key == article.key
        cursor = screen.tree.cursor_node
        assert cursor is not None and cursor.data == TreeEntry("subject", new_subject)
        assert article.key in screen.article_list.shown_keys


async def test_removing_a_related_entry_renumbers_without_a_gap(sample_copy: Path) -> None:
    library = Library.load(sample_copy)
    article = next(
        a
        for a in sorted(library.articles(), key=lambda a: a.key)
        if len(a.related) >= 3
        and len({link.id for link in a.related}) == len(a.related)
        and [link.key for link in a.related]
        == [f"related_article{n}" for n in range(1, len(a.related) + 1)]
    )
    count = len(article.related)
    old_ids = [link.id for link in article.related]
    original = article.path.read_bytes()
    app = QtApp(sample_copy, selected=article.path)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, article)
        form = await open_form(pilot)
        related = form.query_one("#related", RelatedEditor)
        related.focus()
        await settle(pilot)
        assert related.highlighted == 0
        await pilot.press("x")
        await wait_until(pilot, lambda: len(related.entries) == count - 1)
        await save_and_close(pilot)
        after = article.path.read_bytes()
        reloaded = load_article(article.path, sample_copy)
        assert [link.key for link in reloaded.related] == [
            f"related_article{n}" for n in range(1, count)
        ]
        assert [link.id for link in reloaded.related] == old_ids[1:]
        assert old_ids[0] not in [link.id for link in reloaded.related]
        assert f"related_article{count}:" not in after.decode()
        allowed = set().union(
            *(set(key_block(original, f"related_article{n}")) for n in range(1, count + 1))
        )
        assert_only(original, after, allowed)


async def test_adding_a_related_entry_through_the_picker(sample_copy: Path) -> None:
    library = Library.load(sample_copy)
    article = pick(library)
    linked = {t.key for e in library.related(article) if (t := e.target) is not None}
    target = next(
        a
        for a in sorted(library.articles(), key=lambda a: a.key)
        if a.key not in linked and a.key != article.key and "Magna Carta" in a.title
    )
    count = len(article.related)
    original = article.path.read_bytes()
    app = QtApp(sample_copy, selected=article.path)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, article)
        form = await open_form(pilot)
        related = form.query_one("#related", RelatedEditor)
        related.focus()
        await settle(pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ArticlePicker))
        picker = app.screen
        await pilot.press(*"Magna")
        options = picker.query_one("#picker-options")
        await wait_until(
            pilot,
            lambda: (
                options.highlighted is not None
                and options.get_option_at_index(options.highlighted).id == target.key
            ),
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is form and len(related.entries) == count + 1)
        await save_and_close(pilot)
        after = article.path.read_bytes()
        assert after.startswith(original[: original.index(b"related_article")])
        new = load_article(article.path, sample_copy).related
        assert [link.key for link in new[:count]] == [link.key for link in article.related]
        added = new[-1]
        assert added.key == f"related_article{count + 1}"
        assert (added.id, added.title, added.subject, added.url) == (
            target.id,
            target.title,
            target.subject,
            target.url,
        )
        # only lines were added, right after the last related entry
        last = key_block(original, f"related_article{count}")
        assert changed_lines(original, after) == {last.stop - 1}


async def test_escape_with_unsaved_changes_asks_first(sample_copy: Path) -> None:
    article = pick(Library.load(sample_copy))
    original = article.path.read_bytes()
    app = QtApp(sample_copy, selected=article.path)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, article)
        form = await open_form(pilot)
        await append_to_field(pilot, form, "author", " and friends")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is form)
        assert form.query_one("#author", Input).value.endswith(" and friends")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        await settle(pilot)
        assert article.path.read_bytes() == original


async def test_escape_without_changes_closes_at_once(sample_copy: Path) -> None:
    article = pick(Library.load(sample_copy))
    app = QtApp(sample_copy, selected=article.path)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, article)
        await open_form(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_refresh_related_restores_a_stale_title(sample_copy: Path) -> None:
    library = Library.load(sample_copy)
    source, link, target = next(
        (a, e.link, e.target)
        for a in sorted(library.articles(), key=lambda a: a.key)
        for e in library.related(a)
        if e.target is not None
        and e.repeats == 1
        and all(
            not stale_entries(a, r.target, library.links_between(a, r.target))
            for r in library.related(a)
            if r.target is not None
        )
    )
    original = source.path.read_bytes()
    title_line = min(value_lines(original, f"{link.key}.title"))
    lines = lines_of(original)
    indent = " " * _indent(lines[title_line])
    lines[title_line] = f"{indent}An outdated copy of the title\n"
    stale = "".join(lines).encode()
    source.path.write_bytes(stale)
    app = QtApp(sample_copy, selected=source.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, source)
        assert "An outdated copy" not in view_text(screen)  # the view shows the target's title
        await pilot.press("r")
        heading = await answer_diff(pilot, "y")
        assert heading == "Write these refreshed related entries?"
        assert source.path.read_bytes() == original
        assert load_article(source.path, sample_copy).related[link.number - 1].title == (
            target.title
        )
        assert any("Refreshed related entries in 1 file(s)" in m for m in notices(app))


# -- the real corpus ------------------------------------------------------------------------------


async def test_real_article_keywords_edit_changes_one_value(
    real_corpus: Path, tmp_path: Path
) -> None:
    root = tmp_path / "real"
    shutil.copytree(real_corpus, root)
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(Path(folder) / name, 0o644)
    library = Library.load(root)
    article = next(
        a for a in sorted(library.articles(), key=lambda a: a.key) if a.loaded and a.seo_keywords
    )
    original = article.path.read_bytes()
    app = QtApp(root, selected=article.path)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, article)
        form = await open_form(pilot)
        wanted = await append_to_field(pilot, form, "seo_keywords", ", edited keyword")
        await save_and_close(pilot)
        after = article.path.read_bytes()
        assert changed_lines(original, after) == value_lines(original, "seo.page_keywords")
        assert load_article(article.path, root).seo_keywords == wanted
