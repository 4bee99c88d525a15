"""`qt-tui check`: every finding code with its line, output formats, exit statuses and --fix."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from qt_tui.check_command import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from qt_tui.cli import main
from qt_tui.model import loading
from qt_tui.model.article import Severity
from qt_tui.model.checks import CODES, Checker, Finding, check_library, findings_for, slug
from qt_tui.model.foldercheck import check_folder
from qt_tui.model.library import Library
from tests.conftest import REAL_CORPUS, real_corpus_files

# The layout `page` writes: the line of each key, used by the assertions below.
LINE = {
    "id": 2,
    "date": 3,
    "title": 4,
    "article_title": 5,
    "question": 6,
    "seo": 7,
    "seo.title": 8,
    "seo.page_description": 9,
    "answer": 10,
    "subject": 11,
    "url": 12,
    "related_article1": 13,
    "related_article2": 18,
    "related_article3": 23,
}


@dataclass(frozen=True)
class Spec:
    """What a fixture article is: enough to write it and to link to it."""

    stem: str
    id: int
    subject: str = "Physics"

    @property
    def title(self) -> str:
        return f"What is {self.stem.replace('-', ' ')}?"

    @property
    def url(self) -> str:
        return f"/learn/{slug(self.subject)}/questions/{self.stem}"

    @property
    def rel(self) -> str:
        return f"{slug(self.subject)}/{self.stem}.md"


def page(spec: Spec, links: Sequence[Spec] = (), **lines: str | None) -> str:
    """An article in the house layout; `key=line` replaces the key's line, None drops it."""
    default = {
        "id": f"id: {spec.id}",
        "date": "date: 2025-01-18",
        "title": f"title: >-\n    {spec.title}",
        "article_title": f"article_title: >-\n    {spec.title}",
        "question": f"question: >-\n    {spec.title}",
        "seo": "seo:",
        "seo.title": f"  title: QuickTakes | {spec.subject}",
        "seo.page_description": "  page_description: >-\n    A short description.",
        "answer": "answer: >-\n    An answer.\\n\\nWith two paragraphs.",
        "subject": f"subject: {spec.subject}",
        "url": f"url: {spec.url}",
    }
    # block scalars take two lines; keep the line table above exact by folding them to one
    default = {k: v.replace(">-\n    ", "") for k, v in default.items()}
    default.update(lines)
    out = ["---", *(v for v in default.values() if v is not None)]
    for number, target in enumerate(links, start=1):
        out += [
            f"related_article{number}:",
            f"    id: {target.id}",
            f"    title: >-\n        {target.title}".replace(">-\n        ", ""),
            f"    subject: {target.subject}",
            f"    url: {target.url}",
        ]
    out += ["---", "", "&nbsp;"]
    return "\n".join(out) + "\n"


def write(root: Path, spec: Spec, links: Sequence[Spec] = (), **lines: str | None) -> Path:
    path = root / spec.rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(spec, links, **lines), encoding="utf-8")
    return path


A = Spec("alpha-waves", 101)
B = Spec("beta-decay", 102)
C = Spec("gamma-rays", 103)


def pair(root: Path) -> None:
    """Two articles linking each other: a folder with no findings at all."""
    write(root, A, [B])
    write(root, B, [A])


def check(root: Path, select: set[str] | None = None) -> list[Finding]:
    """The findings of the Library-based Checker, which the fast folder check must equal."""
    found = check_library(Library.load(root), select)
    assert check_folder(root, select).findings() == found
    return found


def only(findings: list[Finding], code: str) -> list[Finding]:
    found = [f for f in findings if f.code == code]
    assert found, f"no {code} in {findings}"
    return found


def assert_one(findings: list[Finding], code: str, path: str, line: int | None) -> Finding:
    matches = [f for f in only(findings, code) if f.path == path]
    assert len(matches) == 1, matches
    finding = matches[0]
    assert finding.line == line, finding
    assert finding.severity is CODES[code]
    return finding


def cli(*args: object) -> int:
    return main(["check", *(str(a) for a in args)])


