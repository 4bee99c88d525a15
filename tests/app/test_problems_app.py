"""The Problems node: codes with counts, articles per code, the field in context, `f` fixes."""

from __future__ import annotations

from pathlib import Path

from qt_tui.model.library import Library
from qt_tui.ui.app import QtApp
from qt_tui.ui.widgets.subject_tree import TreeEntry
from tests.app.helpers import loaded, view_text, wait_until

SIZE = (160, 45)


def problem_labels(screen) -> list[str]:
    return [str(node.label) for node in screen.tree.root.children[-1].children]


async def test_codes_are_listed_and_f_fixes_the_repeated_entry(sample_copy: Path) -> None:
    library = Library.load(sample_copy)
    source = next(a for a in library.articles() if any(e.repeats > 1 for e in library.related(a)))
    before = source.path.read_bytes()
    app = QtApp(sample_copy, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: screen.code_counts is not None)
        labels = problem_labels(screen)
        assert any(label.startswith("duplicate-link (1)") for label in labels)
        assert any(label.startswith("broken-link (1)") for label in labels)
        assert any("unfinished-draft.md" in label for label in labels)
        screen.tree.move_to(TreeEntry("code", "duplicate-link"))
        await wait_until(pilot, lambda: screen.article_list.shown_keys == [source.key])
        await wait_until(pilot, lambda: screen.view.article_key == source.key)
        text = str(screen.view.query_one("#view-findings").render())
        assert "duplicate-link" in text
        source_box = str(screen.view.query_one("#view-source").render())
        assert "related_article" in source_box  # the field, in context, with its line number
        await pilot.press("f")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DiffScreen")
        await pilot.press("y")
        await wait_until(pilot, lambda: source.path.read_bytes() != before)
        await wait_until(
            pilot,
            lambda: (
                screen.code_counts is not None
                and not any(label.startswith("duplicate-link") for label in problem_labels(screen))
            ),
        )
        assert len(Library.load(sample_copy).get(source.key).related) == len(source.related) - 1
        assert "(listed 2×)" not in view_text(screen)
