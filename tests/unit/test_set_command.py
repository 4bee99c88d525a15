"""`qt-tui set`: scriptable minimal edits, exit statuses and one-line errors."""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qt_tui.cli import main
from qt_tui.model.loading import load_article
from tests.conftest import SAMPLE

SOURCE = SAMPLE / "computer-science" / "how-does-binary-search-work.md"
OLD_TITLE = "How does binary search work?"


@pytest.fixture
def article(tmp_path: Path) -> Path:
    """A writable copy of one sample article."""
    target = tmp_path / "binary-search.md"
    shutil.copyfile(SOURCE, target)
    return target


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qt_tui", "set", *args], capture_output=True, text=True, timeout=60
    )


def changed_lines(before: bytes, after: bytes) -> tuple[list[bytes], list[bytes]]:
    """The removed and added lines; every other line is byte-identical by construction."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    removed: list[bytes] = []
    added: list[bytes] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += old[i1:i2]
            added += new[j1:j2]
    return removed, added


def front(path: Path) -> dict[str, object]:
    loaded = load_article(path, path.parent)
    assert loaded.loaded, loaded.problems
    return loaded.front_matter


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qt-tui: "), err
    assert "Traceback" not in err
    return lines[0]


def test_dry_run_prints_diff_and_writes_nothing(article: Path) -> None:
    before = article.read_bytes()
    result = run(str(article), "title=Binary search, explained", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"--- a/{article}\n+++ b/{article}\n")
    assert f"-    {OLD_TITLE}\n" in result.stdout
    assert "+    Binary search, explained\n" in result.stdout
    assert article.read_bytes() == before


def test_set_changes_only_the_edited_line(article: Path) -> None:
    before = article.read_bytes()
    result = run(str(article), "title=Binary search, explained")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"updated {article}: title\n"
    after = article.read_bytes()
    assert changed_lines(before, after) == (
        [f"    {OLD_TITLE}\n".encode()],
        [b"    Binary search, explained\n"],
    )
    assert before.count(b"\n") == after.count(b"\n")
    fm = front(article)
    assert fm["title"] == "Binary search, explained"
    assert fm["article_title"] == OLD_TITLE  # no --sync-title


def test_same_value_is_no_change(article: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = article.read_bytes()
    assert main(["set", str(article), f"title={OLD_TITLE}"]) == 0
    assert capsys.readouterr().out == f"no change: {article}\n"
    assert article.read_bytes() == before


def test_nested_seo_keywords(article: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = article.read_bytes()
    assert main(["set", str(article), "seo.page_keywords=search, bisect"]) == 0
    assert capsys.readouterr().out == f"updated {article}: seo.page_keywords\n"
    removed, added = changed_lines(before, article.read_bytes())
    assert len(removed) == 1 and added == [b"    search, bisect\n"]
    seo = front(article)["seo"]
    assert isinstance(seo, dict)
    assert seo["page_keywords"] == "search, bisect"
    assert seo["title"] == "QuickTakes | Computer Science"


def test_new_nested_key_is_created(article: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["set", str(article), "seo.robots=noindex"]) == 0
    capsys.readouterr()
    seo = front(article)["seo"]
    assert isinstance(seo, dict) and seo["robots"] == "noindex"


def test_json_number_and_null(article: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["set", str(article), "--json", "id=9100", "score=null"]) == 0
    assert capsys.readouterr().out == f"updated {article}: id, score\n"
    fm = front(article)
    assert fm["id"] == 9100 and type(fm["id"]) is int
    assert "score" in fm and fm["score"] is None


def test_json_whole_related_entry(article: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry = {"id": 9001, "title": "What is a heap?", "subject": "Computer Science", "url": "/h"}
    before = article.read_bytes()
    assert main(["set", str(article), "--json", f"related_article4={json.dumps(entry)}"]) == 0
    assert capsys.readouterr().out == f"updated {article}: related_article4\n"
    removed, added = changed_lines(before, article.read_bytes())
    assert removed == []
    assert added[0] == b"related_article4:\n"
    fm = front(article)
    assert fm["related_article4"] == entry
    related = load_article(article, article.parent).related
    assert [link.key for link in related][-1] == "related_article4"


def test_related_title_through_dotted_path(
    article: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["set", str(article), "related_article3.title=Stacks and queues"]) == 0
    capsys.readouterr()
    entry = front(article)["related_article3"]
    assert isinstance(entry, dict) and entry["title"] == "Stacks and queues"
    assert entry["id"] == 9024


def test_delete(article: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = article.read_bytes()
    assert main(["set", str(article), "--delete", "related_article2", "--delete", "nope"]) == 0
    assert capsys.readouterr().out == f"updated {article}: related_article2\n"
    removed, added = changed_lines(before, article.read_bytes())
    assert added == [] and removed[0] == b"related_article2:\n" and len(removed) == 6
    fm = front(article)
    assert "related_article2" not in fm and "related_article3" in fm


def test_delete_alone_of_missing_key_is_no_change(
    article: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["set", str(article), "--delete", "nope"]) == 0
    assert capsys.readouterr().out == f"no change: {article}\n"


def test_sync_title(article: Path) -> None:
    before = article.read_bytes()
    result = run(str(article), "title=How does bisection work?", "--sync-title")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"updated {article}: title, article_title, question\n"
    removed, added = changed_lines(before, article.read_bytes())
    assert removed == [f"    {OLD_TITLE}\n".encode()] * 3
    assert added == [b"    How does bisection work?\n"] * 3
    fm = front(article)
    assert fm["title"] == fm["article_title"] == fm["question"] == "How does bisection work?"


def test_sync_title_leaves_different_mirrors(
    article: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["set", str(article), "question=Explain binary search"]) == 0
    assert main(["set", str(article), "title=New", "--sync-title"]) == 0
    capsys.readouterr()
    fm = front(article)
    assert fm["article_title"] == "New" and fm["question"] == "Explain binary search"


@pytest.mark.parametrize("value", ["yes", "a: b", "#x", "123", "null", " padded ", "- item"])
def test_values_needing_quotes_read_back(
    article: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    assert main(["set", str(article), f"title={value}", f"author={value}"]) == 0
    capsys.readouterr()
    fm = front(article)
    assert fm["title"] == value and fm["author"] == value


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "required"),
        (["{file}"], "nothing to change"),
        (["{file}", "title"], "expected KEY=VALUE"),
        (["{file}", "=x"], "invalid key path"),
        (["{file}", "a..b=x"], "invalid key path"),
        (["{file}", "title=a", "title=b"], "more than once"),
        (["{file}", "title=a", "--delete", "title"], "both set and deleted"),
        (["{file}", "author=x", "--sync-title"], "--sync-title needs title"),
        (["{file}", "title=x", "--bogus"], "unrecognized arguments"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    article: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    before = article.read_bytes()
    status = main(["set", *(a.format(file=article) for a in args)])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert message in one_error_line(captured.err)
    assert article.read_bytes() == before


def test_usage_error_via_subprocess(article: Path) -> None:
    result = run(str(article), "no-equals-sign")
    assert result.returncode == 2 and result.stdout == ""
    assert "expected KEY=VALUE" in one_error_line(result.stderr)


def test_bad_json_exit_2(article: Path) -> None:
    before = article.read_bytes()
    result = run(str(article), "--json", "id=9100", "title=not json")
    assert result.returncode == 2 and result.stdout == ""
    assert "bad JSON for title" in one_error_line(result.stderr)
    assert article.read_bytes() == before


def test_key_path_through_scalar_exit_1(article: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = article.read_bytes()
    assert main(["set", str(article), "title.x=1"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert "'title' is not a mapping" in line
    assert article.read_bytes() == before


def test_unsupported_json_value_exit_1(article: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = article.read_bytes()
    assert main(["set", str(article), "--json", "tags=[1, 2]"]) == 1
    assert "unsupported type list" in one_error_line(capsys.readouterr().err)
    assert article.read_bytes() == before


def test_no_front_matter_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain.md"
    plain.write_text("# Just Markdown\n")
    assert main(["set", str(plain), "title=x"]) == 1
    assert "no front matter" in one_error_line(capsys.readouterr().err)
    assert plain.read_text() == "# Just Markdown\n"


def test_missing_file_and_folder_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["set", str(tmp_path / "missing.md"), "title=x"]) == 2
    assert "no such file" in one_error_line(capsys.readouterr().err)
    assert main(["set", str(tmp_path), "title=x"]) == 2
    assert "not a file" in one_error_line(capsys.readouterr().err)
    result = run(str(tmp_path / "missing.md"), "title=x")
    assert result.returncode == 2 and "no such file" in one_error_line(result.stderr)


def test_read_only_file_exit_2(article: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = article.read_bytes()
    article.chmod(0o444)
    try:
        assert main(["set", str(article), "title=x"]) == 2
    finally:
        article.chmod(0o644)
    assert "read-only" in one_error_line(capsys.readouterr().err)
    assert article.read_bytes() == before


def test_conflict_exit_2(
    article: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from qt_tui import set_command

    real = set_command.apply_changes

    def racing(original: bytes, changes: dict[str, object]) -> bytes:
        article.write_bytes(original + b"\n")  # someone else saves meanwhile
        return real(original, changes)

    monkeypatch.setattr(set_command, "apply_changes", racing)
    before = article.read_bytes()
    assert main(["set", str(article), "title=x"]) == 2
    assert "changed on disk" in one_error_line(capsys.readouterr().err)
    assert article.read_bytes() == before + b"\n"


def test_help_mentions_set(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "qt-tui set FILE KEY=VALUE" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["set", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: qt-tui set") and "--sync-title" in out and "--json" in out


def test_sample_content_untouched() -> None:
    assert SOURCE.read_bytes().startswith(b"---\n_schema: default\n")
    assert f"    {OLD_TITLE}\n".encode() in SOURCE.read_bytes()
