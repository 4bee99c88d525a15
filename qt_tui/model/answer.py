"""Turn an article's raw `answer` into Markdown a Markdown widget can show (no UI imports).

The stored answer is one long line in which newlines are written as the two characters ``\\n``,
with LaTeX math in ``\\( \\)``, ``$ $``, ``\\[ \\]`` and ``$$ $$``. :func:`decode_escapes` restores
the newlines without breaking LaTeX commands such as ``\\nabla``; :func:`render_math` replaces every
math span with Unicode text before any Markdown parser sees it.
"""

from __future__ import annotations

import re

from qt_tui.model.latex import KNOWN_COMMANDS, latex_to_unicode

__all__ = ["answer_to_markdown", "decode_escapes", "render_math"]

#: LaTeX command names starting with "n": inside math, "\\nabla" is a command, not "\\n" + "abla".
N_COMMANDS: frozenset[str] = frozenset(name for name in KNOWN_COMMANDS if name.startswith("n")) | {
    "newcommand",
    "noindent",
    "normalsize",
    "nolinebreak",
    "negthinspace",
}

_LETTERS = re.compile(r"[A-Za-z]+")
_BACKTICKS = re.compile(r"`+")
_FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})")
_MD_SPECIAL = re.compile(r"([\\`*_\]<>|~&])")  # an escaped "]" alone stops any link


def _letters(text: str, i: int) -> str:
    """The run of ASCII letters starting at ``i`` (a LaTeX command name after a backslash)."""
    m = _LETTERS.match(text, i)
    return m.group() if m else ""


def _newline_escape(text: str, i: int) -> int:
    """Length of the newline at ``text[i]``: 1 for a real one, 2 for a ``\\n`` escape, else 0.

    A backslash followed by a known command such as ``\\nu`` counts as no newline.
    """
    if text.startswith("\n", i):
        return 1
    if text.startswith("\\n", i) and _letters(text, i + 1) not in N_COMMANDS:
        return 2
    return 0


def _blank_line_at(text: str, i: int) -> bool:
    """Whether the text from ``i`` (just after a newline) is a blank line."""
    while i < len(text) and text[i] in " \t":
        i += 1
    return i >= len(text) or _newline_escape(text, i) > 0


def _dollar_end(text: str, i: int) -> int | None:
    """Index of the ``$`` closing inline math opened by the ``$`` at ``i``, or None.

    The closing ``$`` must come before a blank line and any code span, and must not be followed
    by a digit, so currency such as "$5 and $6" is not taken for math.
    """
    j = i + 1
    while j < len(text):
        newline = _newline_escape(text, j)
        if newline:
            if _blank_line_at(text, j + newline):
                return None
            j += newline
        elif text[j] == "\\":
            j += 2
        elif text[j] == "`":  # a code span inside is a sign this "$" was no math
            return None
        elif text[j] == "$" and not text[j + 1 : j + 2].isdigit():
            return j if text[i + 1 : j].strip() else None
        else:
            j += 1
    return None


def _math_span(text: str, i: int) -> tuple[int, int, bool] | None:
    """If math opens at ``i``: (length of its delimiters, index of the closer, is display)."""
    for opener, closer in (("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$")):
        if text.startswith(opener, i):
            j = text.find(closer, i + 2)
            return (2, j, opener != "\\(") if j >= 0 else None
    if text.startswith("$", i):
        j2 = _dollar_end(text, i)
        return None if j2 is None else (1, j2, False)
    return None


def _code_span_end(text: str, i: int) -> int:
    """End of the inline code span whose backtick run starts at ``i`` (or -1 when unclosed)."""
    size = len(text) - i - len(text[i:].lstrip("`"))
    for m in _BACKTICKS.finditer(text, i + size):
        if len(m.group()) == size:
            return m.end()
    return -1


