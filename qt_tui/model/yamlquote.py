"""YAML text helpers for the front matter editor: a line scan of block mappings and scalar
writing (plain when safe, else quoted, never wrapped)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from qt_tui.model.yamlsafe import YamlLoadError, load_mapping

#: Characters that may stand unescaped in a plain, single-quoted or block scalar: what YAML calls
#: printable, minus tab, line breaks (NEL, LS, PS) and the byte order mark.
_RAW = re.compile(
    r"[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*"
)
#: Characters a plain scalar may not start with.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
#: Plain text that YAML 1.1 or 1.2 would read as null, bool, number, date, merge or value.
_SPECIAL = re.compile(
    r"(?i:~|null|y|n|yes|no|true|false|on|off|[-+]?\.(?:inf|nan)|<<|=)"
    r"|[-+]?\.?[0-9][0-9a-zA-Z_.,:+-]*"
)
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x00": "\\0"}
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_KEY_RE = re.compile(
    r"""(?P<ind> *)(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"?:,\[\]{}&*!|>%@`-][^\n]*?)"""
    r"[ \t]*:(?=[ \t]|$)"
)
_PROPS = re.compile(r"[ \t]*(?:[&!]\S*(?:[ \t]+|$))*")
_BLOCK = re.compile(r"([|>][1-9+-]{0,2})([ \t]+#.*)?[ \t]*$")
_COMMENT = re.compile(r"[ \t]+#.*$")
_SEQ = re.compile(r" *-(?:[ \t]|$)")


def raw_ok(text: str) -> bool:
    """True when every character of `text` may be written unescaped on one line."""
    return _RAW.fullmatch(text) is not None


def has_surrogate(text: str) -> bool:
    """True when `text` holds a lone surrogate, which no UTF-8 file can store."""
    return _SURROGATE.search(text) is not None


def _reads_back(text: str) -> bool:
    try:
        value = load_mapping(f"k: {text}\n").get("k")
    except YamlLoadError:
        return False
    return isinstance(value, str) and value == text


def plain_ok(text: str) -> bool:
    """True when `text` can be written as a plain scalar and reads back as the same string."""
    if not text or text != text.strip() or not raw_ok(text) or text[0] in _INDICATORS:
        return False
    if ": " in text or " #" in text or text.endswith(":") or _SPECIAL.fullmatch(text):
        return False
    return _reads_back(text)


def key_ok(key: str) -> bool:
    """True when `key` can be written as a new plain mapping key that reads back as a string."""
    return _KEY.fullmatch(key) is not None and plain_ok(key)


def single(text: str) -> str:
    """`text` as a single-quoted scalar; the caller checks raw_ok first."""
    return "'" + text.replace("'", "''") + "'"


def double(text: str) -> str:
    """`text` as a one-line double-quoted scalar, escaping all that is not plain printable."""
    out: list[str] = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif _RAW.fullmatch(ch):
            out.append(ch)
        else:
            code = ord(ch)
            if code < 0x100:
                out.append(f"\\x{code:02x}")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def quoted(text: str) -> str:
    """Single quotes when they can hold `text` on one line, else double quotes with escapes."""
    return single(text) if raw_ok(text) else double(text)


def canonical(value: object) -> str:
    """The canonical plain YAML form of a null, bool, int, float, date or datetime."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(float(value))
        if "e" in text and "." not in text:  # PyYAML wants a dot in the mantissa
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"no canonical YAML form for {type(value).__name__}")


def scalar(value: object, style: str = "plain") -> str:
    """`value` as a one-line scalar, keeping `style` ("plain", "single", "double") when it can."""
    if not isinstance(value, str):
        return canonical(value)
    if style == "double":
        return double(value)
    if style == "single":
        return quoted(value)
    return value if plain_ok(value) else quoted(value)


def block_lines(indicator: str, text: str) -> list[str] | None:
    """The content lines of a `>-` or `|-` block holding `text`, or None if it cannot be exact.

    A folded value is written on one line (never re-wrapped); a literal keeps its line breaks.
    Leading or trailing whitespace, empty text, tabs and non-printables always fall back.
    """
    if indicator == ">-":
        return [text] if text and text == text.strip() and raw_ok(text) else None
    if indicator != "|-":
        return None
    lines = text.split("\n")
    if not lines[0] or lines[0] != lines[0].lstrip() or not lines[-1]:
        return None
    if any(line != line.rstrip() or not raw_ok(line) for line in lines):
        return None
    return lines


def as_loaded(value: object) -> object:
    """`value` as the YAML loader would build it: plain dict, str, int and float types."""
    if isinstance(value, Mapping):
        return {key: as_loaded(item) for key, item in value.items()}
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return float(value) if isinstance(value, float) else value


def same(a: object, b: object) -> bool:
    """Deep equality that also requires equal types (so 1 != True != "1") and NaN == NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float) and a != a:
        return b != b
    return bool(a == b)


