"""Minimal-diff editing of front matter: change a few keys, keep every other byte as it was."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import difflib
import enum
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from qt_tui.model import yamlquote as yq
from qt_tui.model.yamlsafe import YamlLoadError, load_mapping

_BOM = b"\xef\xbb\xbf"
_RELATED = re.compile(r"related_article(\d+)")


class EditError(Exception):
    """A change that cannot be written safely; the message says why."""


class ConflictError(EditError):
    """The file changed on disk since it was read."""


class _Sentinel(enum.Enum):
    DELETE = "DELETE"


#: Use as a change value to remove the key.
DELETE: Final = _Sentinel.DELETE


@dataclass(frozen=True)
class SaveRecord:
    """One completed save: the file's bytes before and after, enough to undo it."""

    path: Path
    before: bytes
    after: bytes


@dataclass
class _Doc:
    bom: bytes
    opening: bytes
    lines: list[str]  # front matter lines without their endings
    ends: list[str]
    tail: bytes  # the closing '---' line and the body, untouched
    nl: str

    def replace(self, lo: int, hi: int, new: list[str]) -> None:
        self.lines[lo:hi] = new
        self.ends[lo:hi] = [self.nl] * len(new)

    def text(self) -> str:
        return "".join(line + end for line, end in zip(self.lines, self.ends, strict=True))

    def to_bytes(self) -> bytes:
        return self.bom + self.opening + self.text().encode("utf-8") + self.tail


@dataclass
class _Style:
    block: str | None = None  # ">-" or "|-" when strings are written as blocks
    offset: int = 4  # block content or child indentation, relative to the key
    kids: dict[str, _Style] = field(default_factory=dict)


def _parse(data: bytes) -> _Doc:
    bom = _BOM if data.startswith(_BOM) else b""
    rest = data[len(bom) :]
    first = rest.find(b"\n")
    if first < 0 or rest[:first].rstrip() != b"---":
        raise EditError("no front matter: the file does not start with a '---' line")
    pos = first + 1
    while pos < len(rest):
        nxt = rest.find(b"\n", pos)
        stop = len(rest) if nxt < 0 else nxt + 1
        if rest[pos:stop].rstrip() == b"---":
            break
        pos = stop
    else:
        raise EditError("front matter is not closed by a '---' line")
    try:
        text = rest[first + 1 : pos].decode("utf-8")
    except UnicodeDecodeError:
        raise EditError("front matter is not valid UTF-8") from None
    lines: list[str] = []
    ends: list[str] = []
    for part in text.split("\n")[:-1]:
        crlf = part.endswith("\r")
        lines.append(part[:-1] if crlf else part)
        ends.append("\r\n" if crlf else "\n")
    nl = "\r\n" if rest[:first].endswith(b"\r") else "\n"
    return _Doc(bom, rest[: first + 1], lines, ends, rest[pos:], nl)


def _load(doc: _Doc, problem: str) -> dict[str, Any]:
    try:
        return load_mapping(doc.text(), first_line=2)
    except YamlLoadError as exc:
        raise EditError(f"{problem}: {exc}") from None
    except Exception as exc:  # bad explicit tags (`!!int x`) escape the loader as ValueError etc.
        raise EditError(f"{problem}: invalid YAML value ({exc})") from None


def _style_of(lines: list[str], node: yq.Node) -> _Style:
    if node.children:
        offset = node.children[0].indent - node.indent
        return _Style(None, offset, {c.key: _style_of(lines, c) for c in node.children})
    info = yq.scalar_info(lines, node)
    if info.kind == "block" and info.indicator in (">-", "|-") and info.content_indent:
        return _Style(info.indicator, info.content_indent - node.indent)
    return _Style()


def _related_peer(nodes: list[yq.Node], exclude: yq.Node | None) -> yq.Node | None:
    """The last related_articleN entry written as a block mapping, to copy its layout."""
    peers = [n for n in nodes if _RELATED.fullmatch(n.key) and n.children and n is not exclude]
    return peers[-1] if peers else None


