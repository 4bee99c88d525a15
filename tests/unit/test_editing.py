"""Minimal-diff front matter editing: exact bytes, quoting rules, real articles, atomic saves."""

from __future__ import annotations

import datetime
import difflib
import os
import shutil
import signal
import stat
from pathlib import Path
from typing import Any

import pytest

from qt_tui.model.editing import (
    DELETE,
    ConflictError,
    EditError,
    SaveRecord,
    apply_changes,
    edit_file,
    save_atomic,
    undo_save,
    unified_diff,
)
from qt_tui.model.yamlsafe import load_mapping

HOUSE = (
    "---\n"
    "_schema: default\n"
    "id: 30141\n"
    "date: 2024-11-23\n"
    "title: >-\n"
    "    How do tides work?\n"
    "article_title: >-\n"
    "    How do tides work?\n"
    "seo:\n"
    "  title: QuickTakes | Physics\n"
    "  page_description: >-\n"
    "    A short look at tides.\n"
    "  page_keywords: >-\n"
    "    tides, moon, gravity\n"
    "author: QuickTakes\n"
    "question: >-\n"
    "    How do tides work?\n"
    "subject: Physics\n"
    "score: -1.0\n"
    "related_article1:\n"
    "    id: 101\n"
    "    title: >-\n"
    "        What is gravity?\n"
    "    subject: Physics\n"
    "    url: /learn/physics/questions/what-is-gravity\n"
    "related_article2:\n"
    "    id: 102\n"
    "    title: >-\n"
    "        What is the moon made of?\n"
    "    subject: Astronomy\n"
    "    url: /learn/astronomy/questions/what-is-the-moon-made-of\n"
    "---\n"
    "\n"
    "&nbsp;"
)

COMMENTED = (
    "---\n"
    "# leading comment\n"
    "title: 'Quoted ''title'''  # keep me\n"
    'question: "Double \\"quoted\\""\n'
    "subject: Physics # plain comment\n"
    "seo:\n"
    "  # inside seo\n"
    "  title: QuickTakes | Physics\n"
    "  page_keywords: >-  # folded comment\n"
    "    a, b\n"
    "# before related\n"
    "related_article1:\n"
    "    id: 1\n"
    "    title: >-\n"
    "        One\n"
    "# trailing comment\n"
    "---\n"
    "Body with --- and: colons\n"
)

MISREADABLE = [
    "yes", "no", "on", "off", "Yes", "NO", "y", "n", "null", "Null", "~", "true", "False",
    "1.0", "0x1F", "0o17", "1e3", "1_000", "-1", "+1", ".5", "2024-01-01",
    "2001-12-14 21:59:43.10 -5", "12:30", ".inf", "-.inf", ".nan", " leading", "trailing ",
    " both ", "# hash", "&anchor",
    "*alias", "!tag", "%percent", "@at", "`tick", "- dash", "-", "? question", "a: b", "a #b",
    "ends with colon:", "[list", "{map", "]", "}", "'single'", '"double"', "it's", 'say "hi"',
    "ünïcödé ✓ 日本語 🎉", "", "   ", "\t", "tab\tinside", "line\nbreak", "trailing newline\n",
    "\r\n", "nul\x00byte", "bell\x07", "del\x7f", "nel\x85", "ls\u2028ps\u2029", "bom\ufeff",
    "nbsp\xa0", "\xa0", "<<", "=", "---", "...", "| pipe", "> gt", "back\\slash", "x" * 3000,
    "C# and F#", "50% off", "a, b, [c]", "{{ template }}",
]  # fmt: skip


def fm(data: bytes) -> dict[str, Any]:
    """Front matter of `data` loaded the plain way, for checking results."""
    lines = data.decode("utf-8-sig").split("\n")
    close = next(i for i in range(1, len(lines)) if lines[i].rstrip() == "---")
    return load_mapping("\n".join(lines[1:close]))


