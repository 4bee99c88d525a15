"""The `?` screen: every key the app answers to."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, str]] = [
    ("Tab / Shift+Tab", "next / previous pane"),
    ("↑ ↓  j k", "move in the tree, the list, the link lists; scroll the article"),
    ("PgUp PgDn  g G", "page through the list, jump to its first / last row"),
    ("Enter", "open the article under the cursor, or follow the link under the cursor"),
    ("1 … 9", "follow related link N of the open article (from any pane)"),
    ("[  or  alt+←", "back to the previous article"),
    ("]  or  alt+→", "forward again"),
    ("/", "filter the article list as you type (Esc clears)"),
    ("o", "sort the list by title, date or id"),
    ("s  or  ctrl+f", "full-text search; Enter opens a result"),
    ("n / N", "next / previous search result"),
    ("m", "show / hide every front matter field of the open article"),
    ("e", "edit the open article's metadata (ctrl+s save, F2 diff, Esc cancel)"),
    ("E", "open the file in $VISUAL / $EDITOR, reload it afterwards"),
    ("u", "undo the last save of the open article"),
    ("r", "refresh the open article's related entries from their targets"),
    ("f", "apply the open article's safe fixes (stale or repeated related entries)"),
    ("ctrl+p", "command palette: “Go to article…”, “Check folder” and every command"),
    ("?", "this help"),
    ("q", "quit"),
]


class HelpScreen(ModalScreen[None]):
    """A modal list of keys; any of Esc, q or ? closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, what in KEYS:
            table.add_row(key, what)
        with VerticalScroll(id="help-box"):
            yield Static(Text("qt-tui keys", style="bold"))
            yield Static(table)
            yield Static(
                Text(
                    "Links that are not in this folder are shown but cannot be followed. "
                    "Problems in the tree lists files that fail to load and every check "
                    "finding by code; the status line shows whether the folder is watched.",
                    style="dim",
                )
            )

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
