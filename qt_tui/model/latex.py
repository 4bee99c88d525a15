"""Turn LaTeX math into readable Unicode text for a terminal (no TeX engine, no UI imports).

A small recursive-descent reader over LaTeX tokens. It never raises: unknown commands come out as
their source text and unbalanced braces are closed implicitly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import groupby
from typing import TypeAlias

__all__ = ["KNOWN_COMMANDS", "latex_to_unicode"]


def _words(spec: str) -> set[str]:
    """Read a whitespace-separated word list."""
    return set(spec.split())


def _pairs(spec: str) -> dict[str, str]:
    """Read a whitespace-separated "name value name value ..." table."""
    words = spec.split()
    return dict(zip(words[::2], words[1::2], strict=True))


# letter-like symbols: TeX swallows the space after them ("\pi r" is "πr")
_GREEK = _pairs(
    """alpha α beta β gamma γ delta δ epsilon ε varepsilon ε zeta ζ eta η theta θ vartheta ϑ
    iota ι kappa κ lambda λ mu μ nu ν xi ξ omicron ο pi π varpi ϖ rho ρ varrho ϱ sigma σ
    varsigma ς tau τ upsilon υ phi ϕ varphi φ chi χ psi ψ omega ω Gamma Γ Delta Δ Theta Θ
    Lambda Λ Xi Ξ Pi Π Sigma Σ Upsilon Υ Phi Φ Psi Ψ Omega Ω hbar ℏ ell ℓ imath ı jmath ȷ
    aleph ℵ Re ℜ Im ℑ wp ℘ infty ∞ partial ∂ nabla ∇ prime ′ degree °"""
)
_SYMBOLS = _GREEK | _pairs(
    """leq ≤ le ≤ geq ≥ ge ≥ neq ≠ ne ≠ approx ≈ equiv ≡ sim ∼ simeq ≃ cong ≅ propto ∝ ll ≪
    gg ≫ prec ≺ succ ≻ preceq ⪯ succeq ⪰ in ∈ notin ∉ ni ∋ subset ⊂ subseteq ⊆ supset ⊃
    supseteq ⊇ nsubseteq ⊈ nsupseteq ⊉ perp ⊥ parallel ∥ nparallel ∦ mid ∣ nmid ∤ leqslant ⩽
    geqslant ⩾ nleq ≰ ngeq ≱ nless ≮ ngtr ≯ ncong ≇ nsim ≁ doteq ≐ asymp ≍ vdash ⊢ models ⊨
    coloneqq ≔ triangleq ≜ to → rightarrow → leftarrow ← gets ← leftrightarrow ↔ Rightarrow ⇒
    Leftarrow ⇐ Leftrightarrow ⇔ iff ⟺ implies ⟹ impliedby ⟸ mapsto ↦ longrightarrow ⟶
    longleftarrow ⟵ Longrightarrow ⟹ Longleftarrow ⟸ uparrow ↑ downarrow ↓ nearrow ↗
    nwarrow ↖ searrow ↘ swarrow ↙ rightleftharpoons ⇌ nrightarrow ↛ nleftarrow ↚ nRightarrow ⇏
    nLeftarrow ⇍ nleftrightarrow ↮ nLeftrightarrow ⇎ pm ± mp ∓ times × cdot · div ÷ ast ∗
    star ⋆ circ ∘ bullet ∙ oplus ⊕ otimes ⊗ cup ∪ cap ∩ setminus ∖ land ∧ wedge ∧ lor ∨ vee ∨
    forall ∀ exists ∃ nexists ∄ neg ¬ lnot ¬ emptyset ∅ varnothing ∅ int ∫ iint ∬ iiint ∭
    oint ∮ sum ∑ prod ∏ coprod ∐ bigcup ⋃ bigcap ⋂ bigoplus ⨁ bigotimes ⨂ ldots … dots …
    cdots ⋯ vdots ⋮ ddots ⋱ therefore ∴ because ∵ angle ∠ measuredangle ∡ triangle △ square □
    top ⊤ bot ⊥ natural ♮ sharp ♯ flat ♭ dagger † ddagger ‡ checkmark ✓ langle ⟨ rangle ⟩
    lceil ⌈ rceil ⌉ lfloor ⌊ rfloor ⌋ lvert | rvert | vert | lVert ‖ rVert ‖ Vert ‖ lbrace {
    rbrace } backslash \\ { { } } % % $ $ & & # # _ _ | ‖"""
)
# relations and binary operators get one space either side ("μ = np", "a · b")
_SPACED = set("=<>≤≥≠≈≡∼≃≅∝≪≫≺≻⪯⪰∈∉∋⊂⊆⊃⊇⊈⊉⊥∥∦∣∤⩽⩾≰≱≮≯≇≁≐≍⊢⊨≔≜→←↔⇒⇐⇔⟺⟹⟸↦⟶⟵↗↖↘↙⇌↛↚⇏⇍↮⇎±∓×·÷∪∩∖∧∨⊕⊗∴∵")
_FUNCS = _words(
    """sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth log ln lg exp lim liminf
    limsup max min sup inf det dim ker deg gcd lcm arg Pr hom mod bmod"""
)
_SPACES = dict.fromkeys(_words(", : ; quad qquad enspace thinspace") | {" ", "\\", "\n"}, " ")
_SPACES |= dict.fromkeys(_words("! / nonumber notag limits nolimits displaystyle textstyle"), "")
_ACCENTS = _pairs(
    "vec \u20d7 hat \u0302 widehat \u0302 bar \u0304 overline \u0305 dot \u0307 ddot \u0308 "
    "tilde \u0303 widetilde \u0303 check \u030c breve \u0306 acute \u0301 grave \u0300 "
    "mathring \u030a underline \u0332 overrightarrow \u20d7"
)
_TEXTS = _words(
    """text textrm textit textbf textsf texttt textnormal mbox hbox emph mathrm mathit mathbf
    mathsf mathtt mathcal mathscr mathfrak mathnormal boldsymbol bm overbrace underbrace"""
)
_DELIMS = _words("left right middle") | {b + s for b in _words("big Big bigg Bigg") for s in "lrm"}
_DELIMS |= _words("big Big bigg Bigg")
# the first argument is dropped; a second one (\textcolor{red}{x}) is then read as a plain group
_DROP_ARG = _words("label color textcolor hspace vspace phantom end overset underset stackrel")
_BB = _pairs("R ℝ N ℕ Z ℤ Q ℚ C ℂ P ℙ E 𝔼 H ℍ")
_OTHER = "frac dfrac tfrac cfrac binom dbinom tbinom sqrt not begin mathbb operatorname pmod tag"

