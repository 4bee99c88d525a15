"""The command line: --help, --version, and one-line errors with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from qt_tui import __version__
from qt_tui.cli import main
from tests.conftest import REPO, SAMPLE


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qt_tui", *args], capture_output=True, text=True, timeout=60
    )


def test_version_and_help() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"qt-tui {__version__}"
    result = run("--help")
    assert result.returncode == 0
    assert "content folder" in result.stdout


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing", "no such file or folder"),
        (lambda tmp: tmp, "no articles"),
        (lambda tmp: (tmp / "notes.txt").write_text("x") and tmp / "notes.txt", "not a Markdown"),
    ],
)
def test_bad_paths_give_one_line_and_status_2(tmp_path: Path, make, message: str) -> None:
    result = run(str(make(tmp_path)))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qt-tui: ") and message in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any folder")
def test_unreadable_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.md").write_text("---\nid: 1\n---\n")
    locked.chmod(0)
    try:
        status = main([str(locked)])
    finally:
        locked.chmod(0o755)
    err = capsys.readouterr().err
    assert status == 2 and "cannot read" in err


def test_stylesheets_ship_inside_the_wheel(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("qt_tui-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "qt_tui/styles/app.tcss" in names
    assert any(name.endswith("entry_points.txt") for name in names)


def test_sample_content_is_found() -> None:
    from qt_tui.cli import resolve_target

    root, selected = resolve_target(str(SAMPLE))
    assert root == SAMPLE.resolve() and selected is None
    article = next(SAMPLE.rglob("*.md"))
    root, selected = resolve_target(str(article))
    assert root == article.parent.resolve() and selected == article.resolve()