def _render(
    head: str,
    indent: int,
    value: object,
    style: _Style | None,
    kind: str = "plain",
    comment: str = "",
) -> list[str]:
    """The lines of `head` (indentation, key and colon) followed by `value` in house layout."""
    if isinstance(value, Mapping):
        if not value:
            return [f"{head} {{}}{comment}"]
        if style is not None and style.kids:
            offset = style.offset
        else:
            offset = 4 if _RELATED.fullmatch(head.strip()[:-1]) else 2
        out = [head + comment]
        for key, item in value.items():
            kid = style.kids.get(key) if style is not None else None
            out += _render(f"{' ' * (indent + offset)}{key}:", indent + offset, item, kid)
        return out
    if isinstance(value, str) and style is not None and style.block:
        body = yq.block_lines(style.block, value)
        if body is not None:
            pad = " " * (indent + style.offset)
            return [f"{head} {style.block}{comment}"] + [pad + ln if ln else "" for ln in body]
    return [f"{head} {yq.scalar(value, kind)}{comment}"]


def _related_slot(nodes: list[yq.Node], number: int) -> int | None:
    """Where a new related_article<number> goes: after the nearest lower entry, else before."""
    entries = [(int(m.group(1)), n) for n in nodes if (m := _RELATED.fullmatch(n.key))]
    lower = [e for e in entries if e[0] < number]
    if lower:
        return max(lower, key=lambda e: (e[0], e[1].start))[1].end
    return min(entries, key=lambda e: (e[0], e[1].start))[1].start if entries else None


def _insert(
    doc: _Doc,
    parent: yq.Node | None,
    siblings: list[yq.Node],
    uncles: list[yq.Node],
    key: str,
    value: object,
) -> None:
    if not yq.key_ok(key):
        raise EditError(f"cannot create key {key!r}: it is not a plain YAML key")
    style: _Style | None = None
    if parent is None:
        indent = siblings[0].indent if siblings else 0
        related = _RELATED.fullmatch(key)
        at = _related_slot(siblings, int(related.group(1))) if related else None
        at = len(doc.lines) if at is None else at
        peer = _related_peer(siblings, None) if related else None
        style = _style_of(doc.lines, peer) if peer else None
    else:
        peer = _related_peer(uncles, parent) if _RELATED.fullmatch(parent.key) else None
        parent_style = _style_of(doc.lines, peer) if peer else None
        style = parent_style.kids.get(key) if parent_style else None
        if siblings:
            indent, at = siblings[0].indent, siblings[-1].end
        else:  # an empty mapping (`key:` or `key: {}`) gains its first child
            default = 4 if _RELATED.fullmatch(parent.key) else 2
            offset = parent_style.offset if parent_style and parent_style.kids else default
            indent, at = parent.indent + offset, parent.start + 1
            doc.lines[parent.start] = parent.head + yq.trailing_comment(parent.rest)
    doc.replace(at, at, _render(f"{' ' * indent}{key}:", indent, value, style))


def _delete(doc: _Doc, parent: yq.Node | None, node: yq.Node) -> None:
    if parent is not None and len(parent.children) == 1:  # keep the parent a mapping
        doc.lines[parent.start] = parent.head + " {}" + yq.trailing_comment(parent.rest)
    doc.replace(node.start, node.end, [])


