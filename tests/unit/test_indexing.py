"""Index summaries equal the full loader's articles; the parallel scan finds what discover finds."""

from __future__ import annotations

import copy
import dataclasses
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qt_tui.model.article import Article
from qt_tui.model.cache import SummaryArticle, decode_article, encode_article
from qt_tui.model.files import discover
from qt_tui.model.indexing import (
    IndexedLibrary,
    build_library,
    plain_text,
    scan,
    summarise,
    summary_from_bytes,
    update_paths,
)
from qt_tui.model.library import Library
from qt_tui.model.loading import article_from_bytes
from tests.conftest import REAL_CORPUS, SAMPLE, real_corpus_files

ROOT = Path("/content")
PATH = ROOT / "testing" / "an-article.md"


def expected_summary(full: Article) -> dict[str, Any]:
    """The fields a summary must have: the full article's, without the answer if it loaded."""
    fields = {f.name: getattr(full, f.name) for f in dataclasses.fields(Article)}
    if full.loaded:
        fields["front_matter"] = {k: v for k, v in full.front_matter.items() if k != "answer"}
        fields["answer"] = ""
        fields["partial"] = True
    return fields


def fields_of(article: Article) -> dict[str, Any]:
    return {f.name: getattr(article, f.name) for f in dataclasses.fields(Article)}


def check_summary(data: bytes, path: Path = PATH, root: Path = ROOT) -> Article:
    """Assert the summary of `data` is the full article minus its answer; return the summary."""
    full = article_from_bytes(data, path, root)
    summary = summary_from_bytes(data, path, root)
    assert fields_of(summary) == expected_summary(full)
    assert [p.describe() for p in summary.problems] == [p.describe() for p in full.problems]
    # what the index stores and gives back is the same again
    again = decode_article(encode_article(summary), path, summary.relpath)
    assert fields_of(again) == fields_of(summary)
    return summary


# -- the real files ---------------------------------------------------------------------------

SAMPLE_FILES = sorted(discover(SAMPLE))


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.relative_to(SAMPLE).as_posix())
def test_summary_equals_full_load_for_every_sample_article(path: Path) -> None:
    check_summary(path.read_bytes(), path, SAMPLE)


@pytest.mark.parametrize(
    "path", real_corpus_files() or [None], ids=lambda p: p.name if p else "absent"
)
def test_summary_equals_full_load_for_every_real_article(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"real corpus not found at {REAL_CORPUS} (set QT_REAL_CORPUS)")
    summary = check_summary(path.read_bytes(), path, REAL_CORPUS)
    assert summary.partial and summary.loaded


# -- awkward and broken files ------------------------------------------------------------------

GOOD_FM = """id: 42
date: 2025-01-02
title: >-
    What is a test?
seo:
  title: QuickTakes | Testing
  page_keywords: >-
    tests, pytest
question: >-
    What is a test?
answer: >-
    A check.\\n\\nOf **behaviour** with \\\\(x\\\\).
subject: Testing
url: /learn/testing/questions/what-is-a-test
related_article1:
    id: 6
    title: >-
        First
    subject: Testing
    url: /learn/testing/questions/first
"""

