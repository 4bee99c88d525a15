"""Property tests: random edits of real and tricky files change only the edited keys' lines."""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qt_tui.model.editing import DELETE, apply_changes
from qt_tui.model.yamlsafe import load_mapping

HOUSE = (
    "---\n"
    "id: 7\n"
    "date: 2024-05-06\n"
    "title: >-\n"
    "    What makes a rainbow?\n"
    "article_title: >-\n"
    "    What makes a rainbow?\n"
    "seo:\n"
    "  title: QuickTakes | Optics\n"
    "  page_description: >-\n"
    "    Light, water and angles.\n"
    "  page_keywords: >-\n"
    "    rainbow, refraction\n"
    "author: QuickTakes\n"
    "question: >-\n"
    "    What makes a rainbow?\n"
    "subject: Optics\n"
    "related_article1:\n"
    "    id: 8\n"
    "    title: >-\n"
    "        Why is the sky blue?\n"
    "    subject: Optics\n"
    "    url: /learn/optics/questions/why-is-the-sky-blue\n"
    "related_article2:\n"
    "    id: 9\n"
    "    title: >-\n"
    "        What is a prism?\n"
    "    subject: Optics\n"
    "    url: /learn/optics/questions/what-is-a-prism\n"
    "---\n"
    "\n"
    "&nbsp;"
)

QUOTED = (
    "---\n"
    "# a comment at the top\n"
    "title: 'It''s a title'   # why: because\n"
    'article_title: "Tab\\there \\"and\\" there"\n'
    "question: |-\n"
    "    Line one\n"
    "\n"
    "      indented line\n"
    "author: Someone # inline comment\n"
    "seo:\n"
    "  # comment inside seo\n"
    "  title: 'QuickTakes | Odd'\n"
    "  page_description: >-\n"
    "    Folded over\n"
    "    two lines\n"
    "  page_keywords: plain, words\n"
    "# comment between keys\n"
    "subject: Odd\n"
    "unknown_list:\n"
    "  - a\n"
    "  - b: c\n"
    "related_article1:\n"
    "    id: 1\n"
    '    title: "Double"\n'
    "    url: /u\n"
    "    # comment inside related\n"
    "---\n"
    "Body: with a --- line\n"
    "---\n"
    "and more\n"
)

FIXTURES = {
    "house-lf": HOUSE.encode(),
    "house-crlf": HOUSE.replace("\n", "\r\n").encode(),
    "house-bom-newline": b"\xef\xbb\xbf" + HOUSE.encode() + b"\n",
    "quoted-comments": QUOTED.encode(),
    "quoted-crlf-bom": b"\xef\xbb\xbf" + QUOTED.replace("\n", "\r\n").encode(),
}

FIELDS = ["title", "article_title", "question", "author", "subject"] + [
    f"seo.{k}" for k in ("title", "page_description", "page_keywords")
]
KEYWORDS = [
    "yes", "no", "on", "off", "y", "null", "~", "true", "False", "1.0", "0x1F", "1e3", "-1",
    "2024-01-01", ".inf", ".nan", "-", "- a", "? a", "a: b", "a #b", "#", "&a", "*a", "!t", "%",
    "@", "`", "'", '"', "''", "---", "...", "|", ">-", "[a]", "{a: 1}", "<<", "=", " ", "\n",
    "\t", "\\", "\\n", ":", "é", "日本", "🎉", "\u2028", "\x85", "\x00", "\ufeff", "\xa0",
]  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=40),
    st.text(max_size=500),
    st.sampled_from(KEYWORDS),
    st.lists(st.sampled_from([*KEYWORDS, "word", "x"]), max_size=12).map("".join),
    st.lists(st.sampled_from([*KEYWORDS, "word", "x"]), max_size=8).map(" ".join),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def real_corpus() -> Path:
    default = Path(__file__).resolve().parents[3] / "shared/corpus/quicktakes-real"
    return Path(os.environ.get("QT_REAL_CORPUS", default))


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes]]:
    """The inline fixtures plus copies of the real articles (read from the copies)."""
    root = real_corpus()
    originals = sorted(root.glob("*/*.md")) if root.is_dir() else []
    if not originals:
        pytest.skip(f"real corpus not found at {root} (set QT_REAL_CORPUS)")
    folder = tmp_path_factory.mktemp("real")
    out = list(FIXTURES.items())
    for original in originals:
        copied = folder / original.name
        shutil.copyfile(original, copied)
        out.append((original.name, copied.read_bytes()))
    return out


