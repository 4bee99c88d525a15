"""The summary cache: reused only while files are unchanged, rebuilt when in doubt; search."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from qt_tui.model.cache import SCHEMA_VERSION, IndexCache, stat_key
from qt_tui.model.indexing import (
    CHUNK,
    IndexedLibrary,
    IndexStopped,
    build_library,
    complete_details,
    update_paths,
)
from qt_tui.model.library import Library
from qt_tui.model.search import (
    MARK_END,
    MARK_START,
    fts_query,
    make_snippet,
    parse_query,
    split_marked,
)

NEWTON = "physics/what-is-newtons-second-law-of-motion.md"
STACK = "computer-science/what-is-the-difference-between-a-stack-and-a-queue.md"


def build(root: Path, **options: object) -> IndexedLibrary:
    with IndexCache.open(root, **options) as cache:  # type: ignore[arg-type]
        return build_library(root, cache=cache, workers=1)


def counts(library: IndexedLibrary) -> tuple[int, int, int]:
    stats = library.index_stats
    return stats.cached, stats.parsed, stats.removed


def test_cache_lives_under_xdg_cache_home(sample_copy: Path) -> None:
    location = IndexCache.location(sample_copy)
    assert location.is_relative_to(Path(os.environ["XDG_CACHE_HOME"]))
    assert location != IndexCache.location(sample_copy / "physics")
    build(sample_copy)
    assert location.is_file()


def test_second_build_parses_nothing(sample_copy: Path) -> None:
    first = build(sample_copy)
    total = len(first)
    assert counts(first) == (0, total, 0)
    second = build(sample_copy)
    assert counts(second) == (total, 0, 0)
    for article in first.articles() + first.failed():
        again = second.get(article.key)
        assert again is not None and again == article


def test_touched_file_is_parsed_again(sample_copy: Path) -> None:
    total = len(build(sample_copy))
    path = sample_copy / NEWTON
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
    assert counts(build(sample_copy)) == (total - 1, 1, 0)


def test_replaced_file_with_the_same_size_and_time_is_parsed_again(sample_copy: Path) -> None:
    total = len(build(sample_copy))
    path = sample_copy / NEWTON
    info = path.stat()
    data = path.read_bytes().replace(b"Newton", b"NEWTON", 1)
    replacement = path.with_name("tmp.txt")
    replacement.write_bytes(data)
    os.utime(replacement, ns=(info.st_atime_ns, info.st_mtime_ns))
    replacement.replace(path)  # a new inode, as editors that save atomically make
    library = build(sample_copy)
    assert counts(library) == (total - 1, 1, 0)
    assert library.get(NEWTON).title.startswith("What is NEWTON")  # type: ignore[union-attr]


def test_edited_title_is_visible(sample_copy: Path) -> None:
    build(sample_copy)
    path = sample_copy / NEWTON
    path.write_text(path.read_text().replace("Newton’s second law", "The second law", 1))
    library = build(sample_copy)
    assert library.get(NEWTON).title == "What is The second law of motion?"  # type: ignore[union-attr]
    with IndexCache.open(sample_copy) as cache:
        assert cache.search("second law")[0].title == "What is The second law of motion?"


def test_deleted_file_is_gone(sample_copy: Path) -> None:
    total = len(build(sample_copy))
    (sample_copy / NEWTON).unlink()
    library = build(sample_copy)
    assert counts(library) == (total - 1, 0, 1)
    assert library.get(NEWTON) is None
    with IndexCache.open(sample_copy) as cache:
        assert NEWTON not in {entry[0] for entry in cache.entries()}
        assert all(hit.relpath != NEWTON for hit in cache.search("Newton"))


def test_renamed_file_is_found_under_its_new_name(sample_copy: Path) -> None:
    total = len(build(sample_copy))
    new = "physics/newton-renamed.md"
    (sample_copy / NEWTON).rename(sample_copy / new)
    library = build(sample_copy)
    assert counts(library) == (total - 1, 1, 1)
    assert library.get(NEWTON) is None and library.get(new) is not None
    with IndexCache.open(sample_copy) as cache:
        assert [hit.relpath for hit in cache.search("Newton second law")][:1] == [new]


def test_corrupt_cache_file_is_rebuilt(sample_copy: Path) -> None:
    total = len(build(sample_copy))
    IndexCache.location(sample_copy).write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{IndexCache.location(sample_copy)}{suffix}").unlink(missing_ok=True)
    assert counts(build(sample_copy)) == (0, total, 0)
    assert counts(build(sample_copy)) == (total, 0, 0)


def test_damaged_failed_row_is_parsed_again(sample_copy: Path) -> None:
    total = len(build(sample_copy))
    with sqlite3.connect(IndexCache.location(sample_copy)) as db:
        db.execute("UPDATE files SET loaded = 0, article = x'00ff' WHERE relpath = ?", (NEWTON,))
    library = build(sample_copy)
    assert counts(library) == (total - 1, 1, 0)
    assert library.get(NEWTON) is not None
    assert counts(build(sample_copy)) == (total, 0, 0)


def test_damaged_detail_is_read_from_the_file(sample_copy: Path) -> None:
    expected = Library.load(sample_copy).get(NEWTON)
    build(sample_copy)
    with sqlite3.connect(IndexCache.location(sample_copy)) as db:
        db.execute("UPDATE files SET article = x'00ff' WHERE relpath = ?", (NEWTON,))
    with IndexCache.open(sample_copy) as cache:
        library = build_library(sample_copy, cache=cache, workers=1)
        article = library.get(NEWTON)
        assert article is not None and expected is not None
        assert article.related == expected.related
        assert article.seo_description == expected.seo_description


def test_other_schema_version_is_rebuilt(sample_copy: Path) -> None:
    total = len(build(sample_copy))
    with sqlite3.connect(IndexCache.location(sample_copy)) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION + 1),))
    assert counts(build(sample_copy)) == (0, total, 0)


def test_foreign_root_is_rebuilt(sample_copy: Path, tmp_path: Path) -> None:
    total = len(build(sample_copy))
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text("---\ntitle: X\nanswer: y\n---\n")
    build(other)
    # the other folder's cache file turns up where this folder's belongs
    IndexCache.location(other).replace(IndexCache.location(sample_copy))
    for suffix in ("-wal", "-shm"):
        Path(f"{IndexCache.location(sample_copy)}{suffix}").unlink(missing_ok=True)
    library = build(sample_copy)
    assert counts(library) == (0, total, 0)
    assert library.get("x.md") is None


def test_rebuild_starts_from_nothing(sample_copy: Path) -> None:
    total = len(build(sample_copy))
    assert counts(build(sample_copy, rebuild=True)) == (0, total, 0)


def test_update_paths_keeps_the_cache_current(sample_copy: Path) -> None:
    total = len(build(sample_copy))
    with IndexCache.open(sample_copy) as cache:
        library = build_library(sample_copy, cache=cache, workers=1)
        path = sample_copy / NEWTON
        path.write_text(path.read_text().replace("Newton’s second law", "Zebra law", 1))
        gone = sample_copy / STACK
        gone.unlink()
        update_paths(library, cache, [path], [gone])
        assert [hit.relpath for hit in cache.search("zebra")] == [NEWTON]
        assert cache.search("stack queue") == [] or all(
            hit.relpath != STACK for hit in cache.search("stack queue")
        )
    library = build(sample_copy)
    assert counts(library) == (total - 1, 0, 0)
    assert library.get(NEWTON).title == "What is Zebra law of motion?"  # type: ignore[union-attr]


def test_build_without_a_cache_writes_nothing(sample_copy: Path) -> None:
    library = build_library(sample_copy, cache=None, workers=1)
    assert len(library) > 0
    assert not IndexCache.location(sample_copy).exists()


# -- search ------------------------------------------------------------------------------------


@pytest.fixture
def indexed(sample_copy: Path) -> IndexCache:
    cache = IndexCache.in_memory(sample_copy)
    build_library(sample_copy, cache=cache, workers=1)
    return cache


def test_title_word_ranks_its_article_first(indexed: IndexCache) -> None:
    assert indexed.search("photosynthesis")[0].relpath == (
        "biology/how-does-photosynthesis-convert-light-into-chemical-energy.md"
    )
    assert indexed.search("recursion")[0].relpath == (
        "computer-science/what-is-recursion-in-programming.md"
    )
    hit = indexed.search("Magna Carta")[0]
    assert hit.title == "What was the significance of the Magna Carta?"
    assert hit.subject == "History"


def test_prefix_matches_while_typing(indexed: IndexCache) -> None:
    assert indexed.search("photosynth")[0].relpath.endswith(
        "photosynthesis-convert-light-into-chemical-energy.md"
    )
    assert indexed.search("photosynth ") == []  # a finished word is matched whole


def test_search_ignores_accents(indexed: IndexCache) -> None:
    assert indexed.search("chatelier")[0].relpath == "chemistry/what-is-le-chateliers-principle.md"
    assert indexed.search("châtelier")[0].relpath == "chemistry/what-is-le-chateliers-principle.md"


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "'",
        '"unclosed',
        "AND",
        "OR OR",
        "NOT",
        "a AND",
        "*",
        "***",
        "(",
        ")",
        "NEAR(a b)",
        "col:word",
        "^x",
        "-x",
        "+",
        "{a}",
        "[x]",
        "a:b:c",
        "x OR",
        "!!!",
        "",
        "   ",
        "\\",
        "%_",
        "photosynthesis*",
        "'; DROP TABLE files; --",
    ],
)
def test_any_query_is_safe(indexed: IndexCache, query: str) -> None:
    hits = indexed.search(query)
    assert isinstance(hits, list)


def test_snippets_mark_the_matches(indexed: IndexCache) -> None:
    hit = indexed.search("chlorophyll")[0]
    assert MARK_START in hit.snippet and MARK_END in hit.snippet
    marked = [text for text, is_match in split_marked(hit.snippet) if is_match]
    assert marked and all(text.lower().startswith("chlorophyll") for text in marked)
    assert "  " not in hit.snippet


def test_search_with_the_file_cache(sample_copy: Path) -> None:
    build(sample_copy)
    with IndexCache.open(sample_copy) as cache:
        assert cache.search("inflation")[0].relpath == "economics/what-causes-inflation.md"


def test_fts_query_quotes_every_word() -> None:
    assert fts_query("hello wor") == '"hello" "wor"*'
    assert fts_query("hello wor ") == '"hello" "wor"'
    assert fts_query("hello wo") == '"hello" "wo"'  # too short to expand
    assert fts_query('a "b" AND c*') == '"a" "b" "and" "c"'
    assert fts_query("Ärger snake_case") == '"arger" "snake" "case"*'
    assert fts_query(" ?! ") is None


def test_snippet_marks_words_around_the_first_match() -> None:
    query = parse_query("energ")
    assert query is not None
    text = " ".join(f"w{n}" for n in range(30)) + " Énergie and ENERGY here " + "x " * 20
    snippet = make_snippet(text, query, words=8)
    assert snippet == "… w27 w28 w29 «Énergie» and «ENERGY» here x …"
    assert make_snippet("nothing to see", query) == "nothing to see"


def test_split_marked() -> None:
    assert split_marked(f"a {MARK_START}b{MARK_END} c") == [
        ("a ", False),
        ("b", True),
        (" c", False),
    ]
    assert split_marked(f"x {MARK_START}y") == [(f"x {MARK_START}y", False)]


def test_deferred_search_text_is_indexed_later(sample_copy: Path) -> None:
    with IndexCache.open(sample_copy) as cache:
        library = build_library(sample_copy, cache=cache, workers=1, defer_search=True)
        assert cache.pending() == len(library.articles()) > 0  # failed files are not searched
        assert cache.search("photosynthesis") == []
        (sample_copy / NEWTON).unlink()
        update_paths(library, cache, [], [sample_copy / NEWTON])
        assert cache.index_pending(batch=5, limit=10) == len(library.articles()) - 10
        assert cache.index_pending() == 0 and cache.pending() == 0
        assert cache.search("photosynthesis")[0].relpath.startswith("biology/")
        assert all(hit.relpath != NEWTON for hit in cache.search("Newton"))


def test_cache_damaged_while_open_starts_again_without_errors(sample_copy: Path) -> None:
    with IndexCache.open(sample_copy) as cache:
        build_library(sample_copy, cache=cache, workers=1)
        cache._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with open(IndexCache.location(sample_copy), "r+b") as db:
            db.write(b"garbage!" * 4096)
        cache._conn.execute("PRAGMA cache_size = 0")  # so SQLite reads the file again
        assert isinstance(cache.search("photosynthesis"), list)
        library = build_library(sample_copy, cache=cache, workers=1)
        assert len(library) == len(Library.load(sample_copy))
        library = build_library(sample_copy, cache=cache, workers=1)
        assert counts(library) == (len(library), 0, 0)
        assert cache.search("photosynthesis")


def test_a_job_finishing_after_close_keeps_the_cache(sample_copy: Path) -> None:
    """Quitting the app while the search index fills must not throw the cache away."""
    cache = IndexCache.open(sample_copy)
    build_library(sample_copy, cache=cache, workers=1, defer_search=True)
    cache.close()
    assert cache.index_pending() == 0  # a background job still running at quit
    assert cache.search("photosynthesis") == []
    with IndexCache.open(sample_copy) as again:
        assert again.count() == len(Library.load(sample_copy))
        assert again.pending() > 0


def test_an_id_sqlite_cannot_hold_does_not_stop_the_index(tmp_path: Path) -> None:
    root = tmp_path / "content"
    (root / "maths").mkdir(parents=True)
    (root / "maths" / "big.md").write_text(
        "---\nid: 123456789012345678901234\ntitle: Big id\nsubject: Maths\nanswer: A.\n---\n"
    )
    with IndexCache.open(root) as cache:
        library = build_library(root, cache=cache, workers=1)
        article = library.get("maths/big.md")
        assert article is not None and article.title == "Big id"
        assert article.id == 123456789012345678901234


# -- stopping (the app quits while it indexes) ---------------------------------------------------
def many_files(root: Path, count: int) -> None:
    for n in range(count):
        folder = root / f"s{n % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"a{n}.md").write_text(f"---\nid: {n}\ntitle: T{n}\nanswer: A{n}\n---\n")


def assert_rows_true_to_their_files(root: Path, cache: IndexCache) -> int:
    """Every row is a file as it is now, with its own values; returns how many rows."""
    rows = list(cache.entries())
    for relpath, stat, lean, _ in rows:
        st = (root / relpath).stat()
        assert stat == stat_key(st.st_size, st.st_mtime_ns, st.st_ino)
        number = int(relpath.rsplit("/a", 1)[1].removesuffix(".md"))
        assert lean is not None and lean[:2] == (number, f"T{number}")
    return len(rows)


def test_a_stopped_build_keeps_whole_rows_and_the_next_one_reads_the_rest(tmp_path: Path) -> None:
    count = CHUNK * 8  # many chunks: stopped long before the pool has read them all
    many_files(tmp_path, count)
    batches: list[int] = []
    with IndexCache.open(tmp_path) as cache:
        with pytest.raises(IndexStopped):
            build_library(
                tmp_path,
                cache=cache,
                workers=2,
                details=False,
                batch_sink=lambda found: batches.append(len(found)),
                stopped=lambda: bool(batches),  # stop after the first chunk
            )
        kept = assert_rows_true_to_their_files(tmp_path, cache)
        assert 0 < kept < count
        assert not cache.listed()  # not to be taken as the whole folder
        library = build_library(tmp_path, cache=cache, workers=2)
        assert len(library) == count and cache.listed()
        assert counts(library) == (kept, count - kept, 0)
        assert cache.without_detail() == []
        assert assert_rows_true_to_their_files(tmp_path, cache) == count


def test_stopped_details_are_read_by_the_next_pass(tmp_path: Path) -> None:
    count = CHUNK * 8  # many chunks: stopped long before the pool has read them all
    many_files(tmp_path, count)
    done: list[int] = []
    with IndexCache.open(tmp_path) as cache:
        build_library(tmp_path, cache=cache, workers=2, details=False, defer_search=True)
        assert len(cache.without_detail()) == count
        complete_details(
            tmp_path,
            cache,
            workers=2,
            defer_search=True,
            progress=lambda n, total: done.append(n),
            stopped=lambda: bool(done),
        )
        left = len(cache.without_detail())
        assert 0 < left < count
        assert cache.pending() == count - left  # search text only for what was read
        complete_details(tmp_path, cache, workers=2, defer_search=True)
        assert cache.without_detail() == [] and cache.pending() == count
        assert cache.index_pending() == 0
        assert [hit.relpath for hit in cache.search("T7")] == ["s1/a7.md"]


def test_a_save_during_a_pass_over_the_cache_is_neither_doubled_nor_taken_for_a_deletion(
    tmp_path: Path,
) -> None:
    # A background pass (comparing the cache with the folder) streams every row while the
    # user saves a file: the saved row is written again under a new rowid meanwhile.
    from qt_tui.model.indexing import stale_paths

    root = tmp_path / "content"
    for number in range(3_000):
        folder = root / f"s{number % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"a{number}.md").write_text(
            f"---\nid: {number}\ntitle: T{number}\nsubject: S\nanswer: A{number}\n---\n"
        )
    with IndexCache.open(root) as cache:
        build_library(root, cache=cache, workers=1)
        stream = cache.entries()
        first = next(stream)
        saved = root / first[0]
        saved.write_text(saved.read_text() + "\nmore\n")
        update_paths(Library(root), cache, [saved], [])
        rest = [entry[0] for entry in stream]
        assert 1 + len(rest) == 3_000 and first[0] not in rest
        # the comparison with the folder (in a worker process) reads every row's stat in
        # one statement: a saved file is neither reported deleted nor stale
        later = root / "s1/a1.md"
        later.write_text(later.read_text() + "x")
        update_paths(Library(root), cache, [later], [])
        changed, deleted = stale_paths(root, cache)
        assert deleted == [] and later.exists()
        assert changed == []