AWKWARD_FRONT_MATTER = {
    "plain": GOOD_FM,
    "comment line": "# a comment\n" + GOOD_FM,
    "trailing comment": GOOD_FM.replace("subject: Testing", "subject: Testing # here", 1),
    "quoted values": GOOD_FM.replace("subject: Testing", "subject: 'It''s \"x\"'\nx: \"a b\"", 1),
    "escaped double quotes": GOOD_FM.replace("subject: Testing", 'subject: "tab\\there"', 1),
    "booleans and nulls": GOOD_FM + "a: yes\nb: Off\nc: ~\nd: null\ne:\nf: NULL\n",
    "numbers": GOOD_FM + "a: 007\nb: 0x1F\nc: 1.5\nd: 1.\ne: -1\nf: +3\ng: 1_000\nh: .5\n",
    "timestamps": GOOD_FM + "a: 2025-13-01\nb: 2025-1-2\nc: 2025-01-02 10:00:00\n",
    "bad date": GOOD_FM.replace("date: 2025-01-02", "date: 2025-02-30"),
    "special keys": GOOD_FM + "yes: 1\nnull: 2\n",
    "key with dash": GOOD_FM + "file-name: x\n",
    "colon in value": GOOD_FM + "a: b: c\n",
    "value ends with colon": GOOD_FM + "a: b:\n",
    "anchors and aliases": GOOD_FM + "a: &x hello\nb: *x\n",
    "tag": GOOD_FM + "a: !!str 5\n",
    "python tag": GOOD_FM + "a: !!python/object:os.system x\n",
    "flow collections": GOOD_FM + "a: [1, 2]\nb: {c: 1}\n",
    "sequence": GOOD_FM + "tags:\n  - one\n  - two\n",
    "deep nesting": GOOD_FM + "a:\n  b:\n    c: 1\n",
    "literal block": GOOD_FM + "a: |\n    line one\n    line two\n",
    "folded keep": GOOD_FM + "a: >\n    one\n    two\n\n",
    "block with blank line": GOOD_FM + "a: >-\n    one\n\n    two\nb: 1\n",
    "more-indented block line": GOOD_FM + "a: >-\n    one\n      two\n",
    "empty block": GOOD_FM + "a: >-\nb: x\n",
    "multi-line plain": GOOD_FM + "a: one\n  two\n",
    "tab indentation": GOOD_FM + "a:\n\tb: 1\n",
    "tab in value": GOOD_FM + "a: x\ty\n",
    "bad indentation": GOOD_FM + "seo2:\n    a: 1\n  b: 2\n",
    "document end": GOOD_FM + "...\n",
    "unicode": GOOD_FM.replace("Testing", "Prüfung – “quotes” 🙂"),
    "nbsp and line separator": GOOD_FM + "a: x\u00a0y\nb: x\u2028y\n",
    "control character": GOOD_FM + "a: x\x07y\n",
    "control character in answer": GOOD_FM.replace("A check.", "A\x07check."),
    "carriage return": GOOD_FM.replace("subject: Testing", "subject: Test\ring", 1),
    "no answer": GOOD_FM.replace("answer:", "not_answer:"),
    "empty answer": GOOD_FM.replace("    A check.\\n\\nOf **behaviour** with \\\\(x\\\\).\n", ""),
    "blank answer": GOOD_FM.replace("A check.\\n\\nOf **behaviour** with \\\\(x\\\\).", " "),
    "two answers": GOOD_FM + "answer: again\n",
    "plain answer": GOOD_FM.replace(
        "answer: >-\n    A check.\\n\\nOf **behaviour** with \\\\(x\\\\).", "answer: A check."
    ),
    "numeric answer": GOOD_FM.replace(
        "answer: >-\n    A check.\\n\\nOf **behaviour** with \\\\(x\\\\).", "answer: 42"
    ),
    "answer then indented line": GOOD_FM.replace(
        "answer: >-\n    A check.\\n\\nOf **behaviour** with \\\\(x\\\\).",
        "answer: A check.\n  continued",
    ),
    "answer with blank lines": GOOD_FM.replace(
        "    A check.\\n", "    A check.\n\n    More.\n\n\n    Even more.\\n"
    ),
    "answer with indented paragraph": GOOD_FM.replace(
        "    A check.\\n", "    A check.\n        indented\n    back.\\n"
    ),
    "answer bad indentation": GOOD_FM.replace("    A check.\\n", "    A check.\n  less\n"),
    "answer block then stray line": GOOD_FM.replace(
        "    A check.\\n", "    A check.\n\n  stray: 1\n"
    ),
    "answer literal": GOOD_FM.replace("answer: >-", "answer: |"),
    "answer anchor": GOOD_FM.replace("answer: >-", "answer: &a >-"),
    "answer mapping": GOOD_FM.replace(
        "answer: >-\n    A check.\\n\\nOf **behaviour** with \\\\(x\\\\).", "answer:\n  a: 1"
    ),
    "answer glued": GOOD_FM.replace("answer: >-", "answer:>-"),
    "answer first": "answer: >-\n    First.\n" + GOOD_FM.replace("answer:", "later:"),
    "related not mapping": GOOD_FM + "related_article2: just text\n",
    "list front matter": "- a\n- b\n",
    "scalar front matter": "just words\n",
    "empty front matter": "",
    "invalid yaml": GOOD_FM + "a: [unclosed\n",
    "alias bomb": GOOD_FM
    + "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6)
    ),
}


@pytest.mark.parametrize("name", sorted(AWKWARD_FRONT_MATTER))
def test_summary_matches_full_load_for_awkward_front_matter(name: str) -> None:
    data = f"---\n{AWKWARD_FRONT_MATTER[name]}---\n\n&nbsp;".encode()
    check_summary(data)
    check_summary(data.replace(b"&nbsp;", b"A body answer."))


