"""`qt-tui check DIR`: report problems of a content folder, optionally fix the safe ones."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from json.encoder import encode_basestring
from pathlib import Path

from .cli_support import OneLineParser, UsageError, emit, run_guarded
from .model.article import Severity
from .model.cache import IndexCache
from .model.checks import CODES, FIXABLE, Checker, Finding
from .model.editing import ConflictError, EditError, save_atomic
from .model.foldercheck import FolderCheck, FolderReport
from .model.form import PlannedEdit, plan_edit
from .model.indexing import build_library
from .model.library import Library
from .model.text import one_line

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

DESCRIPTION = """\
Check every article of a content folder: files that do not load, duplicate ids, missing or
mistyped fields, broken, stale, repeated and one-way related links, titles, SEO and urls.

Each finding is one line "PATH:LINE: SEVERITY CODE MESSAGE" (no ":LINE" when the finding is
about the whole file), then a summary line with the count per code.
"""

EPILOG = f"""\
codes:
  errors:   {", ".join(c for c, s in CODES.items() if s is Severity.ERROR)}
  warnings: {", ".join(c for c, s in CODES.items() if s is Severity.WARNING)}
  infos:    {", ".join(c for c, s in CODES.items() if s is Severity.INFO)}

--format json prints one object: {{"root": DIR, "articles": N, "problems": [{{"path", "line",
  "code", "severity", "message", "id"}}, ...], "counts": {{CODE: N, ...}}}}.

--fix prints, as a unified diff, the safe fixes: stale-link entries refreshed from their
  targets; duplicate-link repeats deleted and the later related_articleN entries renumbered
  down so the numbering stays consecutive; title-mismatch (article_title and question set to
  title) only when named in --select. Nothing is written unless --write is given too; then
  each file is replaced atomically, only if nobody changed it meanwhile.