def _replace(
    doc: _Doc, segs: list[str], node: yq.Node, value: object, siblings: list[yq.Node]
) -> None:
    if isinstance(value, Mapping) and value and node.children:
        old_keys = [child.key for child in node.children]
        for key, item in value.items():
            _apply(doc, [*segs, key], item)
        for key in old_keys:
            if key not in value:
                _apply(doc, [*segs, key], DELETE)
        return
    info = yq.scalar_info(doc.lines, node)
    if isinstance(value, str) and info.kind == "block" and node.rest.lstrip()[:1] in "|>":
        body = yq.block_lines(info.indicator, value)
        if body is not None:
            pad = " " * (info.content_indent or node.indent + 4)
            doc.replace(node.start + 1, info.value_end, [pad + ln if ln else "" for ln in body])
            return
    style: _Style | None = None
    comment = info.comment
    if isinstance(value, Mapping):
        peer = _related_peer(siblings, node) if _RELATED.fullmatch(node.key) else None
        style = _style_of(doc.lines, peer) if peer else None
        comment = ""
    kind = info.kind if info.kind in ("single", "double") else "plain"
    doc.replace(
        node.start, info.value_end, _render(node.head, node.indent, value, style, kind, comment)
    )


def _can_hold_mapping(lines: list[str], node: yq.Node) -> bool:
    info = yq.scalar_info(lines, node)
    text = yq.value_text(node.rest).split(" #")[0].strip()
    return info.kind == "empty" or text in ("{}", "~", "null", "Null", "NULL")


def _apply(doc: _Doc, segs: list[str], value: object) -> None:
    siblings = yq.scan(doc.lines, 0, len(doc.lines))
    parent: yq.Node | None = None
    uncles: list[yq.Node] = []
    for depth, seg in enumerate(segs):
        matches = [n for n in siblings if n.key == seg]
        if not matches:
            if value is DELETE:
                return
            for later in reversed(segs[depth + 1 :]):
                value = {later: value}
            _insert(doc, parent, siblings, uncles, seg, value)
            return
        node = matches[-1]  # YAML keeps the last of duplicate keys
        if depth == len(segs) - 1:
            if value is DELETE:
                _delete(doc, parent, node)
            else:
                _replace(doc, segs, node, value, siblings)
            return
        if not node.children and not _can_hold_mapping(doc.lines, node):
            where = ".".join(segs[: depth + 1])
            raise EditError(f"cannot change {'.'.join(segs)!r}: {where!r} is not a mapping")
        parent, uncles, siblings = node, siblings, node.children


def _check(path: str, value: object, top: bool = True) -> None:
    if isinstance(value, str):
        if yq.has_surrogate(value):
            raise EditError(f"cannot write {path}: the text holds a lone surrogate")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or not yq.key_ok(key):
                raise EditError(f"cannot write {path}: {key!r} is not a plain YAML key")
            _check(f"{path}.{key}", item, top=False)
    elif not (value is None or isinstance(value, bool | int | float | dt.date)) and not (
        top and value is DELETE
    ):
        raise EditError(f"cannot write {path}: unsupported type {type(value).__name__}")


def _lookup(data: dict[str, Any], segs: list[str]) -> tuple[bool, object]:
    cur: object = data
    for seg in segs:
        if not isinstance(cur, dict) or seg not in cur:
            return False, None
        cur = cur[seg]
    return True, cur


def _expect(data: dict[str, Any], segs: list[str], value: object) -> None:
    cur = data
    for seg in segs[:-1]:
        nxt = cur.get(seg)
        if not isinstance(nxt, dict):
            if value is DELETE:
                return
            nxt = cur[seg] = {}
        cur = nxt
    if value is DELETE:
        cur.pop(segs[-1], None)
    else:
        cur[segs[-1]] = yq.as_loaded(value)


def apply_changes(original: bytes, changes: Mapping[str, object]) -> bytes:
    """Return `original` with `changes` (dotted key path -> value or DELETE) applied, minimally.

    Every byte outside the changed keys is kept; the result is re-parsed and verified.
    """
    doc = _parse(original)
    expected = _load(doc, "cannot edit")
    old = copy.deepcopy(expected)
    for path, value in changes.items():
        segs = path.split(".")
        if not all(seg.strip() for seg in segs):
            raise EditError(f"invalid key path {path!r}")
        _check(path, value)
        present, current = _lookup(expected, segs)
        if value is DELETE and not present:
            continue
        if not (present and yq.same(current, yq.as_loaded(value))):
            _apply(doc, segs, value)
        _expect(expected, segs, value)
    new = doc.to_bytes()
    if new == original:
        return original
    got = _load(_parse(new), "edit could not be written losslessly")
    if not yq.same(got, expected):
        changed = sorted(k for k in got.keys() | old.keys() if not yq.same(got.get(k), old.get(k)))
        raise EditError(f"edit could not be written losslessly (fields changed: {changed})")
    return new


