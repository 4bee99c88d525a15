"""The index snapshot: a quick start that is taken only while it matches the cache rows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qt_tui.model.article import IndexedArticle
from qt_tui.model.cache import IndexCache
from qt_tui.model.indexing import IndexedLibrary, build_library, update_paths
from qt_tui.model.library import sort_articles
from qt_tui.model.snapshot import SnapshotWriter, is_current, write_snapshot

from .test_cache import NEWTON, STACK


def start(root: Path) -> IndexedLibrary:
    """A warm start as the app makes it: the cache taken as it is, snapshot if current."""
    with IndexCache.open(root) as cache:
        return build_library(root, cache=cache, workers=1, verify=False, details=False)


def index_with_snapshot(root: Path) -> IndexCache:
    """Index `root` in full and write its snapshot; returns the (closed) cache."""
    with IndexCache.open(root) as cache:
        build_library(root, cache=cache, workers=1)
        assert cache.path is not None and cache.snapshot_file is not None
        assert write_snapshot(cache.path, root, cache.snapshot_file)
        assert is_current(cache.snapshot_file, cache.generation())
    return cache


def listing(library: IndexedLibrary) -> list[tuple[object, ...]]:
    """What the panes show of a library: every entry's listed fields, the subjects, the
    failed files, and where each article's related entries lead."""
    rows = [
        (a.key, a.id, a.title, a.subject, a.date, a.url, a.question, a.seo_keywords)
        for a in sort_articles(library.articles())
    ]
    links = [
        (
            a.key,
            [(r.link.number, r.target.key if r.target else None) for r in library.related(a)],
            [b.key for b in library.backlinks(a)],
            library.is_duplicate_id(a),
        )
        for a in sort_articles(library.articles())
    ]
    failed = [(a.key, [p.code for p in a.problems]) for a in library.failed()]
    return [tuple(rows), tuple(links), tuple(library.subjects()), tuple(failed)]


def test_a_start_from_the_snapshot_shows_what_the_rows_show(sample_copy: Path) -> None:
    # a copy of an article under another name: its id and url belong to two files
    (sample_copy / NEWTON).with_name("newton-copy.md").write_bytes(
        (sample_copy / NEWTON).read_bytes()
    )
    index_with_snapshot(sample_copy)
    from_snapshot = start(sample_copy)
    assert from_snapshot.index_stats.snapshot
    snapshot_file = IndexCache.location(sample_copy).with_name(
        IndexCache.location(sample_copy).name + ".snapshot"
    )
    snapshot_file.unlink()
    from_rows = start(sample_copy)
    assert not from_rows.index_stats.snapshot
    assert listing(from_snapshot) == listing(from_rows)
    # links resolve alike: the same lookups by id (a duplicate id among them) and url
    assert from_snapshot.lookup_tables() == from_rows.lookup_tables()
    by_id, by_url, _ = from_rows.lookup_tables()
    assert any(type(keys) is set for keys in by_id.values())
    assert any(type(keys) is set for keys in by_url.values())
    assert from_snapshot.failed(), "the sample's broken draft is listed from the snapshot too"
    entry = from_snapshot.get(NEWTON)
    assert isinstance(entry, IndexedArticle)
    assert "acceleration" in from_snapshot.full(entry).answer  # read from the file


def test_the_snapshot_lists_all_articles_in_title_order(sample_copy: Path) -> None:
    index_with_snapshot(sample_copy)
    library = start(sample_copy)
    assert library.in_title_order
    assert library.articles() == sort_articles(library.articles(), "title")
    for subject, count in library.subjects():
        listed = library.in_subject(subject)
        assert len(listed) == count
        assert listed == sort_articles(listed, "title"), f"{subject} is listed in title order"
    library.remove(STACK)
    assert not library.in_title_order, "a change ends the promise"
    assert STACK not in [a.key for a in library.in_subject("Computer Science")]


def test_any_change_to_the_rows_makes_the_snapshot_stale(sample_copy: Path) -> None:
    index_with_snapshot(sample_copy)
    newton = sample_copy / NEWTON
    newton.write_text(
        newton.read_text(encoding="utf-8").replace("title:", "title: Renamed —", 1),
        encoding="utf-8",
    )
    library = start(sample_copy)  # the snapshot is still current: nothing was re-read yet
    assert library.index_stats.snapshot
    with IndexCache.open(sample_copy) as cache:
        update_paths(library, cache, [newton], [])
        assert cache.snapshot_file is not None
        assert not is_current(cache.snapshot_file, cache.generation())
    again = start(sample_copy)
    assert not again.index_stats.snapshot
    got = again.get(NEWTON)
    assert got is not None and got.title.startswith("Renamed —")