exit status: 0 no errors or warnings (infos allowed), 1 errors or warnings (after --write:
those that remain), 2 usage error, unreadable folder, or a fix could not be saved.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `qt-tui check`."""
    parser = OneLineParser(
        prog="qt-tui check",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("dir", metavar="DIR", help="the content folder to check")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (text)"
    )
    parser.add_argument(
        "--select",
        metavar="CODES",
        action="append",
        default=[],
        help="only these codes, comma-separated (repeatable)",
    )
    parser.add_argument(
        "--fix", action="store_true", help="print the safe automatic fixes as a unified diff"
    )
    parser.add_argument("--write", action="store_true", help="with --fix: apply the fixes")
    return parser


def parse_select(values: Sequence[str]) -> set[str] | None:
    """`--select` values -> the set of codes, or None for all; unknown codes are a UsageError."""
    if not values:
        return None
    codes = {code.strip() for value in values for code in value.split(",") if code.strip()}
    if not codes:
        raise UsageError("--select needs at least one code")
    unknown = sorted(codes - CODES.keys())
    if unknown:
        raise UsageError(f"unknown code(s) for --select: {', '.join(unknown)}")
    return codes


def check_root(raw: str) -> Path:
    """The folder named on the command line, or a UsageError saying why it cannot be checked."""
    path = Path(raw).expanduser()
    if not path.exists():
        raise UsageError(f"no such folder: {raw}")
    if not path.is_dir():
        raise UsageError(f"not a folder: {raw}")
    root = path.resolve()
    try:
        next(iter(os.scandir(root)), None)
    except OSError as exc:
        raise UsageError(f"cannot read folder: {raw}: {exc.strerror or exc}") from None
    return root


def counts(findings: Sequence[Finding]) -> dict[str, int]:
    """Findings per code, in the order of the code table."""
    found = Counter(f.code for f in findings)
    ordered = {code: found.pop(code) for code in CODES if code in found}
    return ordered | dict(sorted(found.items()))


def summary(findings: Sequence[Finding], articles: int) -> str:
    """One line: articles checked, findings per severity and per code."""
    if not findings:
        return f"{articles} articles checked: no problems"
    by_severity = Counter(f.severity for f in findings)
    severities = ", ".join(
        f"{by_severity[s]} {s}{'s' if by_severity[s] != 1 else ''}" for s in Severity
    )
    per_code = ", ".join(f"{code} {n}" for code, n in counts(findings).items())
    return f"{articles} articles checked: {severities} ({per_code})"


def report_summary(report: FolderReport) -> str:
    """The summary line of a folder report (the same as :func:`summary` of its findings)."""
    if not report.counts:
        return f"{report.articles} articles checked: no problems"
    severities = ", ".join(
        f"{n} {s}{'s' if n != 1 else ''}"
        for s in Severity
        for n in (report.severities.get(str(s), 0),)
    )
    per_code = ", ".join(f"{code} {n}" for code, n in report.counts.items())
    return f"{report.articles} articles checked: {severities} ({per_code})"


def _one_line(message: str) -> str:
    """one_line(message), without its cost for the usual message that is one line already."""
    clean = message.isprintable() and "  " not in message
    if clean and message[:1] != " " and message[-1:] != " ":
        return message
    return one_line(message)


def text_chunks(report: FolderReport) -> Iterator[str]:
    """The text report in pieces: one line per finding, then the summary line."""
    lines: list[str] = []
    for path, rows in zip(report.paths, report.rows, strict=True):
        for _, code, message, line, severity in rows:
            if line is None:
                lines.append(f"{path}: {severity} {code} {_one_line(message)}\n")
            else:
                lines.append(f"{path}:{line}: {severity} {code} {_one_line(message)}\n")
        if len(lines) >= _CHUNK_LINES:
            yield "".join(lines)
            lines = []
    lines.append(report_summary(report) + "\n")
    yield "".join(lines)


def json_chunks(root: Path, report: FolderReport) -> Iterator[str]:
    """The JSON report in pieces: exactly what `json.dumps(..., indent=2)` writes for
    {"root", "articles", "problems": [Finding.as_dict() ...], "counts"}."""
    enc = encode_basestring
    parts = [f'{{\n  "root": {enc(str(root))},\n  "articles": {report.articles},\n  "problems": [']
    separator = "\n    {"
    for path, ident, rows in zip(report.paths, report.ids, report.rows, strict=True):
        if not rows:
            continue
        head = f'\n      "path": {enc(path)},\n      "line": '
        tail = f',\n      "id": {_json_id(ident)}\n    }}'
        for _, code, message, line, severity in rows:
            parts.append(
                f'{separator}{head}{"null" if line is None else line},\n      "code": {enc(code)}'
                f',\n      "severity": "{severity}",\n      "message": {enc(message)}{tail}'
            )
            separator = ",\n    {"
        if len(parts) >= _CHUNK_LINES:
            yield "".join(parts)
            parts = []
    parts.append("\n  ]," if separator != "\n    {" else "],")
    counts = ",".join(f"\n    {enc(code)}: {n}" for code, n in report.counts.items())
    parts.append(f'\n  "counts": {{{counts}\n  }}\n}}\n' if counts else '\n  "counts": {}\n}\n')
    yield "".join(parts)


def _json_id(ident: object) -> str:
    if type(ident) is int:
        return int.__repr__(ident)
    if isinstance(ident, str):
        return encode_basestring(ident)
    return json.dumps(ident)


#: Findings per piece of output: big enough to write fast, small enough not to double memory.
_CHUNK_LINES = 20_000


def fix_codes(select: set[str] | None) -> frozenset[str]:
    """The codes --fix repairs: the fixable selected ones; title-mismatch only when named."""
    if select is None:
        return FIXABLE - {"title-mismatch"}
    return FIXABLE & select


def plan_fixes(library: Library, codes: frozenset[str]) -> tuple[list[PlannedEdit], list[str]]:
    """The edits that repair `codes`, read from the files themselves, and the files that
    could not be fixed (with the reason)."""
    checker = Checker(library)
    edits: list[PlannedEdit] = []
    failures: list[str] = []
    for article in sorted(library.articles(), key=lambda a: a.key):
        changes = checker.fix_changes(article, codes)
        if not changes:
            continue
        try:
            edit = plan_edit(article.path, article.relpath, changes)
        except (EditError, OSError) as exc:
            failures.append(f"cannot fix {article.relpath}: {one_line(str(exc))}")
            continue
        if edit.after != edit.before:
            edits.append(edit)
    return edits, failures


def _fix(root: Path, library: Library, select: set[str] | None, write: bool) -> int:
    """Print (and with `write` apply) the fixes; the exit status comes from the folder check.

    The fixes are planned from `library`, whose entries read their details from the index
    cache (still open), so only the files that get a fix are read. The verdict, before and
    after writing, is the plain check's (:func:`_verdict`): its facts are cached too, and its
    findings equal `Checker(library).check()`, which would read every file again for lines.
    """
    edits, failures = plan_fixes(library, fix_codes(select))
    for edit in edits:
        emit(sys.stdout, edit.diff())
    for failure in failures:
        emit(sys.stderr, f"qt-tui: {failure}\n")
    if not write:
        if edits:
            emit(sys.stderr, f"{len(edits)} file(s) would be fixed; add --write to apply\n")
        else:
            emit(sys.stderr, "nothing to fix\n")
        return EXIT_PROBLEMS if _verdict(root, select).blocking() else EXIT_OK
    save_failed = False
    for edit in edits:
        try:
            save_atomic(edit.path, edit.after, edit.before)
        except ConflictError:
            emit(sys.stderr, f"qt-tui: file changed on disk, not fixed: {edit.label}\n")
            save_failed = True
            continue
        except EditError as exc:
            emit(sys.stderr, f"qt-tui: {one_line(str(exc))}\n")
            save_failed = True
            continue
        emit(sys.stdout, f"fixed {edit.label}\n")
    remaining = _verdict(root, select)  # reads the files just written, the rest is cached
    emit(sys.stderr, f"after fixing: {report_summary(remaining)}\n")
    if save_failed:
        return EXIT_USAGE
    return EXIT_PROBLEMS if remaining.blocking() else EXIT_OK


def _verdict(root: Path, select: set[str] | None) -> FolderReport:
    """The folder's report as the plain check makes it (the same findings as the Checker):
    from cached facts, reading only the files changed since they were cached."""
    with FolderCheck(root, select) as check:
        kept = check.kept()
        if kept is not None and check.confirmed():
            return kept
        return check.compute()


def open_index_cache(root: Path) -> IndexCache | None:
    """The folder's index cache (the app's), or None when it cannot be had (an unwritable
    cache folder, a locked database): a check then reads every file."""
    try:
        return IndexCache.open(root)
    except (OSError, sqlite3.Error):
        return None


def index_folder(root: Path, cache: IndexCache | None) -> Library:
    """The folder's index, through `cache` (so that a warm check is quick).

    The library's entries read their details from `cache` when first asked: keep it open
    while the library is used (closed, every entry would read its file in full instead).
    """
    return build_library(root, cache=cache)


def run(argv: Sequence[str]) -> int:
    """Do `qt-tui check` with `argv` (the arguments after "check"); raises UsageError."""
    args = build_parser().parse_args(list(argv))
    select = parse_select(args.select)
    if args.write and not args.fix:
        raise UsageError("--write needs --fix")
    if args.fix and args.format == "json":
        raise UsageError("--fix prints a diff; it cannot be combined with --format json")
    root = check_root(args.dir)
    if args.fix:
        cache = open_index_cache(root)
        try:  # open for the whole command: the fixes read the articles' details from it
            library = index_folder(root, cache)
            if len(library) == 0:
                raise UsageError(f"no articles (*.md files) found in {args.dir}")
            return _fix(root, library, select, args.write)
        finally:
            if cache is not None:
                cache.close()
    with FolderCheck(root, select) as check:
        report = check.kept()
        chunks: Iterable[str] = ()
        if report is not None:
            chunks = list(_chunks(root, report, args.format))  # while the folder is listed
            if not check.confirmed():
                report, chunks = None, ()
        if report is None:
            report = check.compute()
            chunks = _chunks(root, report, args.format)
    if report.files == 0:
        raise UsageError(f"no articles (*.md files) found in {args.dir}")
    for chunk in chunks:
        emit(sys.stdout, chunk)
    return EXIT_PROBLEMS if report.blocking() else EXIT_OK


def _chunks(root: Path, report: FolderReport, output: str) -> Iterator[str]:
    return json_chunks(root, report) if output == "json" else text_chunks(report)


def main(argv: Sequence[str]) -> int:
    """Entry point of `qt-tui check`: never a traceback, errors are one line on stderr."""
    return run_guarded(run, argv, unexpected=EXIT_USAGE)
