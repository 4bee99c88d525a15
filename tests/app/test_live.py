"""Live refresh with the real watchdog observer on temporary folders, seen through Pilot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from qt_tui.ui.app import QtApp
from qt_tui.ui.widgets.subject_tree import TreeEntry
from tests.app.helpers import loaded, view_text, wait_until

SIZE = (160, 45)


def article(ident: int, title: str, subject: str, related: int | None = None) -> str:
    slug = title.lower().replace(" ", "-")
    text = (
        f"---\nid: {ident}\ntitle: >-\n    {title}\nsubject: {subject}\n"
        f"url: /learn/{subject.lower()}/questions/{slug}\n"
        f"answer: >-\n    Answer of {title}.\n"
    )
    if related is not None:
        text += f"related_article1:\n    id: {related}\n    title: >-\n        X\n"
    return text + "---\n\n&nbsp;"


def make_folder(root: Path) -> Path:
    (root / "alpha").mkdir(parents=True)
    (root / "beta").mkdir()
    (root / "alpha" / "one.md").write_text(article(1, "One", "Alpha"))
    (root / "alpha" / "two.md").write_text(article(2, "Two", "Alpha", related=1))
    (root / "beta" / "three.md").write_text(article(3, "Three", "Beta"))
    return root


def labels(screen) -> list[str]:
    return [str(node.label) for node in screen.tree.root.children]


async def watching(pilot) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.watcher is not None and app.watcher.mode != "")


async def test_create_modify_delete_update_tree_list_and_view(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "c")
    app = QtApp(root, selected=root / "alpha" / "one.md")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await watching(pilot)
        assert "watching" in str(screen.query_one("#status").render())
        # create
        (root / "alpha" / "four.md").write_text(article(4, "Four", "Alpha"))
        await wait_until(pilot, lambda: "Alpha (3)" in labels(screen))
        assert "alpha/four.md" in screen.article_list.shown_keys
        # modify the open article: the view shows the new title, the place is kept
        (root / "alpha" / "one.md").write_text(article(1, "One revised", "Alpha"))
        await wait_until(pilot, lambda: "One revised" in view_text(screen))
        assert screen.view.article_key == "alpha/one.md"
        assert screen.tree.cursor_node.data == TreeEntry("subject", "Alpha")
        # delete the open article: the view says so and keeps its last content
        (root / "alpha" / "one.md").unlink()
        await wait_until(pilot, lambda: "deleted on disk" in view_text(screen))
        assert "One revised" in view_text(screen)
        assert "Alpha (2)" in labels(screen)


async def test_rename_follows_the_open_article_and_backlinks_update(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "c")
    app = QtApp(root, selected=root / "alpha" / "one.md")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await watching(pilot)
        assert "Two" in view_text(screen)  # backlink from two.md
        os.rename(root / "alpha" / "one.md", root / "alpha" / "uno.md")
        await wait_until(pilot, lambda: screen.view.article_key == "alpha/uno.md")
        assert "deleted" not in view_text(screen)
        # move between subjects (folder): still followed; subject comes from front matter
        os.rename(root / "alpha" / "uno.md", root / "beta" / "uno.md")
        await wait_until(pilot, lambda: screen.view.article_key == "beta/uno.md")
        assert "Two" in view_text(screen)  # resolution by id keeps the backlink


async def test_new_subject_folder_appears_and_empty_subject_disappears(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "c")
    app = QtApp(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await watching(pilot)
        (root / "gamma").mkdir()
        (root / "gamma" / "five.md").write_text(article(5, "Five", "Gamma"))
        await wait_until(pilot, lambda: "Gamma (1)" in labels(screen))
        shutil.rmtree(root / "beta")
        await wait_until(
            pilot, lambda: not any(label.startswith("Beta") for label in labels(screen))
        )


async def test_atomic_save_by_an_editor_gives_one_refresh_and_keeps_selection(
    tmp_path: Path,
) -> None:
    root = make_folder(tmp_path / "c")
    app = QtApp(root, selected=root / "alpha" / "two.md")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await watching(pilot)
        refreshes: list[int] = []
        original = screen.set_library

        def counting(*args, **kwargs):
            refreshes.append(1)
            return original(*args, **kwargs)

        screen.set_library = counting
        # vim-like: write a temp file, rename the original to a backup, move the temp in
        target = root / "alpha" / "two.md"
        temp = root / "alpha" / ".two.md.swp"
        temp.write_text(article(2, "Two saved", "Alpha", related=1))
        os.rename(target, root / "alpha" / "two.md~")
        os.rename(temp, target)
        (root / "alpha" / "two.md~").unlink()
        await wait_until(pilot, lambda: "Two saved" in view_text(screen))
        assert screen.view.article_key == "alpha/two.md"
        assert "deleted" not in view_text(screen)
        assert len(refreshes) == 1


async def test_hidden_and_non_markdown_files_are_ignored(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "c")
    app = QtApp(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await watching(pilot)
        (root / ".git").mkdir()
        (root / ".git" / "x.md").write_text(article(9, "Hidden", "Alpha"))
        (root / "alpha" / "notes.txt").write_text("x")
        (root / "alpha" / "six.md").write_text(article(6, "Six", "Alpha"))
        await wait_until(pilot, lambda: "Alpha (3)" in labels(screen))
        assert "All articles (4)" in labels(screen)


async def test_storm_of_2000_files_is_absorbed(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "c")
    app = QtApp(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await watching(pilot)
        storm = root / "storm"
        storm.mkdir()
        for number in range(2000):
            (storm / f"s{number}.md").write_text(article(100 + number, f"S {number}", "Storm"))
        await wait_until(pilot, lambda: "Storm (2,000)" in labels(screen), timeout=30)
        assert "All articles (2,003)" in labels(screen)
        # the UI still answers
        screen.article_list.options.focus()
        await pilot.press("down")
        await wait_until(pilot, lambda: screen.view.article_key is not None)


async def test_own_save_does_not_warn_but_an_outside_change_warns_the_form(
    tmp_path: Path,
) -> None:
    root = make_folder(tmp_path / "c")
    app = QtApp(root, selected=root / "alpha" / "one.md")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await watching(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "EditScreen")
        form = app.screen
        (root / "alpha" / "one.md").write_text(article(1, "Changed outside", "Alpha"))
        await wait_until(
            pilot, lambda: "changed on disk" in str(form.query_one("#edit-banner").render())
        )
        await pilot.press("ctrl+s")  # the form has no changes: nothing is written
        await wait_until(pilot, lambda: type(app.screen).__name__ == "MainScreen")
        await wait_until(pilot, lambda: "Changed outside" in view_text(screen))
        # an edit saved by the app itself: no banner, no conflict, view updated once
        await pilot.press("e")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "EditScreen")
        form = app.screen
        form.query_one("#author").value = "Someone"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "MainScreen")
        await wait_until(pilot, lambda: "Someone" in view_text(screen))
        assert "author: Someone" in (root / "alpha" / "one.md").read_text()


async def test_no_watch_flag(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "c")
    app = QtApp(root, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: "not watching" in str(screen.query_one("#status").render()))
        assert app.watcher is None
