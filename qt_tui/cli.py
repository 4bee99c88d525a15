"""Command line: `qt-tui [PATH]` opens the app, `qt-tui set ...` edits a file from a script;
errors are one line on stderr."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .cli_support import UsageError
from .model.files import discover

if TYPE_CHECKING:
    from .ui.app import QtApp

# The subcommands and the app are imported when used: `qt-tui DIR` does not wait for the
# check's modules before its first frame (0.2 s), nor `qt-tui check` for Textual.

EXIT_USAGE = 2

DESCRIPTION = """\
Read and browse a QuickTakes-style knowledge base: a folder of Markdown files whose YAML
front matter holds each article (title, subject, answer, related links).

PATH is a content folder (searched recursively for *.md) or one article file, which opens
its folder with that article selected. Press ? in the app for the keys.
"""

EPILOG = """\
subcommands:
  qt-tui set FILE KEY=VALUE [KEY=VALUE ...] [--delete KEY] [--json] [--dry-run] [--sync-title]
      change front matter keys of one file from a script, keeping every other byte
      (see `qt-tui set --help`). To open a folder named "set", write ./set.
  qt-tui check DIR [--format text|json] [--select CODES] [--fix [--write]]
      report problems of a content folder (exit status 1 when there are errors or
      warnings) and print or apply the safe fixes (see `qt-tui check --help`).
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qt-tui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", nargs="?", default=".", help="content folder or article file")
    parser.add_argument(
        "--no-watch", action="store_true", help="do not watch the folder for changes on disk"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="index in memory only; do not read or write the cache",
    )
    parser.add_argument(
        "--rebuild-cache", action="store_true", help="throw the cached index away and rebuild it"
    )
    parser.add_argument("--version", action="version", version=f"qt-tui {__version__}")
    return parser


def resolve_target(raw: str) -> tuple[Path, Path | None]:
    """The content root and, when a file was given, the article to select."""
    path = Path(raw).expanduser()
    if not path.exists():
        raise UsageError(f"no such file or folder: {raw}")
    selected: Path | None = None
    if path.is_file():
        if path.suffix != ".md":
            raise UsageError(f"not a Markdown file: {raw}")
        selected = path.resolve()
        root = selected.parent
    else:
        root = path.resolve()
    if not os.access(root, os.R_OK | os.X_OK):
        raise UsageError(f"cannot read folder: {root}")
    try:
        next(iter(os.scandir(root)), None)
    except OSError as exc:
        raise UsageError(f"cannot read folder: {root}: {exc.strerror}") from None
    if next(discover(root), None) is None:
        raise UsageError(f"no articles (*.md files) found in {root}")
    return root, selected


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `qt-tui` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "set":
        from . import set_command

        return set_command.main(argv[1:])
    if argv and argv[0] == "check":
        from . import check_command

        return check_command.main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        root, selected = resolve_target(args.path)
    except UsageError as exc:
        print(f"qt-tui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    make_app(
        root,
        selected=selected,
        watch=not args.no_watch,
        use_cache=not args.no_cache,
        rebuild_cache=args.rebuild_cache,
    ).run()
    return 0


def make_app(root: Path, **options: object) -> QtApp:
    """The app, as `qt-tui DIR` starts it (the benchmark starts it through here too).

    The cyclic garbage collector is off until the first frame is drawn (the app turns it
    back on, see QtApp.on_ready): the start-up makes hundreds of thousands of objects that
    live as long as the app, and collections passing over them only delay the first frame.
    """
    gc.disable()
    from .ui.app import QtApp  # imported late: --help and errors stay fast

    return QtApp(root, **options)  # type: ignore[arg-type]


if __name__ == "__main__":
    raise SystemExit(main())