BROKEN_FILES = {
    "empty": b"",
    "whitespace": b"  \n\n",
    "binary": b"---\x00\x01\x02",
    "not utf-8": b"---\ntitle: caf\xe9\n---\n",
    "no front matter": b"# Just markdown\n",
    "unterminated": b"---\ntitle: x\nanswer: y\n",
    "bom and crlf": b"\xef\xbb\xbf" + f"---\n{GOOD_FM}---\n".replace("\n", "\r\n").encode(),
    "dashes in body": f"---\n{GOOD_FM}---\n---\nmore\n---\n".encode(),
    "long boundary": f"-----  \n{GOOD_FM}----\n".encode(),
    "boundary after blank": f"---\n\n{GOOD_FM}\n---\n".encode(),
    "indented dashes": f"---\n{GOOD_FM}  ---\nx: 1\n---\n".encode(),
}


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_bad_files_report_the_same_problems_as_the_full_loader(name: str) -> None:
    check_summary(BROKEN_FILES[name])


# Building blocks of front matter, mostly good, some bad, for a differential test against YAML.
_KEYS = st.sampled_from(["title", "id", "date", "seo", "x", "k-2", "_a", "answer", "yes", "title"])
_GOOD_VALUES = [
    "hello",
    "Hello World  ",
    "12",
    "-3",
    "1.5",
    "2025-01-02",
    "'it''s'",
    '"dq"',
    "/learn/x",
    "É",
    "QuickTakes | Testing",
    "C#",
    "yes",
    "~",
]
_VALUES = st.sampled_from(
    [
        *_GOOD_VALUES,
        "a: b",
        "a #b",
        "007",
        "2025-02-31",
        '"a\\nb"',
        "&a x",
        "*a",
        "!!int 3",
        "[1]",
        "{a: 1}",
        "- x",
        "-x",
        "x:",
        "|+",
        "> # c",
    ]
)
_TEXT = st.sampled_from(["word", "two words", "a: b", "# c", "x\\ny", "\ttab", "trail  ", "ünï"])
_JUNK = st.sampled_from(["", "  ", "    stray", "  k: v", "\tx", "# c", "...", "- item"])


@st.composite
def _entry(draw: st.DrawFn, indent: str = "") -> list[str]:
    key = draw(_KEYS)
    kind = draw(st.sampled_from(["scalar", "scalar", "block", "nested", "empty"]))
    if kind == "scalar" or (kind == "nested" and indent):
        value = draw(_VALUES if not draw(st.integers(0, 4)) else st.sampled_from(_GOOD_VALUES))
        return [f"{indent}{key}: {value}"]
    if kind == "block":
        head = draw(st.sampled_from([">-", ">-", ">", "|", "|-"]))
        pad = indent + draw(st.sampled_from(["    ", "  ", "      "]))
        lines = draw(st.lists(_TEXT, min_size=1, max_size=3))
        gap = draw(st.sampled_from(["", "", "  ", "      "]))
        body = [(pad if draw(st.integers(0, 8)) else gap) + line for line in lines]
        return [f"{indent}{key}: {head}", *body]
    if kind == "nested":
        inner = draw(st.sampled_from(["  ", "    "]))
        children = draw(st.lists(_entry(inner), min_size=0, max_size=3))
        return [f"{key}:", *(line for child in children for line in child)]
    return [f"{indent}{key}:"]


@st.composite
def front_matters(draw: st.DrawFn) -> str:
    entries = draw(st.lists(_entry(), min_size=1, max_size=6))
    if draw(st.integers(0, 4)):
        answer = draw(
            st.sampled_from(
                [
                    ["answer: >-", "    The answer.\\n\\nMore."],
                    ["answer: An answer."],
                    ["answer: |", "    One", "", "    Two"],
                    ["answer: >-", "    One", "      two"],
                ]
            )
        )
        entries.insert(draw(st.integers(0, len(entries))), answer)
    if not draw(st.integers(0, 3)):
        junk = [draw(_JUNK)]
        entries.insert(draw(st.integers(0, len(entries))), junk)
    return "\n".join(line for entry in entries for line in entry) + "\n"


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(front_matters(), st.sampled_from(["&nbsp;", "Body text."]))
def test_summary_matches_full_load_for_generated_front_matter(fm: str, body: str) -> None:
    check_summary(f"---\n{fm}---\n\n{body}".encode())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_summary_matches_full_load_for_arbitrary_text(text: str) -> None:
    check_summary(f"---\n{text}\n---\n".encode("utf-8", "surrogatepass"))