def changed_lines(before: bytes, after: bytes) -> tuple[list[bytes], list[bytes]]:
    """The removed and added lines; every other line is byte-identical."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    removed: list[bytes] = []
    added: list[bytes] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += old[i1:i2]
            added += new[j1:j2]
    return removed, added


# -- the baseline -------------------------------------------------------------------------------
def test_clean_folder_has_no_findings_and_exits_0(tmp_path: Path, capsys) -> None:
    pair(tmp_path)
    assert check(tmp_path) == []
    assert cli(tmp_path) == EXIT_OK
    out = capsys.readouterr().out
    assert out.strip() == "2 articles checked: no problems"


def test_layout_matches_the_line_table(tmp_path: Path) -> None:
    text = page(A, [B, C, B]).split("\n")
    for key, line in LINE.items():
        name = key.split(".")[-1]
        assert text[line - 1].lstrip().startswith(f"{name}:"), (key, text[line - 1])


# -- one test per code --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"---\nid: 1\ntitle: [unclosed\n---\n", 4),
        (b"---\n- a\n- b\n---\n", 2),
        (b"---\nid: 1\ntitle: x\n", 1),
        (b"---\nid: 1\ntitle: caf\xe9\n---\n", 3),
        (b"", None),
        (b"\x00\x01binary", None),
    ],
    ids=["bad-yaml", "not-mapping", "unterminated", "not-utf8", "empty", "binary"],
)
def test_parse_error(tmp_path: Path, data: bytes, line: int | None) -> None:
    pair(tmp_path)
    (tmp_path / "broken.md").write_bytes(data)
    finding = assert_one(check(tmp_path), "parse-error", "broken.md", line)
    assert finding.severity is Severity.ERROR and finding.id is None


def test_parse_error_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pair(tmp_path)
    write(tmp_path, C, [A], answer="answer: " + "x" * 2000)
    monkeypatch.setattr(loading, "MAX_FILE_BYTES", 1500)
    finding = assert_one(check(tmp_path), "parse-error", C.rel, None)
    assert "too large" in finding.message


def test_no_front_matter(tmp_path: Path) -> None:
    pair(tmp_path)
    (tmp_path / "notes.md").write_text("# Just notes\n", encoding="utf-8")
    assert_one(check(tmp_path), "no-front-matter", "notes.md", 1)


def test_duplicate_id(tmp_path: Path) -> None:
    pair(tmp_path)
    twin = Spec("gamma-rays", A.id)
    write(tmp_path, twin, [A])
    findings = check(tmp_path)
    first = assert_one(findings, "duplicate-id", A.rel, LINE["id"])
    second = assert_one(findings, "duplicate-id", twin.rel, LINE["id"])
    assert twin.rel in first.message and A.rel in second.message
    assert first.id == A.id


def test_missing_field(tmp_path: Path) -> None:
    pair(tmp_path)
    write(tmp_path, C, [A], subject=None, title='title: ""', answer="answer:")
    findings = [f for f in check(tmp_path) if f.path == C.rel]
    missing = {f.message: f for f in only(findings, "missing-field")}
    assert missing["subject is missing"].line is None
    assert missing["title is empty"].line == LINE["title"]
    assert missing["answer is empty"].line == LINE["answer"]
    assert all(f.severity is Severity.ERROR for f in missing.values())


def test_missing_title_is_reported_although_the_app_falls_back(tmp_path: Path) -> None:
    pair(tmp_path)
    write(tmp_path, C, [A], title=None)
    article = Library.load(tmp_path).get(C.rel)
    assert article is not None and article.title == C.title  # from article_title
    assert_one(check(tmp_path), "missing-field", C.rel, None)


def test_bad_type(tmp_path: Path) -> None:
    pair(tmp_path)
    write(tmp_path, C, [A], id="id: abc", date="date: yesterday")
    path = tmp_path / C.rel
    path.write_text(
        path.read_text().replace("---\n\n", "related_article2: just text\n---\n\n"), "utf-8"
    )
    findings = [f for f in check(tmp_path) if f.path == C.rel]
    lines = {f.line for f in only(findings, "bad-type")}
    assert lines == {LINE["id"], LINE["date"], LINE["related_article2"]}
    assert all(f.severity is Severity.ERROR for f in only(findings, "bad-type"))


def test_broken_link(tmp_path: Path) -> None:
    pair(tmp_path)
    write(tmp_path, C, [A, Spec("not-here", 999)])
    finding = assert_one(check(tmp_path), "broken-link", C.rel, LINE["related_article2"])
    assert "999" in finding.message


def test_self_link(tmp_path: Path) -> None:
    write(tmp_path, A, [B, A])
    write(tmp_path, B, [A])
    assert_one(check(tmp_path), "self-link", A.rel, LINE["related_article2"])


def test_duplicate_link(tmp_path: Path) -> None:
    write(tmp_path, A, [B, C, B])
    write(tmp_path, B, [A])
    write(tmp_path, C, [A])
    finding = assert_one(check(tmp_path), "duplicate-link", A.rel, LINE["related_article3"])
    assert finding.message.startswith("related_article3 repeats related_article1")


def test_duplicate_link_unresolved_needs_same_id_and_url(tmp_path: Path) -> None:
    pair(tmp_path)
    gone = Spec("gone", 555)
    moved = Spec("gone", 555, subject="Chemistry")  # same id, other url
    write(tmp_path, C, [A, gone, moved, gone])
    found = [f for f in check(tmp_path, {"duplicate-link"}) if f.path == C.rel]
    assert [f.line for f in found] == [LINE["related_article3"] + 5]


def test_stale_link(tmp_path: Path) -> None:
    pair(tmp_path)
    write(tmp_path, C, [A])
    path = tmp_path / C.rel
    path.write_text(path.read_text().replace(f"title: {A.title}", "title: Old title"), "utf-8")
    finding = assert_one(check(tmp_path), "stale-link", C.rel, LINE["related_article1"])
    assert "title" in finding.message and "subject" not in finding.message


def test_one_way_link_and_orphan(tmp_path: Path) -> None:
    write(tmp_path, A, [B])
    write(tmp_path, B)
    findings = check(tmp_path)
    one_way = assert_one(findings, "one-way-link", A.rel, LINE["related_article1"])
    assert B.rel in one_way.message
    assert_one(findings, "orphan", A.rel, None)
    assert not [f for f in findings if f.path == B.rel]
    assert cli(tmp_path) == EXIT_OK  # infos only


def test_title_mismatch(tmp_path: Path) -> None:
    pair(tmp_path)
    write(tmp_path, C, [A], question="question: Something else?")
    finding = assert_one(check(tmp_path), "title-mismatch", C.rel, LINE["question"])
    assert "question" in finding.message


def test_seo_title(tmp_path: Path) -> None:
    pair(tmp_path)
    write(tmp_path, C, [A], **{"seo.title": "  title: Other Site | Physics"})
    finding = assert_one(check(tmp_path), "seo-title", C.rel, LINE["seo.title"])
    assert "QuickTakes | Physics" in finding.message


def test_seo_title_is_not_checked_without_a_majority(tmp_path: Path) -> None:
    write(tmp_path, A, [B], **{"seo.title": "  title: One | Physics"})
    write(tmp_path, B, [A], **{"seo.title": "  title: Two"})
    assert check(tmp_path, {"seo-title"}) == []


def test_seo_length(tmp_path: Path) -> None:
    long_subject = Spec("long-one", 104, subject="Physics " + "x" * 45)
    write(tmp_path, A, [long_subject])
    write(tmp_path, long_subject, [A])
    write(tmp_path, B, [A], **{"seo.page_description": "  page_description: " + "d" * 161})
    findings = check(tmp_path)
    assert_one(findings, "seo-length", long_subject.rel, LINE["seo.title"])
    assert_one(findings, "seo-length", B.rel, LINE["seo.page_description"])


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (f"url: /learn/chemistry/questions/{C.stem}", "'physics'"),
        ("url: /learn/physics/questions/other-name", "file name"),
        ("url: https://example.org/about", "not a /learn"),
    ],
)
def test_url_mismatch(tmp_path: Path, url: str, words: str) -> None:
    pair(tmp_path)
    write(tmp_path, C, [A], url=url)
    finding = assert_one(check(tmp_path), "url-mismatch", C.rel, LINE["url"])
    assert words in finding.message


def test_slug() -> None:
    assert slug("Health Studies") == "health-studies"
    assert slug("  C++ & Data / AI ") == "c-data-ai"


def test_every_code_is_covered_by_a_test() -> None:
    text = Path(__file__).read_text(encoding="utf-8")
    for code in CODES:
        assert f'"{code}"' in text, code


def test_findings_for_matches_check_library(tmp_path: Path) -> None:
    write(tmp_path, A, [B, B])
    write(tmp_path, B)
    library = Library.load(tmp_path)
    article = library.get(A.rel)
    assert article is not None
    expected = [f for f in check_library(library) if f.path == A.rel]
    assert findings_for(library, article) == expected
    checker = Checker(library)
    assert {a.key: len(checker.findings_for(a)) for a in library.articles()} == {A.rel: 3, B.rel: 0}


# -- odd and hostile files ----------------------------------------------------------------------
def test_odd_front_matter_types_never_raise(tmp_path: Path) -> None:
    pair(tmp_path)
    write(
        tmp_path,
        C,
        [A],
        title="title: [a, list]",
        article_title="article_title: {a: 1}",
        seo="seo: just a string",
        **{"seo.title": "# (no seo title)", "seo.page_description": "# (no description)"},
        subject="subject: {name: Physics}",
        answer="answer: [1, 2]",
        url="url: 42",
        date="date: [2025]",
        id="id: true",
    )
    path = tmp_path / C.rel
    path.write_text(path.read_text().replace(f"    id: {A.id}", "    id: {x: 1}"), "utf-8")
    library = Library.load(tmp_path)
    findings = [f for f in check_library(library) if f.path == C.rel]
    codes = {f.code for f in findings}
    assert {"bad-type", "seo-title", "url-mismatch", "title-mismatch"} <= codes
    bad = {f.line for f in only(findings, "bad-type")}
    assert {LINE["id"], LINE["date"], LINE["title"], LINE["related_article1"] + 1} <= bad
    article = library.get(C.rel)
    assert article is not None
    Checker(library).fix_changes(article, {"stale-link", "duplicate-link", "title-mismatch"})


ALIAS_BOMB = (
    "---\n"
    'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "---\n"
)


def test_hostile_files_are_reported_without_hanging(tmp_path: Path) -> None:
    pair(tmp_path)
    (tmp_path / "bomb.md").write_text(ALIAS_BOMB, encoding="utf-8")
    (tmp_path / "object.md").write_text(
        "---\nid: 1\nx: !!python/object/apply:os.system ['echo pwned']\n---\n", encoding="utf-8"
    )
    (tmp_path / "binary.md").write_bytes(b"\x7fELF\x00\x00" + bytes(range(256)) * 40)
    huge = page(C, [A], answer="answer: " + "word " * 1_000_000)
    (tmp_path / "physics").mkdir(exist_ok=True)
    (tmp_path / C.rel).write_text(huge, encoding="utf-8")
    assert (tmp_path / C.rel).stat().st_size > 5_000_000
    result = subprocess.run(  # the timeout turns a hang into a failure
        [sys.executable, "-m", "qt_tui", "check", str(tmp_path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == EXIT_PROBLEMS, result.stderr
    report = json.loads(result.stdout)
    errors = {p["path"]: p for p in report["problems"] if p["code"] == "parse-error"}
    assert set(errors) == {"bomb.md", "object.md", "binary.md"}
    assert "alias" in errors["bomb.md"]["message"]
    assert "tag" in errors["object.md"]["message"]
    assert "binary" in errors["binary.md"]["message"]
    assert report["articles"] == 3  # the 5 MB answer loads and is checked
    huge_codes = [p["code"] for p in report["problems"] if p["path"] == C.rel]
    assert huge_codes == ["orphan", "one-way-link"]


# -- output and exit statuses -------------------------------------------------------------------
def test_text_format(tmp_path: Path, capsys) -> None:
    write(tmp_path, A, [B, B])
    write(tmp_path, B)
    assert cli(tmp_path) == EXIT_PROBLEMS
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{A.rel}: info orphan no article of this folder links here"
    assert lines[1].startswith(f"{A.rel}:{LINE['related_article1']}: info one-way-link ")
    assert lines[2] == (
        f"{A.rel}:{LINE['related_article2']}: warning duplicate-link related_article2 repeats "
        f"related_article1 (same target: {B.rel})"
    )
    assert lines[-1] == (
        "2 articles checked: 0 errors, 1 warning, 2 infos (duplicate-link 1, one-way-link 1, "
        "orphan 1)"
    )


def test_json_format(tmp_path: Path, capsys) -> None:
    write(tmp_path, A, [B, B])
    write(tmp_path, B)
    (tmp_path / "notes.md").write_text("no front matter\n", encoding="utf-8")
    assert cli(tmp_path, "--format", "json") == EXIT_PROBLEMS
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"root", "articles", "problems", "counts"}
    assert report["root"] == str(tmp_path.resolve())
    assert report["articles"] == 2
    assert report["counts"] == {
        "no-front-matter": 1,
        "duplicate-link": 1,
        "one-way-link": 1,
        "orphan": 1,
    }
    for problem in report["problems"]:
        assert set(problem) == {"path", "line", "code", "severity", "message", "id"}
        assert isinstance(problem["path"], str) and isinstance(problem["message"], str)
        assert problem["line"] is None or isinstance(problem["line"], int)
        assert problem["severity"] in {"error", "warning", "info"}
        assert problem["code"] in CODES
        assert problem["id"] is None or isinstance(problem["id"], int | str)
    notes = next(p for p in report["problems"] if p["path"] == "notes.md")
    assert notes == {
        "path": "notes.md",
        "line": 1,
        "code": "no-front-matter",
        "severity": "error",
        "message": notes["message"],
        "id": None,
    }
    paths = [(p["path"], p["line"] or 0, p["code"]) for p in report["problems"]]
    assert paths == sorted(paths)


def test_exit_statuses(tmp_path: Path, capsys) -> None:
    pair(tmp_path)
    assert cli(tmp_path) == EXIT_OK
    write(tmp_path, C, [A], question="question: Other?")
    assert cli(tmp_path) == EXIT_PROBLEMS
    (tmp_path / "file.md").write_text("x", encoding="utf-8")
    assert cli(tmp_path / "missing") == EXIT_USAGE
    assert cli(tmp_path / "file.md") == EXIT_USAGE
    assert cli(tmp_path, "--select", "no-such-code") == EXIT_USAGE
    assert cli(tmp_path, "--select", ",") == EXIT_USAGE
    assert cli(tmp_path, "--write") == EXIT_USAGE
    assert cli(tmp_path, "--fix", "--format", "json") == EXIT_USAGE
    assert cli(tmp_path, "--format", "xml") == EXIT_USAGE
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli(empty) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "no such folder" in err and "unknown code(s) for --select: no-such-code" in err
    assert "Traceback" not in err


def test_subprocess_exit_status_and_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "qt_tui", "check", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "qt-tui check" in result.stdout
    assert "duplicate-link" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "qt_tui", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "qt-tui check DIR" in result.stdout


def test_select_filters(tmp_path: Path, capsys) -> None:
    write(tmp_path, A, [B, B])
    write(tmp_path, B)
    assert cli(tmp_path, "--select", "orphan,one-way-link", "--format", "json") == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert {p["code"] for p in report["problems"]} == {"orphan", "one-way-link"}
    assert cli(tmp_path, "--select", "orphan", "--select", "duplicate-link") == EXIT_PROBLEMS
    out = capsys.readouterr().out
    assert "duplicate-link" in out and "one-way-link" not in out
    assert {f.code for f in check(tmp_path, {"duplicate-link"})} == {"duplicate-link"}


# -- fixes --------------------------------------------------------------------------------------
def fixable_folder(root: Path) -> tuple[Path, bytes]:
    """A links B (stale title), C, B again, and has a title mismatch; B and C link A."""
    write(root, A, [B, C, B, Spec("elsewhere", 777)], question="question: Old question?")
    write(root, B, [A])
    write(root, C, [A])
    path = root / A.rel
    text = path.read_text().replace(f"title: {B.title}", "title: Old B title", 1)
    path.write_text(text, encoding="utf-8")
    return path, path.read_bytes()


def test_fix_prints_a_diff_and_writes_nothing(tmp_path: Path, capsys) -> None:
    path, before = fixable_folder(tmp_path)
    others = {p: p.read_bytes() for p in tmp_path.rglob("*.md")}
    assert cli(tmp_path, "--fix") == EXIT_PROBLEMS
    captured = capsys.readouterr()
    diff = captured.out
    assert diff.startswith(f"--- a/{A.rel}\n+++ b/{A.rel}\n")
    assert "-    title: Old B title\n+    title: " + B.title in diff
    assert "-related_article4:\n" in diff
    assert "question: " not in diff  # title-mismatch is only fixed when selected by name
    assert "--write" in captured.err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.md")} == others
    assert path.read_bytes() == before


def test_fix_write_is_byte_exact_outside_the_fixed_lines(tmp_path: Path, capsys) -> None:
    path, before = fixable_folder(tmp_path)
    assert cli(tmp_path, "--fix", "--write") == EXIT_PROBLEMS  # broken link, title mismatch
    out = capsys.readouterr().out
    assert f"fixed {A.rel}" in out
    after = path.read_bytes()
    gone = Spec("elsewhere", 777)
    assert after == page(A, [B, C, gone], question="question: Old question?").encode()
    removed, added = changed_lines(before, after)
    assert len(removed) - len(added) == 5  # one related entry fewer
    assert all(line.startswith((b"    ", b"related_article")) for line in removed + added)
    remaining = check(tmp_path)
    assert {f.code for f in remaining} == {"broken-link", "title-mismatch"}
    broken = only(remaining, "broken-link")[0]
    assert broken.line == LINE["related_article3"]
    # nothing left to fix: a second run changes nothing
    assert cli(tmp_path, "--fix", "--write") == EXIT_PROBLEMS
    assert path.read_bytes() == after


def test_title_mismatch_fixed_only_when_selected(tmp_path: Path, capsys) -> None:
    path, _ = fixable_folder(tmp_path)
    cli(tmp_path, "--fix", "--write")
    assert "Old question?" in path.read_text()
    before = path.read_bytes()
    assert cli(tmp_path, "--select", "title-mismatch", "--fix", "--write") == EXIT_OK
    after = path.read_bytes()
    removed, added = changed_lines(before, after)
    assert removed == [b"question: Old question?\n"]
    assert added == [f"question: {A.title}\n".encode()]
    assert check(tmp_path, {"title-mismatch"}) == []


def test_fix_respects_select(tmp_path: Path, capsys) -> None:
    fixable_folder(tmp_path)
    cli(tmp_path, "--select", "stale-link", "--fix")
    diff = capsys.readouterr().out
    assert "Old B title" in diff and "-related_article4:" not in diff


def test_fix_refuses_a_file_changed_meanwhile(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qt_tui import check_command

    path, _ = fixable_folder(tmp_path)
    real_plan = check_command.plan_fixes

    def plan_then_touch(library, codes):  # type: ignore[no-untyped-def]
        result = real_plan(library, codes)
        path.write_bytes(path.read_bytes() + b"edited meanwhile\n")
        return result

    monkeypatch.setattr(check_command, "plan_fixes", plan_then_touch)
    assert cli(tmp_path, "--fix", "--write") == EXIT_USAGE
    assert path.read_bytes().endswith(b"edited meanwhile\n")
    assert "changed on disk" in capsys.readouterr().err


def test_fix_with_a_warm_cache(tmp_path: Path, capsys) -> None:
    """--fix keeps the index cache open while it plans: the details come from the cache,
    and the diff and the written bytes are exactly those of a cold run."""
    path, before = fixable_folder(tmp_path)
    assert cli(tmp_path, "--fix") == EXIT_PROBLEMS  # cold: fills the caches
    cold = capsys.readouterr().out
    assert cli(tmp_path, "--fix") == EXIT_PROBLEMS  # warm
    warm = capsys.readouterr().out
    assert warm == cold
    assert warm == unified_diff_of(A.rel, before, expected_fix(A))
    assert path.read_bytes() == before
    assert cli(tmp_path, "--fix", "--write") == EXIT_PROBLEMS
    captured = capsys.readouterr()
    assert captured.out == cold + f"fixed {A.rel}\n"
    assert path.read_bytes() == expected_fix(A)
    assert "after fixing: 3 articles checked: 0 errors, 2 warnings" in captured.err
    # a later check (and --fix, through the same caches) sees the fixed file as it is now
    assert cli(tmp_path, "--format", "json") == EXIT_PROBLEMS
    report = json.loads(capsys.readouterr().out)
    assert report["counts"] == {"broken-link": 1, "title-mismatch": 1}
    assert cli(tmp_path, "--fix") == EXIT_PROBLEMS
    captured = capsys.readouterr()
    assert captured.out == "" and "nothing to fix" in captured.err


def test_fix_on_a_warm_cache_reads_only_the_files_it_fixes(tmp_path: Path, capsys) -> None:
    """What makes --fix quick on a big folder: with warm caches, a file without fixes is
    not read at all. Its bytes are swapped behind the caches' back (same size, mtime and
    inode, so the caches still hold it valid); read, it would be a no-front-matter error."""
    path, _ = fixable_folder(tmp_path)
    assert cli(tmp_path, "--fix") == EXIT_PROBLEMS  # fills the index and check caches
    diff = capsys.readouterr().out
    untouched = tmp_path / B.rel
    size = untouched.stat().st_size
    rewrite_keeping_stat(untouched, b"x" * size)
    assert cli(tmp_path, "--fix") == EXIT_PROBLEMS
    captured = capsys.readouterr()
    assert captured.out == diff and "no-front-matter" not in captured.err
    assert cli(tmp_path, "--fix", "--write") == EXIT_PROBLEMS
    captured = capsys.readouterr()
    assert f"fixed {A.rel}" in captured.out
    # the file just written is read again (its fixes are gone), the other one is not
    summary = "after fixing: 3 articles checked: 0 errors, 2 warnings, 0 infos"
    assert f"{summary} (broken-link 1, title-mismatch 1)" in captured.err
    assert path.read_bytes() == expected_fix(A)
    assert untouched.read_bytes() == b"x" * size  # never written either


def expected_fix(spec: Spec) -> bytes:
    """What --fix writes for A of `fixable_folder`: the repeat gone, B's title refreshed."""
    return page(spec, [B, C, Spec("elsewhere", 777)], question="question: Old question?").encode()