def close_quote(text: str, start: int) -> int | None:
    """Index of the quote closing the quoted scalar opened at `text[start]`, or None."""
    quote = text[start]
    pos = start + 1
    while pos < len(text):
        ch = text[pos]
        if quote == '"' and ch == "\\":
            pos += 2
            continue
        if ch == quote:
            if quote == "'" and text[pos + 1 : pos + 2] == "'":
                pos += 2
                continue
            return pos
        pos += 1
    return None


@dataclass
class Node:
    """A block mapping key found by scan(): its text and the line range of its value."""

    key: str
    head: str  # the line up to and including the colon
    rest: str  # the line after the colon
    indent: int
    start: int
    end: int  # exclusive: the key line plus the lines of its value
    children: list[Node] = field(default_factory=list)


@dataclass
class Info:
    """How a scalar value is written and which lines hold it."""

    kind: str  # "empty", "plain", "single", "double", "block" or "other"
    value_end: int
    comment: str = ""
    indicator: str = ""
    content_indent: int | None = None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _blank(line: str) -> bool:
    return not line.strip(" \t")


def _is_comment(line: str) -> bool:
    return line.lstrip(" \t").startswith("#")


def value_text(rest: str) -> str:
    """The value part of the text after a key's colon, without anchors and tags."""
    props = _PROPS.match(rest)
    return rest[props.end() :] if props else rest.lstrip()


def _empty(value: str) -> bool:
    return not value.strip() or value.lstrip().startswith("#")


def trailing_comment(text: str) -> str:
    """The comment (with its leading blanks) ending `text`, or an empty string."""
    found = _COMMENT.search(text)
    return found.group(0) if found else ""


def _quote_end(lines: list[str], i: int, hi: int, value: str) -> tuple[int, int] | None:
    """Line and column of the quote closing a quoted value that starts on line `i`."""
    offset = len(lines[i]) - len(value)
    col = close_quote(lines[i], offset)
    if col is not None:
        return i, col
    joined = "\n".join(lines[i:hi])
    close = close_quote(joined, offset)
    if close is None:
        return None
    return i + joined.count("\n", 0, close), close - joined.rfind("\n", 0, close) - 1


def _block_end(lines: list[str], i: int, hi: int, indent: int, value: str) -> int:
    last = i
    if value.startswith(("'", '"')):
        close = _quote_end(lines, i, hi, value)
        last = i if close is None else close[0]
    sequence = _empty(value)
    for j in range(last + 1, hi):
        line = lines[j]
        if _blank(line):
            continue
        depth = _indent(line)
        if depth > indent or (sequence and depth == indent and _SEQ.match(line)):
            last = j
        elif not _is_comment(line):
            break
    return last + 1


def scan(lines: list[str], lo: int, hi: int) -> list[Node]:
    """The block mapping keys in lines[lo:hi], each with the line range of its value."""
    nodes: list[Node] = []
    sibling: int | None = None
    i = lo
    while i < hi:
        line = lines[i]
        if _blank(line) or _is_comment(line):
            i += 1
            continue
        found = _KEY_RE.match(line)
        if found is None or (sibling is not None and len(found.group("ind")) != sibling):
            if sibling is None:
                return []  # not a block mapping
            i += 1
            continue
        sibling = len(found.group("ind"))
        raw, rest = found.group("key"), line[found.end() :]
        value = value_text(rest)
        key = raw[1:-1].replace("''", "'") if raw[0] in "'\"" else raw
        node = Node(key, line[: found.end()], rest, sibling, i, 0)
        node.end = _block_end(lines, i, hi, sibling, value)
        if _empty(value):
            node.children = scan(lines, i + 1, node.end)
        nodes.append(node)
        i = node.end
    return nodes


def scalar_info(lines: list[str], node: Node) -> Info:
    """The style of `node`'s value, where it ends and any trailing comment."""
    value = value_text(node.rest)
    i, end = node.start, node.end
    if node.children or value.startswith(("[", "{", "*")):
        return Info("other", end)
    if _empty(value):
        if any(not _blank(ln) and not _is_comment(ln) for ln in lines[i + 1 : end]):
            return Info("other", end)
        return Info("empty", i + 1, trailing_comment(node.rest))
    block = _BLOCK.match(value)
    if block:
        indicator = block.group(1)
        digits = [int(ch) for ch in indicator if ch.isdigit()]
        indent: int | None = node.indent + digits[0] if digits else None
        last = i
        for j in range(i + 1, end):
            if _blank(lines[j]):
                continue
            indent = _indent(lines[j]) if indent is None else indent
            if _indent(lines[j]) < indent:
                break
            last = j
        return Info("block", last + 1, block.group(2) or "", indicator, indent)
    if value.startswith(("'", '"')):
        kind = "single" if value[0] == "'" else "double"
        close = _quote_end(lines, i, end, value)
        if close is None:
            return Info("other", end)
        return Info(kind, close[0] + 1, trailing_comment(lines[close[0]][close[1] + 1 :]))
    comment = trailing_comment(value)
    last = i
    if not comment:
        for j in range(i + 1, end):
            if _is_comment(lines[j]):
                break
            if not _blank(lines[j]):
                last = j
    return Info("plain", last + 1, comment)