def split(data: bytes) -> tuple[list[bytes], int]:
    """Byte lines (keeping endings) and the index of the closing '---' line."""
    lines = [line + b"\n" for line in data.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    if not lines[-1]:
        lines.pop()
    close = next(i for i in range(1, len(lines)) if lines[i].rstrip() == b"---")
    return lines, close


def front(data: bytes) -> dict[str, Any]:
    lines, close = split(data)
    text = b"".join(lines[1:close]).decode("utf-8")
    return load_mapping(text)


def get(data: dict[str, Any], path: str) -> Any:
    for seg in path.split("."):
        data = data[seg]
    return data


def string_fields(data: dict[str, Any]) -> list[str]:
    related = [f"{k}.title" for k, v in data.items() if k.startswith("related_article")]
    out = []
    for path in FIELDS + related:
        try:
            if isinstance(get(data, path), str):
                out.append(path)
        except (KeyError, TypeError):
            pass
    return out


def key_range(data: bytes, path: str) -> range:
    """Lines of `path`'s key and value: the key line up to the next line not indented deeper."""
    lines, close = split(data)
    texts = [line.decode("utf-8-sig").rstrip("\r\n") for line in lines]
    lo, hi = 1, close
    for seg in path.split("."):
        content = [i for i in range(lo, hi) if texts[i].strip()]
        level = min(len(texts[i]) - len(texts[i].lstrip(" ")) for i in content)
        start = next(i for i in content if texts[i].startswith(" " * level + seg + ":") and i >= lo)
        end = start + 1
        while end < hi and (
            not texts[end].strip() or len(texts[end]) - len(texts[end].lstrip(" ")) > level
        ):
            end += 1
        lo, hi = start + 1, end
        found = range(start, end)
    return found


def assert_only_inside(
    old: bytes, new: bytes, ranges: list[range], slots: set[int] | frozenset[int] = frozenset()
) -> None:
    """`new` is `old` with only the lines in `ranges` replaced (and inserts at `slots`).

    The unedited stretches of `old` must appear in `new` byte for byte and in order, the first
    as a prefix and the last as a suffix. (difflib's opcodes are ambiguous here: a title and an
    article_title with the same value line can be aligned either way.)
    """
    a, b = split(old)[0], split(new)[0]
    cuts = sorted([(r.start, r.stop) for r in ranges] + [(s, s) for s in slots])
    kept: list[list[bytes]] = []
    pos = 0
    for lo, hi in cuts:
        kept.append(a[pos:lo] if lo >= pos else [])
        pos = max(pos, hi)
    kept.append(a[pos:])
    if len(kept) == 1:
        assert b == a
        return
    assert b[: len(kept[0])] == kept[0], "lines before the first edited key changed"
    at = len(kept[0])
    for stretch in kept[1:-1]:
        found = next(
            (i for i in range(at, len(b) - len(stretch) + 1) if b[i : i + len(stretch)] == stretch),
            None,
        )
        assert found is not None, f"unedited lines {stretch[:2]!r}... not kept in order"
        at = found + len(stretch)
    tail = kept[-1]
    assert len(b) - len(tail) >= at and b[len(b) - len(tail) :] == tail, "tail changed"


def assert_same_layout(old: bytes, new: bytes) -> None:
    assert new.startswith(b"\xef\xbb\xbf") == old.startswith(b"\xef\xbb\xbf")
    assert new.endswith(b"\n") == old.endswith(b"\n")
    if old.count(b"\n") == old.count(b"\r\n"):
        assert new.count(b"\n") == new.count(b"\r\n")
    assert split(new)[0][split(new)[1] :] == split(old)[0][split(old)[1] :]  # closing + body


def test_the_line_checker_catches_stray_changes() -> None:
    old = HOUSE.encode()
    title = key_range(old, "title")
    assert list(title) == [3, 4]
    assert list(key_range(old, "seo.page_keywords")) == [11, 12]
    assert list(key_range(old, "related_article2.title")) == [25, 26]
    assert_only_inside(old, old.replace(b"rainbow?\narticle", b"X\narticle"), [title])
    with pytest.raises(AssertionError):
        assert_only_inside(old, old.replace(b"id: 7", b"id: 8"), [title])
    with pytest.raises(AssertionError):
        assert_only_inside(old, old.replace(b"&nbsp;", b"&nbsp"), [title])
    with pytest.raises(AssertionError):
        assert_only_inside(old, old.replace(b"---\n\n", b"---\r\n\n"), [title])


@SETTINGS
@given(data=st.data())
def test_random_string_edits_touch_only_their_keys(
    samples: list[tuple[str, bytes]], data: st.DataObject
) -> None:
    name, old = data.draw(st.sampled_from(samples), label="file")
    before = front(old)
    paths = data.draw(
        st.lists(st.sampled_from(string_fields(before)), min_size=1, max_size=3, unique=True),
        label="fields",
    )
    changes: dict[str, object] = {p: data.draw(VALUES, label=p) for p in paths}
    new = apply_changes(old, changes)
    after = front(new)
    expected = copy.deepcopy(before)
    for path, value in changes.items():
        *parents, last = path.split(".")
        (get(expected, ".".join(parents)) if parents else expected)[last] = value
    assert after == expected, name
    for path, value in changes.items():
        assert get(after, path) == value and isinstance(get(after, path), str)
    assert_only_inside(old, new, [key_range(old, p) for p in paths])
    assert_same_layout(old, new)


@SETTINGS
@given(data=st.data())
def test_random_deletes_and_additions_touch_only_their_keys(
    samples: list[tuple[str, bytes]], data: st.DataObject
) -> None:
    name, old = data.draw(st.sampled_from(samples), label="file")
    before = front(old)
    gone = data.draw(st.lists(st.sampled_from(string_fields(before)), max_size=2, unique=True))
    extra = data.draw(st.sampled_from(["new_key", "seo.new_key", "related_article7"]))
    value = data.draw(VALUES, label="value")
    changes: dict[str, object] = {p: DELETE for p in gone}
    if extra == "related_article7":
        changes[extra] = {"id": 70, "title": value, "subject": value, "url": "/learn/x"}
    else:
        changes[extra] = value
    new = apply_changes(old, changes)
    after = front(new)
    expected = copy.deepcopy(before)
    for path in gone:
        *parents, last = path.split(".")
        del (get(expected, ".".join(parents)) if parents else expected)[last]
    if extra == "seo.new_key":
        expected.setdefault("seo", {})["new_key"] = value
    else:
        expected[extra] = changes[extra]
    assert after == expected, name
    _, close = split(old)
    slots = {close}
    if extra == "seo.new_key" and "seo" in before:
        slots = {key_range(old, "seo").stop}
    related = [k for k in before if k.startswith("related_article")]
    if extra == "related_article7" and related:
        slots = {max(key_range(old, k).stop for k in related)}
    assert_only_inside(old, new, [key_range(old, p) for p in gone], slots)
    assert_same_layout(old, new)
