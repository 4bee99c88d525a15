"""Tests for the LaTeX-to-Unicode converter."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qt_tui.model.latex import latex_to_unicode


@pytest.mark.parametrize(
    ("tex", "expected"),
    [
        (r"\mu = np", "μ = np"),
        (r"\sigma^2 = npq", "σ² = npq"),
        (r"\frac{1}{2}", "½"),
        (r"\dfrac{3}{4} + \tfrac{1}{3}", "¾ + ⅓"),
        (r"\frac{5}{16}", "5/16"),
        (r"\frac{x+1}{2}", "(x+1)/2"),
        (r"\frac{\sigma}{2\epsilon_0}", "σ/(2ε₀)"),
        (r"\frac{dq}{r^2}", "dq/r²"),
        (r"\sqrt{x}", "√x"),
        (r"\sqrt{a^2+b^2}", "√(a²+b²)"),
        (r"\sqrt[3]{x}", "∛x"),
        (r"P(X \geq 4)", "P(X ≥ 4)"),
        (r"x \to \infty", "x → ∞"),
        (r"n^{x}", "nˣ"),
        (r"q^{n-x}", "qⁿ⁻ˣ"),
        (r"e^{-\lambda}", "e^(-λ)"),
        (r"x_i", "xᵢ"),
        (r"A_y", "A_y"),
        (r"r'^2", "r′²"),
        (r"90^\circ", "90°"),
        (r"\vec{A}", "A\u20d7"),
        (r"\hat{i}", "î"),
        (r"\bar{x}", "x̄"),
        (r"\left. x\right|", "x|"),
        (r"\bigl( x \bigr]", "(x]"),
        (r"\{ 1, 2 \}", "{1, 2}"),
        (r"50\% \$ \&", "50% $ &"),
        (r"\sin \theta + \cos(\alpha)", "sin θ + cos(α)"),
        (r"\operatorname{Var}(X)", "Var(X)"),
        (r"\mathbb{R}^n", "ℝⁿ"),
        (r"\not= \not\in", "≠ ∉"),
        (r"a \pm b \mp c \times d \cdot e \div f", "a ± b ∓ c × d · e ÷ f"),
        (r"x \leq y \neq z \approx w \equiv v \propto u", "x ≤ y ≠ z ≈ w ≡ v ∝ u"),
        (r"\forall x \in A, \exists y \notin B", "∀ x ∈ A, ∃ y ∉ B"),
        (r"1, 2, \ldots, n", "1, 2, …, n"),
        (r"f(x) \, dx", "f(x) dx"),
        (r"a\!b", "ab"),
        (r"\underbrace{a+b}_{2}", "a+b₂"),
    ],
)
def test_exact_conversions(tex: str, expected: str) -> None:
    assert latex_to_unicode(tex) == expected


def test_greek_and_n_commands() -> None:
    assert latex_to_unicode(r"\nu \neq \nabla \theta \times") == "ν ≠ ∇θ ×"
    out = latex_to_unicode(r"\alpha \beta \Gamma \Omega \epsilon \varepsilon \phi \varphi")
    assert out == "αβΓΩεεϕφ"
    for tex, sym in [(r"\notin", "∉"), (r"\neg", "¬"), (r"\ni", "∋"), (r"\nexists", "∄")]:
        assert latex_to_unicode(tex) == sym


def test_fraction_powers_and_binomial() -> None:
    assert "(½)²" in latex_to_unicode(r"\left(\frac{1}{2}\right)^2")
    binom = latex_to_unicode(r"\binom{n}{x}")
    assert "\\" not in binom
    assert binom == "C(n, x)"
    full = latex_to_unicode(
        r"P(X = 2) = \binom{5}{2} \left(\frac{1}{2}\right)^2 \left(\frac{1}{2}\right)^{5-2}"
    )
    assert full == "P(X = 2) = C(5, 2) (½)² (½)⁵⁻²"


def test_big_operators_take_scripts() -> None:
    out = latex_to_unicode(r"\sum_{i=1}^{n} x_i")
    assert "∑ᵢ₌₁ⁿ" in out
    assert "xᵢ" in out
    assert latex_to_unicode(r"\int_{a}^{b} f(x) \, dx") == "∫ₐᵇ f(x) dx"
    assert latex_to_unicode(r"\int_{-\infty}^{x} f") == "∫_(-∞)ˣ f"
    assert latex_to_unicode(r"\lim_{x \to 0} f") == "lim_(x → 0) f"


def test_text_commands_keep_their_spaces() -> None:
    out = latex_to_unicode(r"H_0: \beta_1 = 0 \text{ and } \beta_2 = 0")
    assert out == "H₀: β₁ = 0 and β₂ = 0"
    assert latex_to_unicode(r"\mathrm{d}x \mathbf{v} \textbf{bold}") == "dx v bold"


def test_unknown_commands_degrade_to_source() -> None:
    assert "\\foo" in latex_to_unicode(r"\foo{x}")
    assert latex_to_unicode(r"\foo{x} + 1") == r"\foo{x} + 1"


@pytest.mark.parametrize("tex", [r"\frac{1}{", r"\frac{1}", "}{", "x^", r"\sqrt[", "\\", "{{{"])
def test_malformed_input_does_not_raise(tex: str) -> None:
    assert isinstance(latex_to_unicode(tex), str)


def test_deep_nesting_does_not_raise() -> None:
    assert isinstance(latex_to_unicode("{" * 5000 + "x" + "}" * 5000), str)


def test_vmatrix_becomes_one_line_per_row() -> None:
    tex = (
        r"\vec{A} \times \vec{B} = \begin{vmatrix} \hat{i} & \hat{j} & \hat{k} \\"
        r" A_x & A_y & A_z \\ B_x & B_y & B_z \end{vmatrix}"
    )
    lines = latex_to_unicode(tex).split("\n")
    assert len(lines) == 3
    assert lines[1].startswith("A⃗ × B⃗ = | Aₓ")
    assert all(line.rstrip().endswith("|") for line in lines)
    bare = ["".join(ch for ch in line if not unicodedata.combining(ch)) for line in lines]
    assert len({line.index("|") for line in bare}) == 1  # the bars line up
    assert latex_to_unicode(tex, multiline=False) == "A⃗ × B⃗ = |î ĵ k̂; Aₓ A_y A_z; Bₓ B_y B_z|"


def test_other_environments() -> None:
    assert latex_to_unicode(r"\begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}") == "⎛ 1  0 ⎞\n⎝ 0  1 ⎠"
    assert latex_to_unicode(r"\begin{bmatrix} a & b \end{bmatrix}") == "[ a  b ]"
    cases = latex_to_unicode(r"|x| = \begin{cases} x & x \geq 0 \\ -x & x < 0 \end{cases}")
    assert cases.split("\n") == ["|x| = ⎧ x   x ≥ 0", "      ⎩ -x  x < 0"]
    aligned = latex_to_unicode(r"\begin{aligned} a &= b + c \\ &= d \end{aligned}")
    assert aligned.split("\n") == ["a = b + c", "  = d"]
    assert latex_to_unicode(r"\begin{array}{cc} 1 & 2 \\ 3 & 4 \end{array}") == "1  2\n3  4"
    assert latex_to_unicode(r"x = 1 \\ y = 2") == "x = 1\ny = 2"


_TOKEN_LIST = r"""\frac \sqrt \left( \right) \begin{vmatrix} \end{vmatrix} \begin{cases}
    \\ & { } [ ] ^ _ \text{ a } \binom \vec \not \foo x 1 = - ' \alpha \sum \sin \left. \, \ \ $"""
_TOKENS = st.sampled_from([*_TOKEN_LIST.split(), " ", "\\", "\n", "\ne"])


@given(st.lists(_TOKENS, max_size=30).map("".join))
def test_never_raises(tex: str) -> None:
    assert isinstance(latex_to_unicode(tex), str)
    assert "\n" not in latex_to_unicode(tex, multiline=False)
