"""The reader as a user drives it: headless app on sample_content/ through Pilot."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList

from qt_tui.model.library import Library, sort_articles
from qt_tui.ui.app import QtApp
from qt_tui.ui.widgets.subject_tree import ALL, TreeEntry
from tests.app.helpers import loaded, settle, view_text, wait_until
from tests.conftest import SAMPLE

SIZE = (160, 45)


def sample_library() -> Library:
    return Library.load(SAMPLE)


def first_with_resolvable_link(library: Library):
    for article in sorted(library.articles(), key=lambda a: a.key):
        related = library.related(article)
        if related and related[0].target is not None and related[0].target.key != article.key:
            return article, related[0].target
    raise AssertionError("sample has no resolvable related link")


async def test_startup_shows_tree_counts_and_an_article() -> None:
    library = sample_library()
    app = QtApp(SAMPLE)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        tree = screen.tree
        labels = [str(node.label) for node in tree.root.children]
        assert labels[0] == f"All articles ({len(library.articles())})"
        for name, count in library.subjects():
            assert f"{name} ({count})" in labels
        assert any(label.startswith("Problems (") for label in labels)
        assert len(library.subjects()) >= 6
        assert screen.view.article_key is not None
        assert "Loading" not in str(screen.query_one("#status").render())


async def test_cursor_in_list_follows_view() -> None:
    app = QtApp(SAMPLE)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        screen.article_list.options.focus()
        keys = screen.article_list.shown_keys
        await pilot.press("down")
        await wait_until(pilot, lambda: screen.view.article_key == keys[1])
        await pilot.press("j")
        await wait_until(pilot, lambda: screen.view.article_key == keys[2])
        title = screen.library.get(keys[2]).title
        assert title in view_text(screen)


async def test_follow_related_link_by_number_and_back_forward() -> None:
    library = sample_library()
    source, target = first_with_resolvable_link(library)
    app = QtApp(SAMPLE, selected=source.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: screen.view.article_key == source.key)
        await pilot.press("1")
        await wait_until(pilot, lambda: screen.view.article_key == target.key)
        # the panes follow: tree on the target's subject, list row on the target
        assert screen.tree.cursor_node.data == TreeEntry("subject", target.subject)
        assert screen.article_list.highlighted_key == target.key
        await pilot.press("left_square_bracket")
        await wait_until(pilot, lambda: screen.view.article_key == source.key)
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: screen.view.article_key == target.key)
        await pilot.press("alt+left")
        await wait_until(pilot, lambda: screen.view.article_key == source.key)
        await pilot.press("alt+right")
        await wait_until(pilot, lambda: screen.view.article_key == target.key)


async def test_enter_on_related_row_follows_it_and_backlinks_list_the_source() -> None:
    library = sample_library()
    source, target = first_with_resolvable_link(library)
    app = QtApp(SAMPLE, selected=source.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: screen.view.article_key == source.key)
        related = screen.view.query_one("#view-related", OptionList)
        related.focus()
        related.highlighted = 0
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.view.article_key == target.key)
        backlinks = screen.view.query_one("#view-backlinks", OptionList)
        ids = [backlinks.get_option_at_index(i).id for i in range(backlinks.option_count)]
        assert source.key in ids
        # Enter on a backlink goes back to the source
        backlinks.focus()
        backlinks.highlighted = ids.index(source.key)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.view.article_key == source.key)


async def test_missing_target_is_shown_and_not_followed() -> None:
    library = sample_library()
    source, number = next(
        (article, n)
        for article in library.articles()
        for n, entry in enumerate(library.related(article), start=1)
        if entry.target is None
    )
    app = QtApp(SAMPLE, selected=source.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: screen.view.article_key == source.key)
        assert "not in this folder" in view_text(screen)
        await pilot.press(str(number))
        await settle(pilot)
        assert screen.view.article_key == source.key
        assert any("not in this folder" in n.message for n in app._notifications)


async def test_repeated_related_entry_is_shown_once() -> None:
    library = sample_library()
    source = next(a for a in library.articles() if any(e.repeats > 1 for e in library.related(a)))
    app = QtApp(SAMPLE, selected=source.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: screen.view.article_key == source.key)
        text = view_text(screen)
        assert "(listed 2×)" in text
        assert len(library.related(source)) == len(source.related) - 1


async def test_palette_jumps_to_an_article() -> None:
    library = sample_library()
    wanted = sorted(library.articles(), key=lambda a: a.title)[-1]
    app = QtApp(SAMPLE)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*wanted.title[:30])
        await wait_until(pilot, lambda: _palette_has_hits(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.view.article_key == wanted.key)
        assert screen.tree.cursor_node.data == TreeEntry("subject", wanted.subject)


def _palette_has_hits(app: QtApp) -> bool:
    from textual.command import CommandList

    lists = app.screen.query(CommandList)
    return bool(lists) and lists.first().option_count > 0


async def test_filter_as_you_type_and_escape_clears() -> None:
    app = QtApp(SAMPLE)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        article_list = screen.article_list
        everything = len(article_list.shown_keys)
        article_list.options.focus()
        word = screen.library.get(article_list.shown_keys[0]).title.split()[-1].strip("?")
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*word)
        await wait_until(pilot, lambda: 0 < len(article_list.shown_keys) < everything)
        for key in article_list.shown_keys:
            article = screen.library.get(key)
            haystack = f"{article.title} {article.id} {article.question} {article.seo_keywords}"
            assert word.casefold() in haystack.casefold()
        # digits typed into the filter are text, not "follow link N"
        shown = screen.view.article_key
        await pilot.press("1")
        await settle(pilot)
        assert (
            screen.view.article_key == shown or screen.view.article_key in article_list.shown_keys
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(article_list.shown_keys) == everything)


async def test_problems_node_lists_failed_files_with_reason(tmp_path: Path) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "a.md").write_text("---\nid: 1\ntitle: Fine\nsubject: Good\n---\n")
    (tmp_path / "bad.md").write_text("---\ntitle: 'unclosed\n---\n")
    app = QtApp(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        labels = [str(node.label) for node in screen.tree.root.children]
        assert any(label.startswith("Problems (") for label in labels)
        assert any("bad.md" in str(n.label) for n in screen.tree.root.children[-1].children)
        screen.tree.focus()
        screen.tree.move_to(TreeEntry("problem", "bad.md"))
        await wait_until(pilot, lambda: "invalid YAML" in view_text(screen))
        assert "bad.md" in view_text(screen)
        assert screen.entry == TreeEntry("problem", "bad.md")


async def test_text_from_files_is_never_markup(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "a.md").write_text(
        "---\nid: 1\ntitle: '[bold red]x[/] [@click=app.quit]y[/]'\nsubject: '[b]S[/b]'\n"
        'answer: "esc \\e[31m red"\n---\n'
    )
    app = QtApp(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        text = view_text(screen)
        assert "[bold red]x[/] [@click=app.quit]y[/]" in text
        assert "\x1b" not in text
        labels = [str(node.label) for node in screen.tree.root.children]
        assert "[b]S[/b] (1)" in labels
        assert app.is_running


async def test_all_articles_node_lists_everything() -> None:
    library = sample_library()
    app = QtApp(SAMPLE)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        screen.tree.move_to(ALL)
        await wait_until(pilot, lambda: screen.entry == ALL)
        assert len(screen.article_list.shown_keys) == len(library.articles())


async def test_help_screen_lists_keys() -> None:
    app = QtApp(SAMPLE)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "MainScreen"


async def test_huge_answer_is_bounded_and_the_app_stays_usable(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    paragraphs = "\\n\\n".join(
        f"Paragraph {i} with \\\\( x_{{{i}}} \\\\) math." for i in range(30000)
    )
    (tmp_path / "s" / "huge.md").write_text(
        f"---\nid: 1\ntitle: A huge one\nanswer: >-\n    {paragraphs}\n---\n"
    )
    (tmp_path / "s" / "small.md").write_text(
        "---\nid: 2\ntitle: B small\nanswer: >-\n    hi\n---\n"
    )
    app = QtApp(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert screen.view.article_key == "s/huge.md"
        tail = str(screen.view.query_one("#view-tail").render())
        assert "more characters not shown" in tail
        markdown = screen.view.query_one("#view-answer")
        assert len(markdown.source) < 40_000  # only a bounded head becomes widgets
        screen.article_list.options.focus()
        await pilot.press("down")
        await wait_until(pilot, lambda: screen.view.article_key == "s/small.md")


async def test_tab_moves_between_panes() -> None:
    app = QtApp(SAMPLE, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        screen.tree.focus()
        await pilot.pause()
        await pilot.press("tab")
        await wait_until(pilot, lambda: app.focused is screen.article_list.options)
        await pilot.press("tab")
        await wait_until(pilot, lambda: app.focused is screen.view)
        await pilot.press("shift+tab")
        await wait_until(pilot, lambda: app.focused is screen.article_list.options)
        # Down now moves the list, not the tree
        before = screen.view.article_key
        await pilot.press("down")
        await wait_until(pilot, lambda: screen.view.article_key != before)


async def test_m_shows_every_front_matter_key_from_any_pane() -> None:
    app = QtApp(SAMPLE, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        panel = screen.view.query_one("#view-front-matter")
        assert not panel.display
        await pilot.press("m")
        await wait_until(pilot, lambda: panel.display)
        text = str(panel.render())
        for key in ("_schema:", "date_format:", "post_on_text:", "score:", "page_keywords:"):
            assert key in text


async def test_subjects_shown_again_list_their_own_rows_in_order() -> None:
    library = sample_library()
    (first, _), (second, _) = library.subjects()[:2]
    app = QtApp(SAMPLE, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)

        def expected(subject: str) -> list[str]:
            articles = library.in_subject(subject)
            return [a.key for a in sorted(articles, key=lambda a: (a.title.casefold(), a.key))]

        for subject in (first, second, first, second):
            screen.tree.move_to(TreeEntry("subject", subject))
            await wait_until(pilot, lambda s=subject: screen.entry == TreeEntry("subject", s))
            assert screen.article_list.shown_keys == expected(subject)
            options = screen.article_list.options
            assert list(options.keys) == expected(subject)
        screen.article_list.options.focus()
        await pilot.press("o")  # by date: the same subject sorted anew, not the cached title order
        await wait_until(pilot, lambda: screen.article_list.sort_by == "date")
        by_date = [a.key for a in sort_articles(library.in_subject(second), "date")]
        assert list(screen.article_list.options.keys) == by_date


async def test_footer_shows_the_keys_of_the_focused_pane() -> None:
    from textual.widgets._footer import FooterKey

    def footer_keys() -> set[str]:
        return {key.description for key in app.screen.query(FooterKey) if key.description}

    app = QtApp(SAMPLE)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await wait_until(pilot, lambda: "Search" in footer_keys())
        screen.tree.focus()
        await wait_until(pilot, lambda: "Filter" not in footer_keys())
        assert {"Search", "Quit", "Help"} <= footer_keys()
        screen.article_list.options.focus()
        await wait_until(pilot, lambda: {"Filter", "Sort"} <= footer_keys())
        screen.tree.focus()
        await wait_until(pilot, lambda: "Filter" not in footer_keys())
