"""The fast folder check: per-file facts, their cache, the resolver, and equality with Checker."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qt_tui.cli import main
from qt_tui.model.checkcache import FactsCache, folder_facts
from qt_tui.model.checkfacts import FINDINGS, facts_of_article, file_facts, id_norm
from qt_tui.model.checks import Checker, Finding, key_lines
from qt_tui.model.foldercheck import Resolver, check_folder
from qt_tui.model.library import Library, id_key
from qt_tui.model.loading import article_from_bytes
from tests.conftest import REPO, SAMPLE
from tests.unit.test_checks import A, B, C, Spec, page, write
from tests.unit.test_indexing import AWKWARD_FRONT_MATTER, BROKEN_FILES, front_matters

ROOT = Path("/content")
PATH = ROOT / "physics" / "an-article.md"


def reference(root: Path, select: set[str] | None = None) -> list[Finding]:
    """What the Library-based Checker finds, reading every file in full."""
    return Checker(Library.load(root)).check(select)


def fast(root: Path, select: set[str] | None = None, *, cache: bool = True) -> list[Finding]:
    return check_folder(root, select, use_cache=cache).findings()


def rows(root: Path) -> dict[str, tuple[int, ...]]:
    """The facts cache's rows: relpath -> stat."""
    query = "SELECT relpath, size, mtime_ns, inode FROM facts"
    with sqlite3.connect(FactsCache.location(root)) as db:
        return {row[0]: tuple(row[1:]) for row in db.execute(query)}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder from the benchmark's generator: more files than are computed without a pool,
    with repeated entries and ids that are not in the folder."""
    root = tmp_path_factory.mktemp("generated") / "content"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "gen_corpus.py"), str(root), "--articles", "450"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return root


def odd_folder(root: Path) -> None:
    """Links by id, by url and by file name; shared ids told apart by url; broken, self,
    repeated and stale entries; string ids; files that do not load."""
    twin = Spec("twin-a", 300)
    other_twin = Spec("twin-b", 300, subject="Chemistry")
    by_url = Spec("by-url", 301)
    write(root, A, [B, C, B, Spec("missing", 999)])
    write(root, B, [A, Spec("by-url", 555)])  # wrong id, right url
    write(root, C, [A, C])
    write(root, twin, [other_twin])
    write(root, other_twin, [twin, Spec("twin-a", 300, subject="Chemistry")])
    write(root, by_url, [Spec("nowhere", 0, subject="Elsewhere")], id="id: ' 301 '")
    stem_only = root / "misc" / "stem-only.md"
    stem_only.parent.mkdir(parents=True, exist_ok=True)
    stem_only.write_text(
        page(Spec("stem-only", 302), [A]).replace("url: /learn/physics/questions/stem-only", "")
    )
    path = root / A.rel
    path.write_text(path.read_text().replace(f"title: {B.title}", "title: Old title", 1))
    (root / "broken.md").write_text("---\ntitle: [unclosed\n---\n")
    (root / "notes.md").write_text("no front matter\n")


# -- equal to the Library-based Checker ---------------------------------------------------------
def test_sample_folder_gives_what_checker_gives(tmp_path: Path) -> None:
    assert fast(SAMPLE, cache=False) == reference(SAMPLE)
    assert fast(SAMPLE) == fast(SAMPLE) == reference(SAMPLE)


def test_real_corpus_gives_what_checker_gives(real_corpus: Path) -> None:
    assert fast(real_corpus) == reference(real_corpus)


def test_generated_folder_gives_what_checker_gives(generated: Path) -> None:
    expected = reference(generated)
    assert {f.code for f in expected} >= {"one-way-link", "duplicate-link", "orphan"}
    assert fast(generated, cache=False) == expected
    assert fast(generated) == expected  # computed in a process pool, then stored
    assert fast(generated) == expected  # read back from the cache


def test_odd_links_and_files_give_what_checker_gives(tmp_path: Path) -> None:
    odd_folder(tmp_path)
    expected = reference(tmp_path)
    codes = {f.code for f in expected}
    assert {"broken-link", "self-link", "duplicate-link", "stale-link", "parse-error"} <= codes
    assert fast(tmp_path) == expected
    for select in ({"one-way-link"}, {"orphan", "stale-link"}, {"parse-error"}):
        assert fast(tmp_path, select) == reference(tmp_path, select)


def test_resolver_resolves_like_the_library(tmp_path: Path, generated: Path) -> None:
    odd_folder(tmp_path)
    roots = [SAMPLE, tmp_path, generated]
    for root in roots:
        library = Library.load(root)
        pairs = folder_facts(root, use_cache=False)
        paths = [path for path, _ in pairs]
        resolver = Resolver(paths, [facts for _, facts in pairs])
        checked = 0
        for article in library.articles():
            for link in article.related:
                target = library.resolve(link)
                index = resolver.resolve(id_norm(link.id), link.url)
                assert (paths[index] if index is not None else None) == (
                    target.key if target else None
                ), (root, article.key, link)
                checked += 1
        assert checked


def test_resolver_on_the_real_corpus(real_corpus: Path) -> None:
    library = Library.load(real_corpus)
    pairs = folder_facts(real_corpus, use_cache=False)
    paths = [path for path, _ in pairs]
    resolver = Resolver(paths, [facts for _, facts in pairs])
    for article in library.articles():
        for link in article.related:
            target = library.resolve(link)
            index = resolver.resolve(id_norm(link.id), link.url)
            assert (paths[index] if index is not None else None) == (target.key if target else None)


@pytest.mark.parametrize(
    "value", [12, "12", " 12 ", "012", "+12", "1_2", "-3", "abc", "", "  ", None, "١٢", 0, "0"]
)
def test_id_norm_is_equal_exactly_when_id_key_is(value: object) -> None:
    others: list[object] = [12, "12", "012", "+12", "1_2", -3, "-3", "abc", 0, "0", "١٢", None]
    for other in others:
        assert (id_norm(value) == id_norm(other)) == (id_key(value) == id_key(other)), other


# -- one file's facts ---------------------------------------------------------------------------
def expected_facts(data: bytes) -> tuple[object, ...]:
    """The facts computed from the full PyYAML load of the file."""
    text = data.decode("utf-8-sig", errors="replace")
    return facts_of_article(article_from_bytes(data, PATH, ROOT), key_lines(text))


def same_facts(data: bytes) -> None:
    got, want = list(file_facts(data, PATH, ROOT)), list(expected_facts(data))
    got[FINDINGS], want[FINDINGS] = (
        sorted(map(repr, got[FINDINGS])),
        sorted(map(repr, want[FINDINGS])),
    )
    assert got == want


@pytest.mark.parametrize("name", sorted(AWKWARD_FRONT_MATTER))
def test_facts_equal_a_full_load_for_awkward_front_matter(name: str) -> None:
    data = f"---\n{AWKWARD_FRONT_MATTER[name]}---\n\n&nbsp;".encode()
    same_facts(data)
    same_facts(data.replace(b"&nbsp;", b"A body answer."))


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_facts_equal_a_full_load_for_bad_files(name: str) -> None:
    same_facts(BROKEN_FILES[name])


ANSWERS = {
    "empty": "answer:\n",
    "blank quoted": "answer: ''\n",
    "null": "answer: null\n",
    "tilde": "answer: ~\n",
    "list": "answer: [1, 2]\n",
    "mapping": "answer:\n  a: 1\n",
    "block of blanks": "answer: >-\n\n",
    "number": "answer: 42\n",
    "twice": "answer: one\nanswer: ''\n",
    "quoted key": "'answer': ''\n",
    "spaced key": "answer : ''\n",
    "hidden in a quoted scalar": 'title: "x\nanswer: y"\n',
    "hidden in a flow list": "keywords: [a,\nanswer: b]\n",
    "after a CR": "title: x\ranswer: ''\n",
    "tagged": "answer: !!str\n",
}


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_facts_equal_a_full_load_for_odd_answers(name: str) -> None:
    fm = "id: 1\ntitle: T\nsubject: S\n" + ANSWERS[name]
    same_facts(f"---\n{fm}---\n\nBody.\n".encode())
    same_facts(f"---\n{fm}---\n\n&nbsp;\n".encode())


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(front_matters(), st.sampled_from(["&nbsp;", "Body text."]))
def test_facts_equal_a_full_load_for_generated_front_matter(fm: str, body: str) -> None:
    same_facts(f"---\n{fm}---\n\n{body}".encode())


def test_an_empty_answer_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, A, [B])
    write(tmp_path, B, [A], answer="answer: ''")
    assert main(["check", str(tmp_path)]) == 1
    assert f"{B.rel}:10: error missing-field answer is empty" in capsys.readouterr().out


# -- the facts cache ----------------------------------------------------------------------------
def test_cache_lives_beside_the_index_cache(tmp_path: Path) -> None:
    write(tmp_path, A, [B])
    write(tmp_path, B, [A])
    fast(tmp_path)
    location = FactsCache.location(tmp_path)
    assert location.name.endswith(".checks.sqlite3") and location.is_file()
    assert set(rows(tmp_path)) == {A.rel, B.rel}


def test_warm_results_equal_results_without_a_cache(generated: Path) -> None:
    cold = check_folder(generated, use_cache=False)
    fast(generated)
    warm = check_folder(generated)
    assert warm.findings() == cold.findings()
    assert (warm.counts, warm.severities, warm.articles) == (
        cold.counts,
        cold.severities,
        cold.articles,
    )


def test_a_touched_file_is_read_again(tmp_path: Path) -> None:
    write(tmp_path, A, [B])
    write(tmp_path, B, [A])
    fast(tmp_path)
    before = rows(tmp_path)[A.rel]
    stat = (tmp_path / A.rel).stat()
    os.utime(tmp_path / A.rel, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000))
    assert fast(tmp_path) == []
    assert rows(tmp_path)[A.rel] != before


def test_an_edit_shows_at_once(tmp_path: Path) -> None:
    write(tmp_path, A, [B])
    write(tmp_path, B, [A])
    assert fast(tmp_path) == []
    write(tmp_path, B)  # B no longer links A
    found = fast(tmp_path)
    assert [(f.path, f.code) for f in found] == [(A.rel, "orphan"), (A.rel, "one-way-link")]
    assert found == reference(tmp_path)


def test_an_edit_keeping_size_and_mtime_is_seen_by_its_inode(tmp_path: Path) -> None:
    write(tmp_path, A, [B])
    write(tmp_path, B, [A])
    assert fast(tmp_path) == []
    path = tmp_path / B.rel
    stat = path.stat()
    text = path.read_text()
    replacement = tmp_path / "replacement.tmp"
    replacement.write_text(text.replace(A.url, A.url[:-1] + "z"))  # same size
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, path)
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    found = fast(tmp_path)
    assert [f.code for f in found] == ["stale-link"]
    assert found == reference(tmp_path)


def test_deleted_and_renamed_files(tmp_path: Path) -> None:
    write(tmp_path, A, [B])
    write(tmp_path, B, [A])
    write(tmp_path, C, [A])
    fast(tmp_path)
    (tmp_path / C.rel).unlink()
    renamed = tmp_path / "physics" / "renamed.md"
    (tmp_path / B.rel).rename(renamed)
    found = fast(tmp_path)
    assert set(rows(tmp_path)) == {A.rel, "physics/renamed.md"}
    assert "physics/renamed.md" in {f.path for f in found}
    assert found == reference(tmp_path)


def test_a_corrupt_cache_file_is_rebuilt(tmp_path: Path) -> None:
    odd_folder(tmp_path)
    expected = fast(tmp_path)
    location = FactsCache.location(tmp_path)
    location.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{location}{suffix}").unlink(missing_ok=True)
    assert fast(tmp_path) == expected
    assert len(rows(tmp_path)) == 9


def test_rows_that_do_not_decode_are_computed_again(tmp_path: Path) -> None:
    odd_folder(tmp_path)
    expected = fast(tmp_path)
    with sqlite3.connect(FactsCache.location(tmp_path)) as db:
        db.execute("UPDATE facts SET facts = x'00ff'")
        db.execute("UPDATE facts SET facts = x'e9010000' WHERE relpath = ?", (A.rel,))
    assert fast(tmp_path) == expected


def test_another_schema_version_is_rebuilt(tmp_path: Path) -> None:
    write(tmp_path, A, [B])
    write(tmp_path, B, [A])
    fast(tmp_path)
    with sqlite3.connect(FactsCache.location(tmp_path)) as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
        db.execute("UPDATE facts SET facts = x'00'")  # would be wrong if it were trusted
    assert fast(tmp_path) == []
    with sqlite3.connect(FactsCache.location(tmp_path)) as db:
        schema = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0]
    assert schema != "0" and len(rows(tmp_path)) == 2


def test_another_folders_cache_is_not_trusted(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write(first, A, [B])
    write(first, B, [A])
    fast(first)
    write(second, A, [B])
    write(second, B)
    shutil.copyfile(FactsCache.location(first), FactsCache.location(second))
    assert fast(second) == reference(second) != []


def test_an_unwritable_cache_folder_does_not_stop_a_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    content = tmp_path / "content"
    write(content, A, [B])
    write(content, B)
    assert fast(content) == reference(content)
    assert main(["check", str(content), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {"one-way-link": 1, "orphan": 1}


# -- output -------------------------------------------------------------------------------------
def test_json_and_text_are_what_the_findings_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fast writers against json.dumps and the one-line text of every finding, with
    quotes, backslashes, control characters, tabs and non-ASCII in paths and messages."""
    odd_folder(tmp_path)
    weird = Spec('quote"back\\slash-ünï', 777, subject="Δ Physics")
    write(tmp_path, weird, [A], question='question: "tab\\there  and \\u001b escape"')
    path = tmp_path / weird.rel
    path.write_text(path.read_text().replace("id: 777", "id: 'x7'"))
    findings = reference(tmp_path)
    articles = len(Library.load(tmp_path).articles())
    root = tmp_path.resolve()
    assert main(["check", str(tmp_path), "--format", "json"]) == 1
    want = {
        "root": str(root),
        "articles": articles,
        "problems": [f.as_dict() for f in findings],
        "counts": check_folder(tmp_path).counts,
    }
    assert capsys.readouterr().out == json.dumps(want, ensure_ascii=False, indent=2) + "\n"
    assert main(["check", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    from qt_tui.check_command import summary
    from qt_tui.model.text import one_line

    expected = [
        f"{f.path}:{f.line}: {f.severity} {f.code} {one_line(f.message)}"
        if f.line is not None
        else f"{f.path}: {f.severity} {f.code} {one_line(f.message)}"
        for f in findings
    ]
    assert lines == [*expected, summary(findings, articles)]
    assert any("\t" in f.message or "\x1b" in f.message for f in findings) or any(
        "  " in f.message for f in findings
    )


def test_empty_report_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, A, [B])
    write(tmp_path, B, [A])
    assert main(["check", str(tmp_path), "--format", "json"]) == 0
    out = capsys.readouterr().out
    want = {"root": str(tmp_path.resolve()), "articles": 2, "problems": [], "counts": {}}
    assert out == json.dumps(want, ensure_ascii=False, indent=2) + "\n"


# -- the kept report ----------------------------------------------------------------------------
def test_a_kept_report_is_used_only_for_the_same_folder_and_codes(tmp_path: Path) -> None:
    write(tmp_path, A, [B])
    write(tmp_path, B)
    full = fast(tmp_path)
    assert fast(tmp_path, {"orphan"}) == [f for f in full if f.code == "orphan"]
    assert fast(tmp_path) == full  # the kept report of every code, not the orphan one
    with sqlite3.connect(FactsCache.location(tmp_path)) as db:
        names = {row[0] for row in db.execute("SELECT name FROM reports")}
    assert len(names) == 2
    write(tmp_path, B, [A])  # any change of any file's stat: the kept report is not used
    assert fast(tmp_path) == [] == reference(tmp_path)
    (tmp_path / "physics" / "new.md").write_text(page(C, [A]))
    assert fast(tmp_path) == reference(tmp_path) != []


def test_a_damaged_kept_report_is_made_again(tmp_path: Path) -> None:
    odd_folder(tmp_path)
    expected = fast(tmp_path)
    with sqlite3.connect(FactsCache.location(tmp_path)) as db:
        db.execute("UPDATE reports SET report = x'00ff'")
    assert fast(tmp_path) == expected
    with sqlite3.connect(FactsCache.location(tmp_path)) as db:
        db.execute("UPDATE reports SET report = x'e9010000'")  # decodes, but not to a report
    assert fast(tmp_path) == expected


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files")
def test_no_report_is_kept_while_a_file_is_unreadable(tmp_path: Path) -> None:
    write(tmp_path, A, [B])
    write(tmp_path, B, [A])
    locked = tmp_path / B.rel
    locked.chmod(0)
    try:
        assert {f.code for f in fast(tmp_path)} >= {"parse-error"}
        with sqlite3.connect(FactsCache.location(tmp_path)) as db:
            assert db.execute("SELECT count(*) FROM reports").fetchone()[0] == 0
    finally:
        locked.chmod(0o644)
    assert fast(tmp_path) == []


# -- the app's check in its own process ---------------------------------------------------------
def test_a_check_elsewhere_gives_the_report_and_a_newer_one_takes_over(generated: Path) -> None:
    import multiprocessing
    import threading

    from qt_tui.model.foldercheck import CheckSuperseded, report_elsewhere

    context = multiprocessing.get_context("forkserver")
    expected = check_folder(generated, use_cache=False).findings()
    outcomes: list[object] = []

    def run() -> None:
        try:
            report = report_elsewhere(generated, context)
            outcomes.append(report.findings() if report is not None else None)
        except CheckSuperseded as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == 2
    assert expected in outcomes  # the newer check always reports
    # the older one was stopped, unless it was done before the newer one started
    assert all(isinstance(o, CheckSuperseded) or o == expected for o in outcomes)


@pytest.mark.parametrize("block", [7, 256])
def test_the_apps_packed_report_gives_every_finding_by_file_and_by_code(
    generated: Path, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qt_tui.model.foldercheck import CompactReport, folder_report

    monkeypatch.setattr(CompactReport, "BLOCK", block)  # many blocks, and the app's size
    full = check_folder(generated, use_cache=False)
    expected = full.findings()
    packed = CompactReport.decode(CompactReport.of(folder_report(generated)).encode())
    assert packed is not None
    assert packed.findings() == expected
    assert packed.counts == full.counts
    by_path: dict[str, list[Finding]] = {}
    for finding in expected:
        by_path.setdefault(finding.path, []).append(finding)
    assert sorted(packed) == sorted(by_path)
    for path in list(by_path)[:: max(1, len(by_path) // 50)]:
        assert packed[path] == by_path[path]
    for code in full.counts:
        assert packed.paths_with(code) == sorted({f.path for f in expected if f.code == code})
    assert "no/such/file.md" not in packed
    with pytest.raises(KeyError):
        packed["no/such/file.md"]
    assert CompactReport.decode(b"not a report") is None


def _never_done(root: Path, sender: object) -> None:
    """A check process that would not end by itself."""
    import time

    time.sleep(120)


def test_stop_checks_stops_a_check_elsewhere(tmp_path: Path, monkeypatch) -> None:
    """What the app does as it quits: the check process ends now, its caller is told so
    (and does not check the folder itself instead); none starts once it is stopping."""
    import multiprocessing
    import threading
    import time

    from qt_tui.model import foldercheck
    from qt_tui.model.foldercheck import CheckStopped, report_elsewhere, stop_checks

    write(tmp_path, A, [B])
    monkeypatch.setattr(foldercheck, "_report_into", _never_done)  # run by the forked child
    context = multiprocessing.get_context("fork")
    outcomes: list[object] = []

    def run() -> None:
        try:
            outcomes.append(report_elsewhere(tmp_path, context))
        except CheckStopped as exc:
            outcomes.append(exc)

    def running() -> list[object]:
        return [p for p in multiprocessing.active_children() if p.name == "qt-tui-check"]

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 30
    while not running() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert running()
    stop_checks()
    thread.join(timeout=10)
    assert not thread.is_alive() and running() == []
    assert len(outcomes) == 1 and type(outcomes[0]) is CheckStopped
    with pytest.raises(CheckStopped):
        report_elsewhere(tmp_path, context, stopped=lambda: True)
    assert running() == []