def decode_escapes(raw: str) -> str:
    """Turn every ``\\n`` escape into a real newline, except where it starts a LaTeX command.

    Inside math a backslash followed by a known command (``\\nu``, ``\\neq``, ``\\nabla`` …) is
    kept; ``\\\\`` is one token (a LaTeX row break) so ``\\\\\\n`` is a row break then a newline.
    Every other backslash (``\\t``, ``\\frac``, ``\\b`` in code) is left exactly as it is.
    """
    out: list[str] = []
    i, n = 0, len(raw)
    math_end, closer_len, code_end = -1, 0, -1
    fence = ""
    at_line_start = True  # only blanks emitted since the last newline

    def emit(piece: str) -> None:
        nonlocal at_line_start
        if "\n" in piece:
            at_line_start = not piece.rsplit("\n", 1)[1].strip()
        elif piece.strip():
            at_line_start = False
        out.append(piece)

    while i < n:
        if math_end >= 0 and i >= math_end:
            if i == math_end:
                emit(raw[i : i + closer_len])
                i += closer_len
            math_end = -1
            continue
        c = raw[i]
        free = math_end < 0 and not fence and i >= code_end  # math may open here
        if c == "\\" and raw.startswith("\\n", i):
            name = _letters(raw, i + 1)
            keep = math_end >= 0 and name in N_COMMANDS
            emit("\\" + name if keep else "\n")
            i += 1 + len(name) if keep else 2
            continue
        span = _math_span(raw, i) if free and c in "\\$" else None
        if span:
            math_end, closer_len = span[1], span[0]
            emit(raw[i : i + span[0]])
            i += span[0]
        elif c == "\\":
            emit(raw[i : i + 2])
            i += 2
        elif c in "`~" and math_end < 0 and i >= code_end:
            size = len(raw[i:]) - len(raw[i:].lstrip(c))
            if at_line_start and size >= 3:
                if not fence:
                    fence = c * size
                elif c == fence[0] and size >= len(fence):
                    fence = ""
            elif c == "`" and not fence:
                code_end = _code_span_end(raw, i)
            emit(c * size)
            i += size
        else:
            emit(c)
            i += 1
    return "".join(out)


def _escape_markdown(text: str) -> str:
    """Backslash-escape characters a Markdown renderer would treat as markup."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _render_text(text: str) -> str:
    """Replace the math spans in Markdown text that holds no fenced code block."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        span = _math_span(text, i) if c in "\\$" else None
        if span:
            size, j, display = span
            end = j + size
            tex = text[i + size : j]
            line_start = text.rfind("\n", 0, i) + 1
            line_end = text.find("\n", end)
            line_end = n if line_end < 0 else line_end
            indent = text[line_start:i]
            if display and not indent.strip() and not text[end:line_end].strip():
                done = "".join(out)
                out = [done[: len(done) - len(indent)]]
                body = [indent + line if line else "" for line in latex_to_unicode(tex).split("\n")]
                out.append("\n".join([indent + "```math", *body, indent + "```"]))
                i = line_end
            else:
                out.append(_escape_markdown(latex_to_unicode(tex, multiline=False)))
                i = end
        elif c == "\\":
            out.append(text[i : i + 2])
            i += 2
        elif c == "`":
            size = len(text[i:]) - len(text[i:].lstrip("`"))
            end = _code_span_end(text, i)
            out.append(text[i:end] if end >= 0 else c * size)
            i = end if end >= 0 else i + size
        else:
            out.append(c)
            i += 1
    return "".join(out)


def render_math(markdown: str) -> str:
    """Replace every math span in decoded Markdown with readable Unicode text.

    Inline math becomes escaped inline text; display math on lines of its own becomes a
    ```` ```math ```` fenced block with the indentation of its opening line, so it stays inside
    its list item. Fenced code blocks and inline code spans are left byte for byte.
    """
    out: list[str] = []
    chunk: list[str] = []
    fence = ""
    for line in markdown.splitlines(keepends=True):
        m = _FENCE.match(line)
        if fence:
            out.append(line)
            closing = m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence)
            if m and closing and not line[m.end() :].strip():
                fence = ""
        elif m and not (m.group(1)[0] == "`" and "`" in line[m.end() :]):
            out.append(_render_text("".join(chunk)))
            chunk = []
            fence = m.group(1)
            out.append(line)
        else:
            chunk.append(line)
    out.append(_render_text("".join(chunk)))
    return "".join(out)


def answer_to_markdown(raw: str) -> str:
    """The Markdown to display for a raw stored answer: escapes decoded, math made Unicode."""
    return render_math(decode_escapes(raw))
