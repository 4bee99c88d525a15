"""Loading files: field fallbacks, real articles, and every kind of bad input."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest

from qt_tui.model.article import NO_SUBJECT
from qt_tui.model.files import discover
from qt_tui.model.loading import article_from_bytes, load_article
from tests.conftest import real_corpus_files

GOOD = b"""---
id: 42
date: 2025-01-02
title: >-
    What is a test?
article_title: >-
    What is a test?
seo:
  title: QuickTakes | Testing
  page_description: >-
    A description.
  page_keywords: >-
    tests, pytest
author: QuickTakes
question: >-
    What is a test?
answer: >-
    A check.\\n\\nOf behaviour.
subject: Testing
file_name: what-is-a-test.md
url: /learn/testing/questions/what-is-a-test
custom_key: kept as is
related_article2:
    id: 7
    title: >-
        Second
    subject: Testing
    url: /learn/testing/questions/second
related_article1:
    id: 6
    title: >-
        First
    subject: Testing
    url: /learn/testing/questions/first
---

&nbsp;"""


def load(tmp_path: Path, data: bytes, rel: str = "testing/what-is-a-test.md"):
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return load_article(path, tmp_path)


def test_good_article_fields(tmp_path: Path) -> None:
    article = load(tmp_path, GOOD)
    assert article.loaded and not article.problems
    assert article.id == 42
    assert article.title == "What is a test?"
    assert article.subject == "Testing"
    assert article.date == datetime.date(2025, 1, 2)
    assert article.seo_title == "QuickTakes | Testing"
    assert article.seo_keywords == "tests, pytest"
    assert article.answer == "A check.\\n\\nOf behaviour."  # escapes are decoded when rendering
    assert article.front_matter["custom_key"] == "kept as is"
    assert [link.number for link in article.related] == [1, 2]
    assert article.related[0].title == "First"


def test_crlf_and_bom_load_like_lf(tmp_path: Path) -> None:
    crlf = b"\xef\xbb\xbf" + GOOD.replace(b"\n", b"\r\n")
    article = load(tmp_path, crlf)
    assert article.loaded, article.problems
    assert article.title == "What is a test?"
    assert article.related[1].url == "/learn/testing/questions/second"


def test_fallbacks_title_subject_answer(tmp_path: Path) -> None:
    data = b"---\nquestion: Only a question?\n---\n\nThe body is the answer.\n"
    article = load(tmp_path, data, "biology/only.md")
    assert article.title == "Only a question?"
    assert article.subject == "biology"
    assert article.answer.strip() == "The body is the answer."
    article = load(tmp_path, b"---\narticle_title: Art\n---\n&nbsp;", "top.md")
    assert article.title == "Art"
    assert article.subject == NO_SUBJECT
    assert article.answer == ""
    article = load(tmp_path, b"---\nid: 1\n---\n", "x/file-name.md")
    assert article.title == "file-name"


BAD_INPUTS = {
    "bad-yaml": (b"---\ntitle: 'unclosed\nid: 3\n---\n", "invalid YAML", True),
    "not-mapping": (b"---\n- a\n- b\n---\n", "not a mapping", True),
    "scalar": (b"---\njust text\n---\n", "not a mapping", True),
    "no-front-matter": (b"# Just markdown\n", "no front matter", True),
    "unterminated": (b"---\ntitle: x\n", "not terminated", True),
    "not-utf8": (b"---\ntitle: caf\xe9\n---\n", "not UTF-8", True),
    "empty": (b"", "empty file", False),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary", False),
    "object-tag": (b"---\nx: !!python/object/apply:os.system ['echo hi']\n---\n", "tag", True),
    "custom-tag": (b"---\nx: !Thing {a: 1}\n---\n", "tag", True),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_inputs_become_problems(tmp_path: Path, name: str) -> None:
    data, reason, has_line = BAD_INPUTS[name]
    article = load(tmp_path, data, f"bad/{name}.md")
    assert not article.loaded
    message = article.problems[0].describe()
    assert reason in message
    if has_line:
        assert article.problems[0].line is not None


def test_bad_yaml_reports_the_file_line(tmp_path: Path) -> None:
    data = b"---\nid: 1\ntitle: ok\nsubject: [unclosed\nmore: x\n---\n"
    article = load(tmp_path, data, "bad/line.md")
    assert article.problems[0].line is not None
    assert 4 <= article.problems[0].line <= 6


def test_alias_bomb_is_rejected_quickly(tmp_path: Path) -> None:
    lines = ["---", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines.append("---")
    article = load(tmp_path, "\n".join(lines).encode(), "bad/bomb.md")  # returns, no hang
    assert not article.loaded
    assert "alias" in article.problems[0].describe()


def test_small_aliases_still_load(tmp_path: Path) -> None:
    article = load(tmp_path, b"---\nbase: &b {x: 1}\nother: *b\ntitle: T\n---\n", "ok/alias.md")
    assert article.loaded
    assert article.front_matter["other"] == {"x": 1}


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.md"
    path.write_bytes(GOOD)
    path.chmod(0)
    article = load_article(path, tmp_path)
    assert not article.loaded
    assert "unreadable" in article.problems[0].message


def test_discover_skips_hidden_backups_and_loops(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.md").write_bytes(GOOD)
    (tmp_path / "a" / ".one.md.swp").write_bytes(b"x")
    (tmp_path / "a" / "one.md~").write_bytes(b"x")
    (tmp_path / "a" / ".#one.md").write_bytes(b"x")
    (tmp_path / "a" / "notes.txt").write_bytes(b"x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.md").write_bytes(GOOD)
    (tmp_path / "a" / "loop").symlink_to(tmp_path)
    found = [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)]
    assert found == ["a/one.md"]


def test_every_real_article_loads(real_corpus: Path) -> None:
    for path in real_corpus_files():
        article = load_article(path, real_corpus)
        assert article.loaded, (path, article.problems)
        assert article.title and article.answer and article.url.startswith("/learn/")
        assert isinstance(article.id, int)
        assert article.related, path


def test_article_from_bytes_never_raises_on_garbage() -> None:
    for data in (b"---\n---\n", b"---\n: :\n---\n", b"---\n\t\x01\n---\n", b"\xff\xfe", b"-" * 10):
        article = article_from_bytes(data, Path("/x/y.md"), Path("/x"))
        assert article.relpath == "y.md"


def test_a_path_that_cannot_be_read_as_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.md"
    folder.mkdir()
    article = load_article(folder, tmp_path)
    assert not article.loaded
    assert article.problems[0].message.startswith("unreadable")


@pytest.mark.parametrize("value", ["!!int x", "!!bool 0", "!!float abc", "!!timestamp nope"])
def test_bad_explicit_tags_are_problems(tmp_path: Path, value: str) -> None:
    article = load(tmp_path, f"---\nid: 1\na: {value}\n---\n".encode(), "bad/tag.md")
    assert not article.loaded
    assert "invalid YAML" in article.problems[0].message


def test_problem_lines_are_file_lines(tmp_path: Path) -> None:
    article = load(tmp_path, b"---\nx: !!python/object/apply:os.system [1]\n---\n", "bad/l.md")
    assert article.problems[0].line == 2
    crlf = b"---\r\nid: 1\r\ntitle: ok\r\nbad: [x\r\n---\r\n"
    article = load(tmp_path, crlf, "bad/crlf.md")
    assert article.problems[0].line in (4, 5)