#: Every command name this module converts (used to tell `\nu` from a `\n` newline escape).
KNOWN_COMMANDS: frozenset[str] = frozenset(
    {*_SYMBOLS, *_FUNCS, *_SPACES, *_ACCENTS, *_TEXTS, *_DELIMS, *_DROP_ARG, *_words(_OTHER)}
) | {"newline"}

_SUP = dict(zip("0123456789+-−=()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾", strict=True)) | _pairs(
    """a ᵃ b ᵇ c ᶜ d ᵈ e ᵉ f ᶠ g ᵍ h ʰ i ⁱ j ʲ k ᵏ l ˡ m ᵐ n ⁿ o ᵒ p ᵖ r ʳ s ˢ t ᵗ u ᵘ v ᵛ w ʷ
    x ˣ y ʸ z ᶻ A ᴬ B ᴮ D ᴰ E ᴱ G ᴳ H ᴴ I ᴵ J ᴶ K ᴷ L ᴸ M ᴹ N ᴺ O ᴼ P ᴾ R ᴿ T ᵀ U ᵁ V ⱽ W ᵂ
    α ᵅ β ᵝ γ ᵞ δ ᵟ ε ᵋ θ ᶿ φ ᵠ ϕ ᵠ χ ᵡ"""
)
_SUB = dict(zip("0123456789+-−=()", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎", strict=True)) | _pairs(
    "a ₐ e ₑ h ₕ i ᵢ j ⱼ k ₖ l ₗ m ₘ n ₙ o ₒ p ₚ r ᵣ s ₛ t ₜ u ᵤ v ᵥ x ₓ β ᵦ γ ᵧ ρ ᵨ φ ᵩ ϕ ᵩ χ ᵪ"
)
_SCRIPT_CHARS = "′!" + "".join(_SUP.values()) + "".join(_SUB.values())
_VULGAR = _pairs(
    "1/2 ½ 1/3 ⅓ 2/3 ⅔ 1/4 ¼ 3/4 ¾ 1/5 ⅕ 2/5 ⅖ 3/5 ⅗ 4/5 ⅘ 1/6 ⅙ 5/6 ⅚ 1/7 ⅐ 1/8 ⅛ 3/8 ⅜ "
    "5/8 ⅝ 7/8 ⅞ 1/9 ⅑ 1/10 ⅒"
)
_CHARS = {"=": " = ", "<": " < ", ">": " > ", "~": " ", "&": " ", "'": "′"}
_ROOTS = {"": "√", "2": "√", "3": "∛", "4": "∜"}
_ENV_DELIMS = _pairs("pmatrix () bmatrix [] Bmatrix {} vmatrix || Vmatrix ‖‖ cases {.")
_MATRICES = {*_ENV_DELIMS, "matrix", "smallmatrix", "array"}  # anything else aligns like `aligned`
_GLYPHS = _pairs("( ⎛⎜⎝ ) ⎞⎟⎠ [ ⎡⎢⎣ ] ⎤⎥⎦ { ⎧⎨⎩ } ⎫⎬⎭")

_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.)|\s+|.", re.DOTALL)
_MARK = "\x00"  # follows a function name; becomes a space only before a letter or digit
_CLOSE = frozenset("}")
_TOP_STOPS = frozenset({"&", "\\\\"})
_ENV_STOPS = frozenset({"&", "\\\\", "\\end"})


