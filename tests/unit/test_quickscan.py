"""The quick pass gives exactly the full loader's lean values, or declines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qt_tui.model.files import discover
from qt_tui.model.indexing import lean_values, quick_summary
from qt_tui.model.loading import article_from_bytes
from tests.conftest import REAL_CORPUS, SAMPLE, real_corpus_files
from tests.unit.test_indexing import AWKWARD_FRONT_MATTER, BROKEN_FILES, GOOD_FM, front_matters

ROOT = Path("/content")
RELPATH = "testing/an-article.md"


def check_quick(data: bytes, relpath: str = RELPATH, root: Path = ROOT) -> bool:
    """Assert the quick values, if any, equal the full loader's; True when it answered."""
    quick = quick_summary(data, relpath)
    full = article_from_bytes(data, root / relpath, root)
    if quick is None:
        return False
    if full.loaded:
        assert quick == lean_values(full)
    return True


@pytest.mark.parametrize("path", sorted(discover(SAMPLE)), ids=lambda p: p.name)
def test_quick_values_of_sample_articles(path: Path) -> None:
    relpath = path.relative_to(SAMPLE).as_posix()
    answered = check_quick(path.read_bytes(), relpath, SAMPLE)
    full = article_from_bytes(path.read_bytes(), path, SAMPLE)
    if full.loaded:
        assert answered, "the sample is in the plain layout: the quick pass must read it"


@pytest.mark.parametrize("path", real_corpus_files(), ids=lambda p: p.name if p else "none")
def test_quick_values_of_real_articles(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"real corpus not found at {REAL_CORPUS}")
    check_quick(path.read_bytes(), path.relative_to(REAL_CORPUS).as_posix(), REAL_CORPUS)


@pytest.mark.parametrize("name", sorted(AWKWARD_FRONT_MATTER))
def test_quick_values_of_awkward_front_matter(name: str) -> None:
    check_quick(f"---\n{AWKWARD_FRONT_MATTER[name]}---\n\n&nbsp;".encode())


#: Broken in a part the quick pass does not read (here: inside a related entry); the detail
#: pass reports these (see test_indexing's test_detail_pass_reports_what_the_quick_pass_missed).
UNSEEN_BY_THE_QUICK_PASS = {"indented dashes"}


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_quick_pass_declines_broken_files(name: str) -> None:
    data = BROKEN_FILES[name]
    if not article_from_bytes(data, ROOT / RELPATH, ROOT).loaded:
        answered = quick_summary(data, RELPATH) is not None
        assert answered == (name in UNSEEN_BY_THE_QUICK_PASS)
    else:
        check_quick(data)


@pytest.mark.parametrize(
    "fm",
    [
        "title:\n- item\n",  # YAML: the title is the list that follows at the margin
        "title: T\nseo:\n  title: S\n  page_keywords:\n  - a\n  - b\n",
    ],
)
def test_a_list_at_the_keys_own_margin_is_left_to_yaml(fm: str) -> None:
    data = f"---\n{fm}---\n&nbsp;\n".encode()
    assert quick_summary(data, RELPATH) is None
    assert not check_quick(data)


def test_quick_pass_reads_the_common_layout() -> None:
    assert quick_summary(f"---\n{GOOD_FM}---\n&nbsp;\n".encode(), RELPATH) is not None


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(front_matters(), st.sampled_from(["&nbsp;", "Body text."]))
def test_quick_values_match_for_generated_front_matter(fm: str, body: str) -> None:
    check_quick(f"---\n{fm}---\n\n{body}".encode())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_quick_values_match_for_arbitrary_text(text: str) -> None:
    check_quick(f"---\n{text}\n---\n".encode("utf-8", "surrogatepass"))
