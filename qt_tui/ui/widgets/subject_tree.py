"""The left pane: All articles, every subject with its count, and the Problems node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ...model.article import Article
from ...model.text import one_line

EntryKind = Literal["all", "subject", "problems", "problem", "code"]


@dataclass(frozen=True)
class TreeEntry:
    """What a tree node stands for: a subject name, or a failed file's relative path."""

    kind: EntryKind
    name: str = ""


ALL = TreeEntry("all")
PROBLEMS = TreeEntry("problems")


class SubjectTree(Tree[TreeEntry]):
    """Subjects with counts; moving the cursor selects (no Enter needed)."""

    BINDINGS = [("j", "cursor_down", "Down"), ("k", "cursor_up", "Up")]

    class EntryHighlighted(Message):
        """The cursor moved to a node: show its articles (or its problem)."""

        def __init__(self, entry: TreeEntry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Library", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._suppress = False

    def show_library(
        self,
        subjects: list[tuple[str, int]],
        total: int,
        failed: list[Article],
        code_counts: list[tuple[str, str, int]] | None = None,
        pending: str = "checking…",
    ) -> None:
        """Rebuild the nodes, keeping the cursor on the same entry where it still exists."""
        current = self.cursor_node.data if self.cursor_node is not None else None
        self._suppress = True
        self.clear()
        self.root.add_leaf(Text(f"All articles ({total:,})", style="bold"), data=ALL)
        for name, count in subjects:
            label = Text(one_line(name))
            label.append(f" ({count:,})", style="dim")
            self.root.add_leaf(label, data=TreeEntry("subject", name))
        codes = code_counts or []
        serious = sum(n for _, severity, n in codes if severity != "info") if codes else len(failed)
        label = Text(f"Problems ({serious:,})", style="bold red" if serious else "dim")
        if code_counts is None:
            label.append(f" {pending}", style="dim italic")
        problems = self.root.add(label, data=PROBLEMS, expand=True)
        for article in failed:
            reason = article.problems[0].describe() if article.problems else "unreadable"
            label = Text(one_line(article.relpath), style="red")
            label.append(f" — {one_line(reason)}", style="dim")
            problems.add_leaf(label, data=TreeEntry("problem", article.key))
        for code, severity, count in codes:
            if code in ("parse-error", "no-front-matter"):
                continue  # the failed files are listed one by one above
            style = {"error": "red", "warning": "yellow"}.get(severity, "dim")
            label = Text(f"{code} ", style=style)
            label.append(f"({count:,}) {severity}", style="dim")
            problems.add_leaf(label, data=TreeEntry("code", code))
        self._suppress = False
        if not self.move_to(current or ALL):
            self.move_to(ALL)

    def _find(self, entry: TreeEntry) -> TreeNode[TreeEntry] | None:
        stack = list(self.root.children)
        while stack:
            node = stack.pop(0)
            if node.data == entry:
                return node
            stack.extend(node.children)
        return None

    def move_to(self, entry: TreeEntry) -> bool:
        """Put the cursor on an entry's node (expanding its parent); False if absent."""
        node = self._find(entry)
        if node is None:
            return False
        if node.parent is not None and not node.parent.is_expanded:
            node.parent.expand()
        _ = self.last_line  # lays out the rebuilt lines, so the node knows its line
        self.move_cursor(node)
        return True

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[TreeEntry]) -> None:
        event.stop()
        if self._suppress or event.node.data is None:
            return
        self.post_message(self.EntryHighlighted(event.node.data))

    def on_tree_node_selected(self, event: Tree.NodeSelected[TreeEntry]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.EntryHighlighted(event.node.data))
