"""The model must stay usable without a terminal: importing it never imports Textual."""

from __future__ import annotations

import subprocess
import sys


def test_model_does_not_import_textual() -> None:
    code = (
        "import sys, qt_tui.model.library, qt_tui.model.loading, qt_tui.model.answer, "
        "qt_tui.model.markdown, qt_tui.model.yamlsafe, qt_tui.cli\n"
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