def test_a_deleted_file_makes_the_snapshot_stale(sample_copy: Path) -> None:
    index_with_snapshot(sample_copy)
    (sample_copy / STACK).unlink()
    with IndexCache.open(sample_copy) as cache:
        cache.delete([STACK])
    library = start(sample_copy)
    assert not library.index_stats.snapshot
    assert library.get(STACK) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data.split(b"\n", 1)[0] + b"\nnot marshal at all",
        lambda data: b"qt-tui-snapshot 4 0000 0\n" + data.split(b"\n", 1)[1],  # other stamp
        lambda data: b"",
    ],
)
def test_a_damaged_snapshot_is_ignored(sample_copy: Path, damage: object) -> None:
    index_with_snapshot(sample_copy)
    location = IndexCache.location(sample_copy)
    snapshot_file = location.with_name(location.name + ".snapshot")
    before = snapshot_file.read_bytes()
    damaged = damage(before)  # type: ignore[operator]
    snapshot_file.write_bytes(damaged)
    library = start(sample_copy)
    assert not library.index_stats.snapshot
    assert library.get(NEWTON) is not None and len(library.articles()) > 30
    if damaged and damaged.split(b"\n", 1)[0] == before.split(b"\n", 1)[0]:
        # current by its stamp but unreadable: removed, so that the app writes it again
        assert not snapshot_file.exists()


def test_a_rebuilt_cache_never_takes_the_old_snapshot(sample_copy: Path) -> None:
    index_with_snapshot(sample_copy)
    location = IndexCache.location(sample_copy)
    snapshot_file = location.with_name(location.name + ".snapshot")
    kept = snapshot_file.read_bytes()
    with IndexCache.open(sample_copy, rebuild=True) as cache:
        assert not snapshot_file.exists(), "a rebuild removes the snapshot with the database"
        build_library(sample_copy, cache=cache, workers=1)
    snapshot_file.write_bytes(kept)  # as if left behind: its identity is the old database's
    assert not start(sample_copy).index_stats.snapshot


def test_the_writer_process_writes_a_current_snapshot(sample_copy: Path) -> None:
    with IndexCache.open(sample_copy) as cache:
        build_library(sample_copy, cache=cache, workers=1)
        writer = SnapshotWriter()
        assert writer.refresh(cache.path, sample_copy, cache.generation())
        assert writer.wait(60) == 0
        assert cache.snapshot_file is not None
        assert is_current(cache.snapshot_file, cache.generation())
        assert not writer.refresh(cache.path, sample_copy, cache.generation()), "already current"
        leftovers = [p for p in cache.snapshot_file.parent.iterdir() if p.suffix == ".tmp"]
        assert leftovers == []
    assert start(sample_copy).index_stats.snapshot


def test_a_cache_folder_that_cannot_be_written_only_costs_the_snapshot(
    sample_copy: Path, tmp_path: Path
) -> None:
    with IndexCache.open(sample_copy) as cache:
        build_library(sample_copy, cache=cache, workers=1)
        assert cache.path is not None
        target = tmp_path / "missing-folder" / "x.snapshot"
        assert not write_snapshot(cache.path, sample_copy, target)
    assert not os.path.exists(target)


def test_changes_made_while_closed_are_found_by_the_worker(sample_copy: Path) -> None:
    from qt_tui.model.indexing import stale_paths

    index_with_snapshot(sample_copy)
    edited, gone = sample_copy / NEWTON, sample_copy / STACK
    edited.write_text(edited.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    gone.unlink()
    added = sample_copy / "physics" / "a-new-article.md"
    added.write_text("---\nid: 1\ntitle: New\nsubject: Physics\n---\n&nbsp;\n", encoding="utf-8")
    with IndexCache.open(sample_copy) as cache:
        changed, deleted = stale_paths(sample_copy, cache)
    assert sorted(changed) == sorted([edited, added])
    assert deleted == [gone]


def test_a_cache_that_cannot_be_read_is_never_taken_for_an_unchanged_folder(
    sample_copy: Path, tmp_path: Path
) -> None:
    from qt_tui.model.indexing import StaleCheckFailed, stale_paths

    with IndexCache.open(sample_copy) as cache:
        build_library(sample_copy, cache=cache, workers=1)
        junk = tmp_path / "not-a-database.sqlite3"
        junk.write_bytes(b"this is not an SQLite database" * 100)
        cache.database = junk  # as if the rows could not be read (damaged, or locked long)
        with pytest.raises(StaleCheckFailed):
            stale_paths(sample_copy, cache)