def swap(text: str, old: str, new: str) -> str:
    """`text` with its one occurrence of `old` replaced by `new`."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def edit(text: str, changes: dict[str, object]) -> str:
    return apply_changes(text.encode(), changes).decode()


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    minus: list[str] = []
    plus: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            minus += a[i1:i2]
            plus += b[j1:j2]
    return minus, plus


# --- exact bytes for representative edits --------------------------------------------------


def test_plain_stays_plain() -> None:
    new = edit(HOUSE, {"subject": "Chemistry"})
    assert new == swap(HOUSE, "\nsubject: Physics\n", "\nsubject: Chemistry\n")


def test_plain_that_needs_quotes_is_single_quoted() -> None:
    assert edit(HOUSE, {"subject": "yes"}) == swap(
        HOUSE, "\nsubject: Physics\n", "\nsubject: 'yes'\n"
    )
    assert edit(HOUSE, {"subject": "it's: here"}) == swap(
        HOUSE, "\nsubject: Physics\n", "\nsubject: 'it''s: here'\n"
    )


def test_control_characters_and_newlines_are_double_quoted() -> None:
    new = edit(HOUSE, {"subject": 'a\tb "c"\nd\\'})
    assert new == swap(HOUSE, "\nsubject: Physics\n", '\nsubject: "a\\tb \\"c\\"\\nd\\\\"\n')


def test_folded_stays_folded() -> None:
    new = edit(HOUSE, {"title": "Why is the sea salty? A: minerals # really"})
    assert new == swap(
        HOUSE,
        "\ntitle: >-\n    How do tides work?\n",
        "\ntitle: >-\n    Why is the sea salty? A: minerals # really\n",
    )


def test_folded_multiline_value_is_written_on_one_line() -> None:
    text = swap(HOUSE, "    How do tides work?\narticle", "    How do\n    tides work?\narticle")
    assert fm(text.encode())["title"] == "How do tides work?"
    assert edit(text, {"title": "New"}) == swap(
        HOUSE, "\ntitle: >-\n    How do tides work?\n", "\ntitle: >-\n    New\n"
    )


def test_folded_value_that_cannot_stay_folded_becomes_quoted() -> None:
    folded = "\ntitle: >-\n    How do tides work?\n"
    assert edit(HOUSE, {"title": "two\nlines"}) == swap(HOUSE, folded, '\ntitle: "two\\nlines"\n')
    assert edit(HOUSE, {"title": " lead"}) == swap(HOUSE, folded, "\ntitle: ' lead'\n")
    assert edit(HOUSE, {"title": ""}) == swap(HOUSE, folded, "\ntitle: ''\n")
    assert edit(HOUSE, {"title": "tail "}) == swap(HOUSE, folded, "\ntitle: 'tail '\n")


def test_literal_block_keeps_its_line_breaks() -> None:
    text = swap(HOUSE, "question: >-\n    How do tides work?\n", "question: |-\n    a\n    b\n")
    assert fm(text.encode())["question"] == "a\nb"
    new = edit(text, {"question": "one\n\n  two\nthree"})
    assert new == swap(text, "    a\n    b\n", "    one\n\n      two\n    three\n")


def test_nested_seo_keywords() -> None:
    new = edit(HOUSE, {"seo.page_keywords": "tides, ocean"})
    assert new == swap(HOUSE, "    tides, moon, gravity\n", "    tides, ocean\n")
    new = edit(HOUSE, {"seo.title": "QuickTakes | Oceans"})
    assert new == swap(HOUSE, "  title: QuickTakes | Physics\n", "  title: QuickTakes | Oceans\n")


def test_related_entry_added_after_the_last_one_in_house_layout() -> None:
    entry = {"id": 103, "title": "Why: tides?", "subject": "Physics", "url": "/learn/x"}
    new = edit(HOUSE, {"related_article3": entry})
    added = (
        "related_article3:\n"
        "    id: 103\n"
        "    title: >-\n"
        "        Why: tides?\n"
        "    subject: Physics\n"
        "    url: /learn/x\n"
    )
    assert new == swap(HOUSE, "---\n\n&nbsp;", added + "---\n\n&nbsp;")
    assert fm(new.encode())["related_article3"] == entry


def test_related_entry_goes_after_highest_lower_entry_not_at_the_end() -> None:
    text = swap(HOUSE, "---\n\n&nbsp;", "extra: 1\n---\n\n&nbsp;")
    new = edit(text, {"related_article3": {"id": 3, "title": "T", "subject": "S", "url": "/u"}})
    assert "/what-is-the-moon-made-of\nrelated_article3:\n    id: 3\n" in new
    assert new.endswith("url: /u\nextra: 1\n---\n\n&nbsp;")


def test_related_entry_without_a_sibling_is_plain_with_four_spaces() -> None:
    text = HOUSE.split("related_article1:")[0] + "---\n\n&nbsp;"
    new = edit(text, {"related_article1": {"id": 1, "title": "yes", "url": "/u"}})
    assert new == swap(
        text,
        "---\n\n&nbsp;",
        "related_article1:\n    id: 1\n    title: 'yes'\n    url: /u\n---\n\n&nbsp;",
    )


def test_whole_related_entry_replacement_touches_only_changed_children() -> None:
    entry = dict(fm(HOUSE.encode())["related_article2"], title="Changed")
    new = edit(HOUSE, {"related_article2": entry})
    assert new == swap(HOUSE, "        What is the moon made of?\n", "        Changed\n")
    entry.pop("subject")
    new = edit(HOUSE, {"related_article2": entry})
    assert "    subject: Astronomy\n" not in new and "        Changed\n" in new


def test_related_entry_deleted() -> None:
    new = edit(HOUSE, {"related_article1": DELETE})
    start = HOUSE.index("related_article1:")
    assert new == HOUSE[:start] + HOUSE[HOUSE.index("related_article2:") :]


def test_keys_deleted() -> None:
    assert edit(HOUSE, {"author": DELETE}) == swap(HOUSE, "author: QuickTakes\n", "")
    assert edit(HOUSE, {"title": DELETE}) == swap(
        HOUSE, "\ntitle: >-\n    How do tides work?\n", "\n"
    )
    new = edit(HOUSE, {"seo.page_description": DELETE})
    assert new == swap(HOUSE, "  page_description: >-\n    A short look at tides.\n", "")
    assert edit(HOUSE, {"missing": DELETE, "seo.missing": DELETE}) == HOUSE


def test_deleting_last_child_leaves_an_empty_mapping() -> None:
    text = "---\nseo:\n  title: x\nb: 1\n---\n"
    assert edit(text, {"seo.title": DELETE}) == "---\nseo: {}\nb: 1\n---\n"
    assert (
        edit("---\nseo: {}\nb: 1\n---\n", {"seo.title": "z"})
        == "---\nseo:\n  title: z\nb: 1\n---\n"
    )


def test_new_top_level_key_at_the_end() -> None:
    new = edit(HOUSE, {"reviewed": True, "note": "a: b"})
    assert new == swap(HOUSE, "---\n\n&nbsp;", "reviewed: true\nnote: 'a: b'\n---\n\n&nbsp;")


def test_new_nested_key_and_new_mapping() -> None:
    new = edit(HOUSE, {"seo.robots": "noindex"})
    assert new == swap(
        HOUSE, "    tides, moon, gravity\n", "    tides, moon, gravity\n  robots: noindex\n"
    )
    text = swap(HOUSE, "seo:\n  title: QuickTakes | Physics\n", "").replace(
        "  page_description: >-\n    A short look at tides.\n  page_keywords: >-\n"
        "    tides, moon, gravity\n",
        "",
    )
    new = edit(text, {"seo.title": "T"})
    assert new == swap(text, "---\n\n&nbsp;", "seo:\n  title: T\n---\n\n&nbsp;")
    new = edit("---\na: 1\n---\n", {"x.y.z": 1})
    assert new == "---\na: 1\nx:\n  y:\n    z: 1\n---\n"
    assert (
        edit("---\nseo:\nb: 1\n---\n", {"seo.title": "t"}) == "---\nseo:\n  title: t\nb: 1\n---\n"
    )
    new = edit("---\nseo: ~  # none yet\n---\n", {"seo.a": 1})
    assert new == "---\nseo:  # none yet\n  a: 1\n---\n"


def test_non_string_values_in_canonical_form() -> None:
    changes: dict[str, object] = {
        "id": 7,
        "score": 2.5,
        "date": datetime.date(2025, 2, 3),
        "subject": None,
        "author": False,
        "big": 1e20,
        "when": datetime.datetime(2025, 1, 2, 3, 4, 5),
    }
    new = edit(HOUSE, changes)
    for line in ("id: 7\n", "score: 2.5\n", "date: 2025-02-03\n", "subject: null\n"):
        assert line in new
    assert "author: false\n" in new and "big: 1.0e+20\n" in new
    data = fm(new.encode())
    for key, value in changes.items():
        assert data[key] == value and type(data[key]) is type(value)
    assert fm(edit(HOUSE, {"date": "2024-01-01"}).encode())["date"] == "2024-01-01"
    assert "\ndate: '2024-01-01'\n" in edit(HOUSE, {"date": "2024-01-01"})


def test_dotted_path_through_a_scalar_raises() -> None:
    for path in ("title.x", "subject.x", "seo.title.x", "related_article1.id.x"):
        with pytest.raises(EditError, match="not a mapping"):
            apply_changes(HOUSE.encode(), {path: "v"})


def test_bad_input_raises_edit_error() -> None:
    with pytest.raises(EditError, match="front matter"):
        apply_changes(b"no front matter here\n", {"title": "x"})
    with pytest.raises(EditError, match="not closed"):
        apply_changes(b"---\ntitle: x\n", {"title": "y"})
    with pytest.raises(EditError, match="invalid YAML"):
        apply_changes(b"---\ntitle: [unclosed\n---\n", {"title": "y"})
    with pytest.raises(EditError, match="surrogate"):
        apply_changes(HOUSE.encode(), {"title": "bad \udc80"})
    with pytest.raises(EditError, match="unsupported type"):
        apply_changes(HOUSE.encode(), {"title": ["a", "list"]})
    with pytest.raises(EditError, match="plain YAML key"):
        apply_changes(HOUSE.encode(), {"yes": 1})
    with pytest.raises(EditError, match="invalid key path"):
        apply_changes(HOUSE.encode(), {"seo..title": 1})


# --- whole-file properties -----------------------------------------------------------------


def test_crlf_file_stays_crlf_everywhere() -> None:
    crlf = HOUSE.replace("\n", "\r\n")
    changes: dict[str, object] = {
        "title": "New title",
        "subject": "yes",
        "seo.robots": "x",
        "related_article3": {"id": 1, "title": "t", "subject": "s", "url": "/u"},
        "author": DELETE,
    }
    new = edit(crlf, changes)
    assert new.count("\n") == new.count("\r\n")
    assert new == edit(HOUSE, changes).replace("\n", "\r\n")


def test_bom_and_final_newline_kept() -> None:
    data = b"\xef\xbb\xbf" + HOUSE.encode()
    new = apply_changes(data, {"title": "X"})
    assert new.startswith(b"\xef\xbb\xbf---\n") and new.endswith(b"&nbsp;")
    assert fm(new)["title"] == "X"
    with_newline = apply_changes(HOUSE.encode() + b"\n", {"title": "X"})
    assert with_newline.endswith(b"&nbsp;\n")


def test_comments_quotes_and_unknown_keys_kept() -> None:
    new = edit(COMMENTED, {"title": "New 'one'", "subject": "Maths", "seo.page_keywords": "c"})
    assert new == (
        COMMENTED.replace("'Quoted ''title'''  # keep me", "'New ''one'''  # keep me")
        .replace("subject: Physics # plain comment", "subject: Maths # plain comment")
        .replace("    a, b\n", "    c\n")
    )
    new = edit(COMMENTED, {"question": "plain now", "seo.page_keywords": DELETE})
    assert new == COMMENTED.replace('"Double \\"quoted\\""', '"plain now"').replace(
        "  page_keywords: >-  # folded comment\n    a, b\n", ""
    )
    new = edit(COMMENTED, {"related_article1": DELETE, "seo.extra": 1})
    assert "# before related\n# trailing comment\n---" in new
    assert "  page_keywords: >-  # folded comment\n    a, b\n  extra: 1\n# before related" in new


def test_unicode_kept() -> None:
    text = swap(HOUSE, "author: QuickTakes", "author: Zoë ✓ 日本")
    new = edit(text, {"title": "Über “tides” — 🌊"})
    assert "author: Zoë ✓ 日本\n" in new and "    Über “tides” — 🌊\n" in new


def test_unchanged_value_writes_nothing() -> None:
    text = swap(HOUSE, "    How do tides work?\narticle", "    How do\n    tides work?\narticle")
    assert edit(text, {"title": "How do tides work?", "id": 30141}) == text


@pytest.mark.parametrize("value", MISREADABLE, ids=range(len(MISREADABLE)))
@pytest.mark.parametrize(
    "key", ["subject", "title", "seo.title", "related_article2.title", "question", "new_key"]
)
def test_misreadable_values_round_trip(key: str, value: str) -> None:
    text = COMMENTED if key == "question" else HOUSE
    new = apply_changes(text.encode(), {key: value})
    data = fm(new)
    got: Any = data
    for seg in key.split("."):
        got = got[seg]
    assert isinstance(got, str) and got == value
    old = fm(text.encode())
    old_section = old.get(key.split(".")[0])
    assert {k: v for k, v in data.items() if k != key.split(".")[0]} == {
        k: v for k, v in old.items() if k != key.split(".")[0]
    }
    if isinstance(old_section, dict):
        rest = {k: v for k, v in data[key.split(".")[0]].items() if k != key.split(".")[1]}
        assert rest == {k: v for k, v in old_section.items() if k != key.split(".")[1]}
    minus, plus = changed_lines(text, new.decode())
    assert len(plus) == 1 and len(minus) <= 2  # one value line in, the key's own lines out


# --- real articles -------------------------------------------------------------------------


def real_corpus() -> Path:
    default = Path(__file__).resolve().parents[3] / "shared/corpus/quicktakes-real"
    return Path(os.environ.get("QT_REAL_CORPUS", default))


def real_files(tmp_path: Path) -> list[Path]:
    root = real_corpus()
    originals = sorted(p for p in root.glob("*/*.md")) if root.is_dir() else []
    if not originals:
        pytest.skip(f"real corpus not found at {root} (set QT_REAL_CORPUS)")
    copies = []
    for original in originals:
        copy = tmp_path / original.parent.name / original.name
        copy.parent.mkdir(exist_ok=True)
        shutil.copyfile(original, copy)
        copy.chmod(0o644)
        copies.append(copy)
    return copies


def value_line(lines: list[str], key: str) -> int:
    """Index of the single value line of a top-level `key: >-` in a real article."""
    index = lines.index(f"{key}: >-\n")
    assert lines[index + 2][0] != " "
    return index + 1


def test_real_articles_title_sync_touches_only_three_value_lines(tmp_path: Path) -> None:
    for path in real_files(tmp_path):
        old = path.read_bytes()
        lines = old.decode().splitlines(keepends=True)
        title = "A new title: with 'quotes', #hash and ünïcode?"
        record = edit_file(path, {k: title for k in ("title", "article_title", "question")})
        new = path.read_bytes()
        assert record == SaveRecord(path, old, new)
        new_lines = new.decode().splitlines(keepends=True)
        matcher = difflib.SequenceMatcher(a=lines, b=new_lines, autojunk=False)
        changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
        expected = sorted(value_line(lines, k) for k in ("title", "article_title", "question"))
        assert [(op[0], op[1], op[2] - op[1], op[4] - op[3]) for op in changes] == [
            ("replace", i, 1, 1) for i in expected
        ], path.name
        assert all(new_lines[i] == f"    {title}\n" for i in expected)
        data = fm(new)
        assert data["title"] == data["article_title"] == data["question"] == title
        before = fm(old)
        assert {
            k: v for k, v in data.items() if k not in ("title", "article_title", "question")
        } == {k: v for k, v in before.items() if k not in ("title", "article_title", "question")}
        undo_save(record)
        assert path.read_bytes() == old
        alone = apply_changes(old, {"title": "Only the title"}).decode().splitlines(keepends=True)
        ops = [
            op for op in difflib.SequenceMatcher(a=lines, b=alone).get_opcodes() if op[0] != "equal"
        ]
        at = value_line(lines, "title")
        assert ops == [("replace", at, at + 1, at, at + 1)]


def test_real_articles_are_never_modified(tmp_path: Path) -> None:
    root = real_corpus()
    if not root.is_dir():
        pytest.skip(f"real corpus not found at {root} (set QT_REAL_CORPUS)")
    before = {p: p.read_bytes() for p in root.glob("*/*.md")}
    for path in real_files(tmp_path):
        edit_file(path, {"seo.page_keywords": "x", "related_article9": {"id": 1, "title": "t"}})
    assert {p: p.read_bytes() for p in root.glob("*/*.md")} == before


# --- saving --------------------------------------------------------------------------------


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_save_atomic_conflict_leaves_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(HOUSE)
    old = path.read_bytes()
    new = apply_changes(old, {"title": "T"})
    path.write_bytes(old + b" edited elsewhere")
    with pytest.raises(ConflictError):
        save_atomic(path, new, old)
    assert path.read_bytes() == old + b" edited elsewhere"
    with pytest.raises(ConflictError):
        edit_file(path, {"title": "T"}, expected_old=old)
    assert path.read_bytes() == old + b" edited elsewhere"
    assert leftovers(tmp_path) == []


def test_read_only_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(HOUSE)
    path.chmod(0o444)
    old = path.read_bytes()
    with pytest.raises(EditError, match="read-only"):
        edit_file(path, {"title": "T"})
    assert path.read_bytes() == old and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores modes")
def test_read_only_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "a.md"
    path.write_text(HOUSE)
    folder.chmod(0o555)
    try:
        with pytest.raises(EditError, match=r"cannot write .*Permission denied"):
            edit_file(path, {"title": "T"})
        assert path.read_text() == HOUSE and leftovers(folder) == []
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs POSIX file size limits")
def test_failed_write_leaves_file_and_folder_clean(tmp_path: Path) -> None:
    """A write that fails half way (here EFBIG, as ENOSPC would) removes its temp file."""
    import resource

    path = tmp_path / "a.md"
    path.write_text(HOUSE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100, hard))
    try:
        with pytest.raises(EditError, match=r"cannot write .*a\.md: File too large"):
            edit_file(path, {"title": "T"})
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    assert path.read_text() == HOUSE and leftovers(tmp_path) == []


def test_aliased_value_change_is_refused_not_corrupted() -> None:
    text = b"---\nbase: &b hello\nother: *b\n---\n"
    with pytest.raises(EditError, match="losslessly"):
        apply_changes(text, {"base": "changed"})
    assert fm(apply_changes(text, {"other": "changed"})) == {"base": "hello", "other": "changed"}


def test_permissions_preserved_and_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(HOUSE)
    path.chmod(0o640)
    record = edit_file(path, {"title": "T"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert fm(path.read_bytes())["title"] == "T"
    assert record.before == HOUSE.encode() and record.after == path.read_bytes()
    assert leftovers(tmp_path) == []


def test_undo_restores_exact_bytes_and_refuses_after_external_change(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    original = b"\xef\xbb\xbf" + HOUSE.replace("\n", "\r\n").encode()
    path.write_bytes(original)
    record = edit_file(path, {"title": "T", "author": DELETE})
    assert path.read_bytes() != original
    undo_save(record)
    assert path.read_bytes() == original
    record = edit_file(path, {"title": "U"})
    path.write_bytes(record.after + b"!")
    with pytest.raises(ConflictError):
        undo_save(record)
    assert path.read_bytes() == record.after + b"!"
    assert leftovers(tmp_path) == []


def test_edit_file_without_change_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(HOUSE)
    inode = path.stat().st_ino
    record = edit_file(path, {"subject": "Physics"})
    assert record.before == record.after == HOUSE.encode()
    assert path.stat().st_ino == inode
    undo_save(record)  # nothing to undo, nothing changed
    assert path.read_text() == HOUSE


def test_save_through_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.md"
    real.write_text(HOUSE)
    link = tmp_path / "link.md"
    link.symlink_to(real)
    edit_file(link, {"title": "T"})
    assert link.is_symlink() and fm(real.read_bytes())["title"] == "T"


# --- diffs ---------------------------------------------------------------------------------


def test_unified_diff_lf_crlf_bom_and_final_newline() -> None:
    old = HOUSE.encode()
    diff = unified_diff("a.md", old, apply_changes(old, {"title": "T"}))
    assert diff.startswith("--- a/a.md\n+++ b/a.md\n@@")
    assert "-    How do tides work?\n+    T\n" in diff
    crlf = b"\xef\xbb\xbf" + HOUSE.replace("\n", "\r\n").encode()
    diff = unified_diff("a.md", crlf, apply_changes(crlf, {"title": "T"}))
    assert "\r" not in diff and "␍" not in diff and "-    How do tides work?\n+    T\n" in diff
    diff = unified_diff("a.md", crlf, old)
    assert "-<BOM>---␍\n" in diff and "+---\n" in diff
    diff = unified_diff("a.md", old, old + b"\n")
    assert "-&nbsp;\n\\ No newline at end of file\n+&nbsp;\n" in diff
    assert unified_diff("a.md", old, old) == ""