def unified_diff_of(label: str, before: bytes, after: bytes) -> str:
    lines = difflib.unified_diff(
        before.decode().splitlines(keepends=True),
        after.decode().splitlines(keepends=True),
        f"a/{label}",
        f"b/{label}",
    )
    return "".join(lines)


def rewrite_keeping_stat(path: Path, data: bytes) -> None:
    """Replace a file's bytes in place (same inode) and put its mtime back."""
    st = path.stat()
    assert len(data) == st.st_size
    with path.open("r+b") as handle:
        handle.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        st.st_size,
        st.st_mtime_ns,
        st.st_ino,
    )


# -- the real corpus ----------------------------------------------------------------------------
@pytest.fixture
def real_copy(tmp_path: Path) -> Path:
    files = real_corpus_files()
    if not files:
        pytest.skip(f"real corpus not found at {REAL_CORPUS} (set QT_REAL_CORPUS)")
    target = tmp_path / "real"
    for source in files:
        dest = target / source.relative_to(REAL_CORPUS)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    return target


def test_real_corpus(real_copy: Path) -> None:
    library = Library.load(real_copy)
    findings = check_library(library)
    assert [f for f in findings if f.severity is Severity.ERROR] == []
    assert only(findings, "broken-link")
    chemistry = [f for f in findings if f.path.startswith("chemistry/")]
    assert chemistry and not [f for f in chemistry if f.code == "duplicate-link"]
    economics = [f for f in only(findings, "duplicate-link") if f.path.startswith("economics/")]
    assert len(economics) == 1
    assert economics[0].line == 38
    assert economics[0].message.startswith("related_article3 repeats related_article2")


def test_real_corpus_fix_write(real_copy: Path, capsys) -> None:
    originals = {p: p.read_bytes() for p in real_copy.rglob("*.md")}
    assert cli(real_copy, "--fix", "--write") == EXIT_PROBLEMS
    for path, before in originals.items():
        after = path.read_bytes()
        if after == before:
            continue
        removed, added = changed_lines(before, after)
        assert len(removed) - len(added) == 6  # one related entry of six lines fewer
        assert all(line.startswith((b"    ", b"related_article")) for line in removed + added)
    assert check(real_copy, {"duplicate-link", "stale-link"}) == []
    for source in real_corpus_files():  # the originals were never touched
        assert source.read_bytes() == originals[real_copy / source.relative_to(REAL_CORPUS)]