@dataclass
class _Box:
    """A multi-line block (matrix, cases, aligned rows) plus its one-line fallback."""

    lines: list[str]
    flat: str


_Item: TypeAlias = str | _Box


def _width(text: str) -> int:
    """Terminal cells taken by `text` (combining marks take none, wide characters two)."""
    wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in text)
    return len(text) + wide - sum(bool(unicodedata.combining(ch)) for ch in text)


def _pad(text: str, width: int, how: str) -> str:
    """Pad `text` to `width` cells: how is "<" (left), ">" (right) or "^" (centre)."""
    gap = width - _width(text)
    left = {"<": 0, ">": gap, "^": gap // 2}[how]
    return " " * left + text + " " * (gap - left)


def _tidy(text: str) -> str:
    """Resolve function-name markers and collapse the spacing LaTeX would ignore."""
    text = re.sub(r"\s+", " ", re.sub(_MARK + r"(?=[^\W_])", " ", text).replace(_MARK, ""))
    return re.sub(r" ([)\]},;])", r"\1", re.sub(r"([(\[{]) ", r"\1", text))


def _flat(items: list[_Item], strip: bool = True) -> str:
    """Join items on one line (boxes use their one-line form)."""
    text = _tidy("".join(it if isinstance(it, str) else it.flat for it in items))
    return text.strip() if strip else text


def _wrapped(text: str) -> bool:
    """True when `text` is one parenthesised group, like "(a+b)" but not "(a)(b)"."""
    depth = 0
    for k, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and k < len(text) - 1:
            return False
    return text.startswith("(") and text.endswith(")")


def _atomic(text: str, strict: bool) -> bool:
    """Whether `text` can stand next to "/" or "√" without parentheses.

    Strict (denominators, roots): a number, one symbol, f(x) or a bracketed group; otherwise
    (numerators): anything without a top-level space or operator.
    """
    text = re.sub(r"[\^_](\([^()]*\)|\w)$", "", text)  # a trailing ^(…) binds tighter
    if not text or _wrapped(text):
        return True
    if text.startswith("√"):
        return _atomic(text[1:], True)
    core = text.rstrip(_SCRIPT_CHARS)
    core = "".join(ch for ch in core if not unicodedata.combining(ch)) or text
    if strict:
        return bool(re.fullmatch(r"[\d.]+|.|\w+\([^ ]*\)", core))
    depth = 0
    for ch in core:
        depth += (ch in "([") - (ch in ")]")
        if depth == 0 and (ch in " +-−/,;" or ch in _SPACED):
            return False
    return True


def _fraction(num: str, den: str) -> str:
    """\\frac as a vulgar fraction character when one exists, else num/den."""
    if f"{num}/{den}" in _VULGAR:
        return _VULGAR[f"{num}/{den}"]
    num = num if _atomic(num, False) else f"({num})"
    return f"{num}/{den if _atomic(den, True) else f'({den})'}"


def _script(text: str, sup: bool) -> str:
    """A superscript or subscript: Unicode script characters when all exist, else ^(...)."""
    text = text.strip()
    compact = text.replace(" ", "")
    table = _SUP if sup else _SUB
    if sup and compact in ("∘", "°"):
        return "°"
    if sup and compact and set(compact) == {"′"}:
        return compact
    if all(ch in table for ch in compact):
        return "".join(table[ch] for ch in compact)
    bare = _width(text) == 1 or _wrapped(text) or (len(text) > 2 and text.isalpha())
    return ("^" if sup else "_") + (text if bare else f"({text})")


def _accent(text: str, mark: str) -> str:
    """Put a combining accent on a character (on every character for bars)."""
    if mark in "\u0304\u0305\u0332" and _width(text) > 1:
        text = "".join(ch if unicodedata.combining(ch) else ch + mark for ch in text)
    elif text:
        text += mark
    return unicodedata.normalize("NFC", text)


def _tall(delim: str, height: int) -> list[str]:
    """A bracket `height` rows tall made of box-drawing pieces."""
    if height == 1 or delim not in _GLYPHS:
        return [delim.strip(".")] * height
    top, mid, bottom = (_GLYPHS[delim][k] for k in range(3))
    rows = [top] + ["⎪" if delim in "{}" else mid] * (height - 2) + [bottom]
    if delim in "{}" and height > 2:
        rows[(height - 1) // 2] = mid
    return rows


def _environment(name: str, rows: list[list[str]]) -> _Box:
    """Lay out the rows and cells of a matrix-like or aligned environment."""
    name = name.rstrip("*")
    while rows and rows[-1] in ([], [""]):
        rows.pop()
    rows = rows or [[""]]
    left, right = (_ENV_DELIMS.get(name, "..")[k] for k in range(2))
    ncols = max(len(r) for r in rows)
    grid = [r + [""] * (ncols - len(r)) for r in rows]
    widths = [max(_width(r[c]) for r in grid) for c in range(ncols)]
    aligned = name not in _MATRICES
    if aligned:  # columns alternate right/left around the & (a single column is left-aligned)
        hows = [">" if c % 2 == 0 and ncols > 1 else "<" for c in range(ncols)]
    else:
        hows = ["<" if name == "cases" else "^"] * ncols
    sep = " " if aligned else "  "
    lines = [
        sep.join(_pad(cell, w, h) for cell, w, h in zip(r, widths, hows, strict=True)) for r in grid
    ]
    frame = zip(_tall(left, len(lines)), lines, _tall(right, len(lines)), strict=True)
    lines = [(lc + " " if lc else "") + line + (" " + rc if rc else "") for lc, line, rc in frame]
    if not right.strip("."):
        lines = [line.rstrip() for line in lines]
    flat = "; ".join((", " if name == "cases" else " ").join(c for c in r if c) for r in rows)
    return _Box(lines, left.strip(".") + flat + right.strip("."))


class _Parser:
    """Recursive-descent reader over LaTeX tokens producing Unicode text items."""

    def __init__(self, tex: str) -> None:
        self.toks = ["\\\\" if t == "\\newline" else t for t in _TOKEN.findall(tex)]
        self.pos = 0
        self.eat = False  # drop whitespace after a letter-like command (as TeX does)

    def peek(self) -> str:  # "" at the end
        return self.toks[self.pos] if self.pos < len(self.toks) else ""

    def take_if(self, tok: str) -> bool:
        found = self.peek() == tok
        self.pos += found
        return found

    def skip_ws(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def seq(self, stops: frozenset[str]) -> list[_Item]:
        """Read items until a stop token (left unread) or the end."""
        parts: list[_Item] = []
        while (tok := self.peek()) and tok not in stops:
            self.pos += 1
            eat, self.eat = self.eat, False
            if tok.isspace():  # kept for readability, except where TeX's own rules drop it
                nxt = self.peek()
                last = parts[-1][-1:] if parts and isinstance(parts[-1], str) else ""
                letter = nxt.isalpha() or (nxt[:1] == "\\" and nxt[1:] in _GREEK)
                after_digit = last.isascii() and last.isdigit() and letter
                if not (after_digit or (eat and (nxt[:1].isalnum() or nxt[:1] == "\\"))):
                    parts.append(" ")
            elif tok in ("^", "_"):
                if parts and isinstance(parts[-1], str):
                    parts[-1] = parts[-1].rstrip(_MARK)
                parts.append(_script(self.group(), tok == "^"))
            elif tok == "{":
                parts.extend(self.seq(_CLOSE))
                self.take_if("}")
            elif tok.startswith("\\") and len(tok) > 1:
                parts.append(self.command(tok[1:]))
            elif tok != "}":  # a stray "}" is dropped
                parts.append(_CHARS.get(tok, tok))
        self.eat = False
        return parts

    def group(self, strip: bool = True) -> str:
        """Read one argument: a braced group, a command or a single character."""
        self.skip_ws()
        tok = self.peek()
        if not tok or tok == "}":
            return ""
        self.pos += 1
        if tok == "{":
            items = self.seq(_CLOSE)
            self.take_if("}")
            return _flat(items, strip)
        if tok.startswith("\\") and len(tok) > 1:
            item = self.command(tok[1:])
            self.eat = False
            return _flat([item])
        return _CHARS.get(tok, tok).strip()

    def raw(self, opener: str = "{") -> str | None:
        """Source text of the next {..} argument (or optional [..] one); None when absent."""
        save, closer = self.pos, "}" if opener == "{" else "]"
        self.skip_ws()
        if not self.take_if(opener):
            self.pos = save
            return None
        start, depth = self.pos, 0
        while (tok := self.peek()) and (tok != closer or depth):
            depth += (tok == "{") - (tok == "}")
            self.pos += 1
        text = "".join(self.toks[start : self.pos])
        self.take_if(closer)
        return text

    def rows(self, stops: frozenset[str]) -> list[list[list[_Item]]]:
        """Read cells separated by & and rows separated by \\\\."""
        rows: list[list[list[_Item]]] = [[]]
        while True:
            rows[-1].append(self.seq(stops))
            if self.take_if("&"):
                continue
            if not self.take_if("\\\\"):
                return rows
            self.raw("[")
            rows.append([])

    def command(self, name: str) -> _Item:
        """Convert one control sequence (its arguments are read as needed)."""
        if name in _SYMBOLS:
            sym = _SYMBOLS[name]
            self.eat = name in _GREEK
            return f" {sym} " if sym in _SPACED else sym
        if name in _SPACES:
            return _SPACES[name]
        if name in _FUNCS:
            self.eat = True
            return f" {name} " if name in ("mod", "bmod") else name + _MARK
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            return _fraction(self.group(), self.group())
        if name in ("binom", "dbinom", "tbinom"):
            return f"C({self.group()}, {self.group()})"
        if name == "sqrt":
            index = latex_to_unicode(self.raw("[") or "", multiline=False)
            body = self.group()
            root = _ROOTS.get(index) or _script(index, True) + "√"
            return root + (body if _atomic(body, True) else f"({body})")
        if name in _ACCENTS:
            return _accent(self.group(), _ACCENTS[name])
        if name in _TEXTS:
            return self.group(strip=False)
        if name == "mathbb":
            return "".join(_BB.get(ch, ch) for ch in self.group())
        if name == "operatorname":
            return self.group() + _MARK
        if name in _DELIMS:  # \left( \bigr] … : just the delimiter ("." is none)
            return self.group().strip(".")
        if name == "not":
            nxt = self.group()
            return f" {unicodedata.normalize('NFC', nxt + chr(0x338))} " if nxt else ""
        if name == "begin":
            return self.environment()
        if name in _DROP_ARG:
            self.raw()
            return " " if name == "hspace" else ""
        if name in ("pmod", "tag"):
            return f" ({'mod ' if name == 'pmod' else ''}{self.group()})"
        return self.unknown(name)

    def environment(self) -> _Box:
        """Read \\begin{name} ... \\end{name} into a box of rows."""
        name = self.raw() or ""
        if name.rstrip("*") in ("array", "alignat", "alignedat"):
            self.raw()
        self.raw("[")
        grid = self.rows(_ENV_STOPS)
        if self.take_if("\\end"):
            self.raw()
        return _environment(name, [[_flat(cell) for cell in row] for row in grid])

    def unknown(self, name: str) -> str:
        """Keep an unknown command as source text, with its braced arguments converted."""
        text = "\\" + name
        while self.take_if("{"):
            text += "{" + _flat(self.seq(_CLOSE)) + "}"
            self.take_if("}")
        return text


def _layout(items: list[_Item]) -> str:
    """Place one-line text and multi-line boxes side by side, centred on a shared row."""
    if not any(isinstance(it, _Box) for it in items):
        return _flat(items)
    blocks: list[list[str]] = []
    for is_box, run in groupby(items, key=lambda it: isinstance(it, _Box)):
        part = list(run)
        blocks += (
            [b.lines for b in part if isinstance(b, _Box)] if is_box else [[_flat(part, False)]]
        )
    centre = max((len(b) - 1) // 2 for b in blocks)
    height = max(centre - (len(b) - 1) // 2 + len(b) for b in blocks)
    out = [""] * height
    for block in blocks:
        top = centre - (len(block) - 1) // 2
        width = max(_width(line) for line in block)
        for row in range(height):
            line = block[row - top] if 0 <= row - top < len(block) else ""
            out[row] += line + " " * (width - _width(line))
    start = min((len(line) - len(line.lstrip()) for line in out if line.strip()), default=0)
    return "\n".join(line[start:].rstrip() for line in out)


def latex_to_unicode(tex: str, *, multiline: bool = True) -> str:
    """Convert a LaTeX math expression to readable Unicode text; never raises.

    With ``multiline`` (display math) matrices, cases and ``\\\\`` rows become one line per row;
    without it (inline math) everything stays on one line, rows separated by "; ".
    """
    try:
        parser = _Parser(tex)
        grid = parser.rows(_TOP_STOPS)
        if len(grid) == 1 and len(grid[0]) == 1:
            items = grid[0][0]
        else:
            items = [_environment("aligned", [[_flat(cell) for cell in row] for row in grid])]
        return _layout(items) if multiline else _flat(items)
    except RecursionError:  # absurdly deep nesting: show the source rather than fail
        return tex
