"""Shared fixtures: where the sample and real corpora are, and a clean environment."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_content"
REAL_CORPUS = Path(
    os.environ.get("QT_REAL_CORPUS", REPO.parent / "shared" / "corpus" / "quicktakes-real")
)


def real_corpus_files() -> list[Path]:
    """Every article of the real corpus (empty when the folder is absent)."""
    if not REAL_CORPUS.is_dir():
        return []
    return sorted(p for p in REAL_CORPUS.rglob("*.md") if p.name != "README.md")


@pytest.fixture
def real_corpus() -> Path:
    """The real corpus folder; skips (with the reason shown) when it is absent."""
    if not real_corpus_files():
        pytest.skip(f"real corpus not found at {REAL_CORPUS} (set QT_REAL_CORPUS)")
    return REAL_CORPUS


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A writable copy of sample_content/."""
    target = tmp_path / "content"
    shutil.copytree(SAMPLE, target)
    return target


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep the user's own cache and config out of every test."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