def _diff_lines(data: bytes, other_bom: bool) -> tuple[list[tuple[str, str]], bool]:
    bom = data.startswith(_BOM)
    text = data[len(_BOM) if bom else 0 :].decode("utf-8", errors="replace")
    parts = text.split("\n")
    out: list[tuple[str, str]] = []
    for k, part in enumerate(parts):
        if k == len(parts) - 1:
            if part:
                out.append((part, ""))
        elif part.endswith("\r"):
            out.append((part[:-1], "\r\n"))
        else:
            out.append((part, "\n"))
    if bom and not other_bom and out:
        out[0] = ("<BOM>" + out[0][0], out[0][1])
    return out, bom


def unified_diff(path_label: str, old: bytes, new: bytes) -> str:
    """A unified diff of two versions of a file; CR is shown as ␍ only when endings differ."""
    a, a_bom = _diff_lines(old, new.startswith(_BOM))
    b, _ = _diff_lines(new, a_bom)
    show_cr = len({end for _, end in a + b if end}) > 1

    def render(lines: list[tuple[str, str]]) -> list[str]:
        out: list[str] = []
        for text, end in lines:
            text = text.replace("\r", "␍") + ("␍" if show_cr and end == "\r\n" else "")
            out.append(text + ("\n" if end else "\n\\ No newline at end of file\n"))
        return out

    return "".join(difflib.unified_diff(render(a), render(b), f"a/{path_label}", f"b/{path_label}"))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConflictError(f"{path} no longer exists") from None
    except OSError as exc:
        raise EditError(f"cannot read {path}: {exc.strerror or exc}") from None


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform or file system allows it
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save_atomic(path: Path, new: bytes, expected_old: bytes) -> None:
    """Atomically replace `path` with `new` if it still holds `expected_old`, else ConflictError."""
    if _read(path) != expected_old:
        raise ConflictError(f"{path} changed on disk since it was read; not saved")
    target = Path(os.path.realpath(path))
    try:
        info = target.stat()
    except OSError as exc:
        raise EditError(f"cannot write {path}: {exc.strerror or exc}") from None
    if not info.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise EditError(f"cannot write {path}: file is read-only")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".qt-tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(new)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, stat.S_IMODE(info.st_mode))
        made = os.stat(tmp)
        if (made.st_uid, made.st_gid) != (info.st_uid, info.st_gid):
            with contextlib.suppress(OSError):
                os.chown(tmp, info.st_uid, info.st_gid)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise EditError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _fsync_dir(target.parent)


def undo_save(record: SaveRecord) -> None:
    """Put back `record.before`, only if the file still holds exactly `record.after`."""
    if record.before == record.after:
        if _read(record.path) != record.after:
            raise ConflictError(f"{record.path} changed on disk since it was saved; not undone")
        return
    try:
        save_atomic(record.path, record.before, record.after)
    except ConflictError:
        raise ConflictError(
            f"{record.path} changed on disk since it was saved; not undone"
        ) from None


def edit_file(
    path: Path, changes: Mapping[str, object], *, expected_old: bytes | None = None
) -> SaveRecord:
    """Apply `changes` to the file at `path` and save it atomically; returns the undo record."""
    base = _read(path) if expected_old is None else expected_old
    new = apply_changes(base, changes)
    if new == base:
        if expected_old is not None and _read(path) != expected_old:
            raise ConflictError(f"{path} changed on disk since it was read")
        return SaveRecord(path, base, base)
    save_atomic(path, new, base)
    return SaveRecord(path, base, new)
