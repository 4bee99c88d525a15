"""The index: lookups, link resolution order, repeats, backlinks, duplicates, real corpus."""

from __future__ import annotations

from pathlib import Path

from qt_tui.model.library import Library, filter_articles, sort_articles, url_key
from tests.conftest import SAMPLE


def write(
    root: Path, rel: str, ident: int, title: str, related: list[tuple[int, str]] = ()
) -> None:
    subject = rel.split("/")[0]
    lines = [
        "---",
        f"id: {ident}",
        f"title: >-\n    {title}",
        f"subject: {subject.title()}",
        f"url: /learn/{subject}/questions/{Path(rel).stem}",
    ]
    for number, (target_id, target_url) in enumerate(related, start=1):
        lines.append(
            f"related_article{number}:\n    id: {target_id}\n    title: >-\n        T\n"
            f"    subject: X\n    url: {target_url}"
        )
    lines += ["---", "", "&nbsp;"]
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def test_resolution_by_id_then_url_then_file_name(tmp_path: Path) -> None:
    write(tmp_path, "a/target.md", 1, "Target")
    write(
        tmp_path,
        "b/source.md",
        2,
        "Source",
        [
            (1, "/learn/zzz/questions/elsewhere"),  # id wins over a wrong url
            (99, "/learn/a/questions/target"),  # unknown id, url resolves
            (98, "/learn/other/questions/target"),  # unknown id and url, file name resolves
            (97, "/learn/x/questions/nowhere"),  # nothing resolves
        ],
    )
    library = Library.load(tmp_path)
    source = library.get("b/source.md")
    targets = [entry.target.key if entry.target else None for entry in library.related(source)]
    assert targets == ["a/target.md", None]
    # the first three all point at target.md, so they are one row listed three times
    assert library.related(source)[0].repeats == 3
    assert [a.key for a in library.backlinks(library.get("a/target.md"))] == ["b/source.md"]


def test_duplicate_ids_are_kept_and_flagged(tmp_path: Path) -> None:
    write(tmp_path, "a/one.md", 5, "One")
    write(tmp_path, "a/two.md", 5, "Two")
    library = Library.load(tmp_path)
    assert len(library.articles()) == 2
    assert all(library.is_duplicate_id(a) for a in library.articles())
    assert [a.key for a in library.by_id(5)] == ["a/one.md", "a/two.md"]


def test_add_and_remove_keep_indexes_true(tmp_path: Path) -> None:
    write(tmp_path, "a/one.md", 1, "One")
    library = Library.load(tmp_path)
    assert library.subjects() == [("A", 1)]
    write(tmp_path, "b/two.md", 2, "Two", [(1, "/learn/a/questions/one")])
    from qt_tui.model.loading import load_article

    library.add(load_article(tmp_path / "b/two.md", tmp_path))
    assert library.subjects() == [("A", 1), ("B", 1)]
    assert [a.key for a in library.backlinks(library.get("a/one.md"))] == ["b/two.md"]
    library.remove("b/two.md")
    assert library.subjects() == [("A", 1)]
    assert library.backlinks(library.get("a/one.md")) == []
    assert library.by_id(2) == []


def test_sample_links_resolve_except_the_deliberate_one() -> None:
    library = Library.load(SAMPLE)
    missing = [
        (article.key, entry.link.id)
        for article in library.articles()
        for entry in library.related(article)
        if entry.target is None
    ]
    assert len(missing) == 1
    assert len(library.failed()) == 1  # the deliberately broken draft


def test_real_corpus_links_are_not_in_folder_and_shared_id_rows(real_corpus: Path) -> None:
    library = Library.load(real_corpus)
    assert len(library.articles()) == 10
    assert len(library.subjects()) == 7
    chemistry = next(a for a in library.articles() if a.subject == "Chemistry")
    rows = library.related(chemistry)
    # entries 1 and 2 share an id but differ in url: both stay visible, neither resolves
    assert rows[0].link.id == rows[1].link.id == 154012
    assert rows[0].link.url != rows[1].link.url
    assert all(row.target is None for row in rows)
    health = next(a for a in library.articles() if a.subject == "Health Studies")
    assert len(library.related(health)) == len(health.related) - 1  # entries 1 and 4 repeat


def test_every_real_answer_renders_without_escapes_or_raw_latex(real_corpus: Path) -> None:
    library = Library.load(real_corpus)
    for article in library.articles():
        rendered = library.render(article)
        assert "\\n" not in rendered.markdown, article.key
        for raw in ("\\frac", "\\binom", "\\left(", "\\sqrt{", "\\(", "$$"):
            assert raw not in rendered.markdown, (article.key, raw)
        assert rendered.info.plain


def test_sort_filter_and_url_key() -> None:
    library = Library.load(SAMPLE)
    by_title = sort_articles(library.articles(), "title")
    assert [a.title.casefold() for a in by_title] == sorted(a.title.casefold() for a in by_title)
    by_date = sort_articles(library.articles(), "date")
    dates = [a.date for a in by_date if a.date]
    assert dates == sorted(dates, reverse=True)
    # articles of the same day in title order, however they came (the sample has such days)
    assert len(dates) > len(set(dates))
    assert by_date == sort_articles(reversed(library.articles()), "date")
    for day in set(dates):
        titles = [a.title.casefold() for a in by_date if a.date == day]
        assert titles == sorted(titles)
    by_id = sort_articles(library.articles(), "id")
    assert [a.id for a in by_id] == sorted(a.id for a in by_id)
    first = by_title[0]
    assert first in filter_articles(library.articles(), first.title.upper())
    assert url_key("https://example.com/learn/A/questions/b/") == "/learn/a/questions/b"
    assert url_key("https://example.com/other") is None


def test_answer_links_to_learn_urls_are_followable(tmp_path: Path) -> None:
    write(tmp_path, "a/target.md", 1, "Target")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "s.md").write_text(
        "---\nid: 2\ntitle: S\nanswer: >-\n    See [the target](/learn/a/questions/target)"
        " and [elsewhere](https://example.com).\n---\n"
    )
    library = Library.load(tmp_path)
    links = library.answer_links(library.get("b/s.md"))
    assert [entry.target.key for entry in links] == ["a/target.md"]


def test_a_subjects_list_follows_adds_moves_and_removes(tmp_path: Path) -> None:
    from qt_tui.model.loading import load_article

    write(tmp_path, "a/one.md", 1, "One")
    library = Library.load(tmp_path)
    assert [a.key for a in library.in_subject("A")] == ["a/one.md"]
    assert library.in_subject("A") is library.in_subject("A")  # kept while unchanged
    write(tmp_path, "a/two.md", 2, "Two")
    library.add(load_article(tmp_path / "a/two.md", tmp_path))
    assert sorted(a.key for a in library.in_subject("A")) == ["a/one.md", "a/two.md"]
    (tmp_path / "a/two.md").write_text((tmp_path / "a/two.md").read_text().replace(": A", ": B"))
    library.add(load_article(tmp_path / "a/two.md", tmp_path))  # moved to subject B
    assert [a.key for a in library.in_subject("A")] == ["a/one.md"]
    assert [a.key for a in library.in_subject("B")] == ["a/two.md"]
    library.remove("a/one.md")
    assert library.in_subject("A") == []
