"""Tests for decoding stored answers and rendering their math as Unicode Markdown."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import mistune
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from qt_tui.model.answer import answer_to_markdown, decode_escapes, render_math

# ---------------------------------------------------------------- decode_escapes


def test_newline_escapes_outside_math_become_newlines() -> None:
    assert decode_escapes(r"one\n\ntwo\nthree") == "one\n\ntwo\nthree"
    assert decode_escapes(r"\nu outside math\nabla") == "\nu outside math\nabla"


def test_vmatrix_row_break_then_newline() -> None:
    raw = r"$$\n\begin{vmatrix}\n a & b \\\n c & d\n\end{vmatrix}\n$$"
    assert decode_escapes(raw) == "$$\n\\begin{vmatrix}\n a & b \\\\\n c & d\n\\end{vmatrix}\n$$"


def test_n_commands_inside_math_are_kept() -> None:
    assert decode_escapes(r"so $\nu \neq 0$\nnext") == "so $\\nu \\neq 0$\nnext"
    assert decode_escapes(r"$$\n\nabla f\n$$") == "$$\n\\nabla f\n$$"
    assert decode_escapes(r"\( a \not\in B \ni c \)") == r"\( a \not\in B \ni c \)"
    assert decode_escapes(r"\[\n x \notin A\n\]") == "\\[\n x \\notin A\n\\]"
    # a letter run that is no command is a newline, even inside math
    assert decode_escapes(r"$$\nx = 1\n$$") == "$$\nx = 1\n$$"


def test_doubled_backslash_is_one_token() -> None:
    assert decode_escapes(r"$a \\nu$") == r"$a \\nu$"
    assert decode_escapes(r"C:\\new") == r"C:\\new"


def test_other_backslashes_are_untouched() -> None:
    raw = r"$\theta \times \frac{1}{2} \text{ and } \tau$\n\t \b \( x \) C:\Users\x"
    assert decode_escapes(raw) == raw.replace(r"$\n", "$\n")


def test_backslash_in_code_block_is_kept() -> None:
    raw = r"intro:\n\n   ```python\n   V = Y_Mat\b; % solve\n   ```\n\nend"
    out = decode_escapes(raw)
    assert "   V = Y_Mat\\b; % solve\n" in out
    assert out.count("\n") == 6


def test_non_ascii_and_real_newlines_are_untouched() -> None:
    raw = "Here’s ±0.002 g/mL — café\nalready a newline\\nand an escape"
    assert decode_escapes(raw) == "Here’s ±0.002 g/mL — café\nalready a newline\nand an escape"


def test_currency_dollar_is_not_math() -> None:
    assert decode_escapes(r"costs $5 and $6\nnext") == "costs $5 and $6\nnext"
    assert decode_escapes(r"price \$5\nnext") == "price \\$5\nnext"


# ---------------------------------------------------------------- render_math


def test_inline_math_becomes_unicode() -> None:
    out = render_math(r"Mean, \( \mu = np \) and $\sigma^2 = npq$.")
    assert out == "Mean, μ = np and σ² = npq."
    assert "\\(" not in out


def test_inline_math_escapes_markdown_characters() -> None:
    assert render_math(r"vector $(A_x, A_y)$ and $|x|$") == r"vector (Aₓ, A\_y) and \|x\|"


def test_display_block_in_list_keeps_indentation() -> None:
    md = "2. Formula:\n   $$\n   P = \\frac{1}{2}\n   $$\n   after\n"
    assert render_math(md) == "2. Formula:\n   ```math\n   P = ½\n   ```\n   after\n"
    md2 = "text\n\\[\nx^2\n\\]\nmore"
    assert render_math(md2) == "text\n```math\nx²\n```\nmore"


def test_display_math_inline_in_a_paragraph_stays_inline() -> None:
    assert render_math("text $$x^2$$ more") == "text x² more"


def test_multirow_display_math_gives_one_fenced_line_per_row() -> None:
    md = "   $$\n   \\begin{pmatrix}\n   1 & 0 \\\\\n   0 & 1\n   \\end{pmatrix}\n   $$"
    assert render_math(md) == "   ```math\n   ⎛ 1  0 ⎞\n   ⎝ 0  1 ⎠\n   ```"


def test_code_is_left_alone() -> None:
    md = "```python\nx = r'\\(a\\)' + '$b$'\n```\nand `$c$` and \\(d\\)\n~~~\n$$e$$\n~~~\n"
    assert (
        render_math(md)
        == "```python\nx = r'\\(a\\)' + '$b$'\n```\nand `$c$` and d\n~~~\n$$e$$\n~~~\n"
    )


def test_currency_does_not_break() -> None:
    assert render_math("costs $5 and $6 today") == "costs $5 and $6 today"
    assert render_math("costs $5 (`$HOME`) and $x$") == "costs $5 (`$HOME`) and x"
    assert isinstance(render_math("a lone $ sign, $$ and \\( unclosed"), str)


def test_answer_to_markdown_chains_both_steps() -> None:
    raw = r"Let \( x = 2 \):\n   $$\n   \nabla \cdot E = \frac{\rho}{\epsilon_0}\n   $$"
    assert answer_to_markdown(raw) == "Let x = 2:\n   ```math\n   ∇ · E = ρ/ε₀\n   ```"


@given(st.text(alphabet="\\n$()[]`~ ax{}^_\n", max_size=60))
def test_never_raises(raw: str) -> None:
    assert isinstance(answer_to_markdown(raw), str)


# ---------------------------------------------------------------- real corpus

_DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared/corpus/quicktakes-real"
_FORBIDDEN = [r"\frac", r"\binom", r"\left", r"\right", r"\sqrt", r"\sum", r"\int", r"\begin"]
_FORBIDDEN += [r"\(", r"\[", "$$"]
_SYMBOLS = {
    "nabla": "∇", "neq": "≠", "nu": "ν", "theta": "θ", "times": "×", "mu": "μ", "sigma": "σ",
    "lambda": "λ", "epsilon": "ε", "pi": "π", "infty": "∞", "leq": "≤", "geq": "≥", "beta": "β",
    "alpha": "α", "cdot": "·", "approx": "≈", "to": "→", "int": "∫", "sum": "∑", "sqrt": "√",
}  # fmt: skip
_CODE_FENCE = re.compile(r"^[ \t]*```(?!math)\w*\n.*?^[ \t]*```[ \t]*$", re.M | re.S)


def _corpus() -> Path:
    folder = Path(os.environ.get("QT_REAL_CORPUS") or _DEFAULT_CORPUS)
    if not folder.is_dir():
        pytest.skip(f"real corpus folder absent: {folder}")
    return folder


def _front_matter(path: Path) -> dict[str, Any]:
    lines = path.read_text(encoding="utf-8").splitlines()
    end = lines.index("---", 1)
    data = yaml.safe_load("\n".join(lines[1:end]))
    assert isinstance(data, dict)
    return data


def _math_fences(tokens: list[dict[str, Any]]) -> int:
    count = 0
    for tok in tokens:
        if tok["type"] == "block_code" and tok.get("attrs", {}).get("info") == "math":
            count += 1
        count += _math_fences(tok.get("children") or [])
    return count


def test_every_real_answer_renders_cleanly() -> None:
    files = sorted(_corpus().glob("*/*.md"))
    assert files
    parse = mistune.create_markdown(renderer="ast")
    for path in files:
        raw = _front_matter(path)["answer"]
        out = answer_to_markdown(raw)
        name = path.name
        assert "\\n" not in out, name
        prose = _CODE_FENCE.sub("", out)
        for token in _FORBIDDEN:
            assert token not in prose, (name, token)
        for cmd in set(re.findall(r"\\([A-Za-z]+)(?![A-Za-z])", raw)) & set(_SYMBOLS):
            assert _SYMBOLS[cmd] in out, (name, cmd)
            assert f"\\{cmd}" not in prose, (name, cmd)
        for fragment in ("abla", "heta", "imes", "rac{", "inom{", "qrt{"):
            assert fragment not in prose or fragment in raw.replace("\\n", " "), (name, fragment)
        tokens = parse(out)
        assert isinstance(tokens, list), name
        assert _math_fences(tokens) == len(re.findall(r"^[ \t]*```math$", out, re.M)), name


def test_real_code_block_backslash_is_preserved() -> None:
    folder = _corpus()
    for path in folder.glob("engineering/*.md"):
        out = answer_to_markdown(_front_matter(path)["answer"])
        if "Y_Mat" in out:
            assert "   V = Y_Mat\\b; % Solve for node voltages\n" in out
            assert "   ```python\n   clear all; close all; clc\n" in out
            return
    pytest.skip("engineering article with the Y_Mat code block absent")


def test_real_cross_product_matrix_is_laid_out() -> None:
    path = _corpus() / "physics/how-is-the-cross-product-calculated-between-two-vectors.md"
    if not path.exists():
        pytest.skip("cross product article absent")
    out = answer_to_markdown(_front_matter(path)["answer"])
    assert "   | î    ĵ    k̂  |\n   | Aₓ  A_y  A_z |\n   | Bₓ  B_y  B_z |\n" in out
    assert "(AₓB_y - A_yBₓ) k̂" in out