# -- search text -------------------------------------------------------------------------------


def test_plain_text_turns_escapes_into_spaces() -> None:
    text = plain_text("## Head\\n\\n**Bold** `code` and \\\\(x^2\\\\) «quoted»")
    assert "\\n" not in text and "«" not in text and "»" not in text
    assert text == '## Head  **Bold** `code` and \\\\(x^2\\\\) "quoted"'


def test_summarise_gives_the_plain_answer_for_search() -> None:
    article, text = summarise(f"---\n{GOOD_FM}---\n".encode(), PATH, ROOT)
    assert article.answer == "" and article.partial
    assert "**behaviour**" in text.split() and "\\n" not in text


# -- scanning ----------------------------------------------------------------------------------


def make_tree(root: Path) -> None:
    (root / "a" / "deep").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "__pycache__").mkdir()
    for rel in (
        "top.md",
        "a/one.md",
        "a/deep/two.md",
        "a/notes.txt",
        "a/.hidden.md",
        "a/#lock.md",
        "a/backup.md~",
        ".hidden/three.md",
        "__pycache__/four.md",
    ):
        (root / rel).write_text(f"---\ntitle: {rel}\nanswer: x\n---\n")
    (root / "a" / "deep" / "loop").symlink_to(root / "a", target_is_directory=True)
    (root / "link").symlink_to(root / "a" / "deep", target_is_directory=True)


def test_scan_finds_what_discover_finds(tmp_path: Path) -> None:
    make_tree(tmp_path)
    expected = sorted(p.relative_to(tmp_path).as_posix() for p in discover(tmp_path))
    found = sorted(rel for rel, _ in scan(tmp_path))
    assert found == expected
    assert "a/deep/two.md" in found and ".hidden/three.md" not in found


def test_scan_stats_match_the_files(tmp_path: Path) -> None:
    make_tree(tmp_path)
    for rel, stat in scan(tmp_path):
        info = (tmp_path / rel).stat()
        assert stat == (info.st_size, info.st_mtime_ns, info.st_ino)


# -- building ----------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_build_library_matches_library_load(sample_copy: Path, workers: int) -> None:
    # enough files for several chunks, so the pool really runs
    for n in range(3):
        shutil.copytree(sample_copy / "physics", sample_copy / f"physics-{n}")
    batches: list[list[Article]] = []
    progress: list[tuple[int, int | None]] = []
    library = build_library(
        sample_copy,
        cache=None,
        workers=workers,
        progress=lambda done, total: progress.append((done, total)),
        batch_sink=batches.append,
    )
    naive = Library.load(sample_copy)
    assert isinstance(library, IndexedLibrary)
    assert len(library) == len(naive)
    for article in naive.articles() + naive.failed():
        summary = library.get(article.key)
        assert summary is not None
        assert fields_of(summary) == expected_summary(article)
    assert library.subjects() == naive.subjects()
    assert sorted(a.key for batch in batches for a in batch) == sorted(
        a.key for a in naive.articles() + naive.failed()
    )
    assert progress[-1] == (len(naive), len(naive))
    stats = library.index_stats
    assert (stats.files, stats.cached, stats.parsed) == (len(naive), 0, len(naive))


def test_build_library_in_chunks_through_a_pool(tmp_path: Path) -> None:
    for n in range(1200):
        folder = tmp_path / f"s{n % 3}"
        folder.mkdir(exist_ok=True)
        (folder / f"a{n}.md").write_text(f"---\nid: {n}\ntitle: T{n}\nanswer: A{n}\n---\n")
    batches: list[int] = []
    library = build_library(
        tmp_path, cache=None, workers=2, batch_sink=lambda b: batches.append(len(b))
    )
    assert len(library) == 1200 and sum(batches) == 1200 and len(batches) >= 3
    assert library.get("s1/a1.md") is not None
    assert library.get("s1/a1.md").title == "T1"  # type: ignore[union-attr]


def test_failed_files_are_whole_articles_with_problems(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_bytes(b"---\ntitle: [unclosed\n---\n")
    (tmp_path / "good.md").write_text(f"---\n{GOOD_FM}---\n")
    library = build_library(tmp_path, cache=None, workers=1)
    bad = library.get("bad.md")
    assert bad is not None and not bad.loaded and not bad.partial
    assert bad.problems[0].code == "parse-error"
    assert [a.key for a in library.failed()] == ["bad.md"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files")
def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "secret.md"
    path.write_text(f"---\n{GOOD_FM}---\n")
    path.chmod(0)
    try:
        library = build_library(tmp_path, cache=None, workers=1)
    finally:
        path.chmod(0o644)
    article = library.get("secret.md")
    assert article is not None and not article.loaded
    assert "unreadable" in article.problems[0].message


def test_full_article_reads_the_answer_of_a_summary(sample_copy: Path) -> None:
    library = build_library(sample_copy, cache=None, workers=1)
    summary = library.get("physics/what-is-newtons-second-law-of-motion.md")
    assert summary is not None and summary.partial and summary.answer == ""
    full = library.full(summary)
    assert full.answer and not full.partial
    assert library.render(full).markdown


def test_update_paths_reads_changed_and_drops_deleted(sample_copy: Path) -> None:
    library = build_library(sample_copy, cache=None, workers=1)
    changed = sample_copy / "biology" / "what-is-natural-selection.md"
    changed.write_text(changed.read_text().replace("What is natural selection?", "Renamed?", 1))
    gone = sample_copy / "biology" / "how-does-dna-replication-work.md"
    gone.unlink()
    new = sample_copy / "biology" / "brand-new.md"
    new.write_text(f"---\n{GOOD_FM}---\n")
    ignored = sample_copy / "biology" / "notes.txt"
    ignored.write_text("x")
    keys = update_paths(library, None, [changed, new, ignored], [gone])
    assert sorted(keys) == [
        "biology/brand-new.md",
        "biology/how-does-dna-replication-work.md",
        "biology/what-is-natural-selection.md",
    ]
    assert library.get("biology/what-is-natural-selection.md").title == "Renamed?"  # type: ignore[union-attr]
    assert library.get("biology/how-does-dna-replication-work.md") is None
    assert library.get("biology/brand-new.md") is not None


# -- lazily decoded summaries ------------------------------------------------------------------


def test_index_summaries_decode_front_matter_on_first_use(sample_copy: Path) -> None:
    path = (
        sample_copy / "computer-science" / "what-is-the-difference-between-a-stack-and-a-queue.md"
    )
    summary = summary_from_bytes(path.read_bytes(), path, sample_copy)
    stored = decode_article(encode_article(summary), path, summary.relpath)
    assert isinstance(stored, SummaryArticle)
    assert stored._detail is not None
    assert stored.related == summary.related
    assert stored == summary and summary == stored
    assert stored._detail is None
    for other in (copy.deepcopy(stored), pickle.loads(pickle.dumps(stored))):
        assert other == summary
    changed = dataclasses.replace(stored, title="Other")
    assert changed != summary and changed.front_matter == summary.front_matter


def test_a_damaged_detail_is_read_from_the_file(sample_copy: Path) -> None:
    path = sample_copy / "physics" / "how-is-projectile-motion-analyzed.md"
    summary = summary_from_bytes(path.read_bytes(), path, sample_copy)
    stored = decode_article(encode_article(summary), path, summary.relpath)
    stored._detail = (b"garbage", ())
    assert stored.front_matter == summary.front_matter
    assert stored.related == summary.related


def test_garbage_is_not_an_article() -> None:
    for blob in (b"", b"garbage", encode_article(Article(PATH, "x"))[:-3]):
        with pytest.raises(ValueError):
            decode_article(blob, PATH, "x")


def test_dangling_link_is_reported_like_the_full_loader(tmp_path: Path) -> None:
    (tmp_path / "gone.md").symlink_to(tmp_path / "nowhere.md")
    library = build_library(tmp_path, cache=None, workers=1)
    article = library.get("gone.md")
    naive = Library.load(tmp_path).get("gone.md")
    assert article is not None and naive is not None and not article.loaded
    assert article.problems == naive.problems


def test_build_from_a_thread_uses_a_safe_pool(tmp_path: Path) -> None:
    """With other threads running (as in the app) workers are not forked from this process."""
    import threading

    for n in range(1100):
        (tmp_path / f"a{n}.md").write_text(f"---\ntitle: T{n}\nanswer: A{n}\n---\n")
    result: list[IndexedLibrary] = []
    thread = threading.Thread(
        target=lambda: result.append(build_library(tmp_path, cache=None, workers=2))
    )
    thread.start()
    thread.join(timeout=120)
    assert result and len(result[0]) == 1100
    assert result[0].get("a7.md").title == "T7"  # type: ignore[union-attr]
