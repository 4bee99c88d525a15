"""A one-line-per-row list that renders only the rows on screen.

`VirtualList` is a Line API widget (a `ScrollView` implementing `render_line`): its rows are
plain data (a key and a label) kept in lists, so replacing 100,000 rows costs a few list
copies and a dict, and drawing costs only the rows that are visible. Nothing is parsed as
markup, no widget is created per row, and nothing is measured or rendered ahead of time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar, Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

_CONTROL = re.compile("[\x00-\x1f\x7f]")
"""Control characters (newline, tab, ...): each is shown as one space so a row stays a line."""

Label = Text | str
"""A row label: a Rich `Text`, or a `str` shown literally (never parsed as markup)."""


class Rows:
    """Rows prepared for `VirtualList.set_rows`: keys and labels.

    Built once in O(n) and then shared: a caller that keeps it can show the same rows again
    (another subject and back) without copying tens of thousands of keys. Never mutated. A
    key is found by scanning the keys (a few ms for 100,000, done once per open): a key ->
    index map cost 45 ms to build and 7 MB per 100,000 rows, for every list kept.
    """

    __slots__ = ("keys", "labels")

    def __init__(self, keys: Sequence[str] = (), labels: Sequence[Label] = ()) -> None:
        if len(keys) != len(labels):
            raise ValueError(f"{len(keys)} keys but {len(labels)} labels")
        self.keys: tuple[str, ...] = tuple(keys)
        self.labels: Sequence[Label] = list(labels)

    def index_of(self, key: str) -> int | None:
        """The first row with this key, or None."""
        try:
            return self.keys.index(key)
        except ValueError:
            return None

    @classmethod
    def from_pairs(cls, rows: Sequence[tuple[str, Label]]) -> Rows:
        """Rows from `(key, label)` pairs."""
        return cls([row[0] for row in rows], [row[1] for row in rows])

    def __len__(self) -> int:
        return len(self.keys)


class VirtualList(ScrollView, can_focus=True):
    """A fast, focusable list of `(key, label)` rows with a cursor.

    Each row is exactly one line; a label wider than the list ends with "…". The cursor
    (`highlighted`) is an index into the rows; moving it scrolls it into view and posts
    `VirtualList.Highlighted`. Enter posts `VirtualList.Selected`.
    """

    DEFAULT_CSS = """
    VirtualList {
        width: 1fr;
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        background: $surface;
        color: $foreground;
        & > .virtual-list--highlight {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
        & > .virtual-list--highlight-blur {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-list--highlight",
        "virtual-list--highlight-blur",
    }
    """
    | Class | Description |
    | :- | :- |
    | `virtual-list--highlight` | The cursor row while the list has focus. |
    | `virtual-list--highlight-blur` | The cursor row while the list does not have focus. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Select", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
    ]

    class Highlighted(Message):
        """The cursor moved to a row (`key`, `index`)."""

        def __init__(self, virtual_list: VirtualList, key: str, index: int) -> None:
            super().__init__()
            self.virtual_list = virtual_list
            self.key = key
            self.index = index

        @property
        def control(self) -> VirtualList:
            """The list that posted the message (for `@on(..., "#id")` selectors)."""
            return self.virtual_list

    class Selected(Message):
        """Enter was pressed on a row (`key`, `index`)."""

        def __init__(self, virtual_list: VirtualList, key: str, index: int) -> None:
            super().__init__()
            self.virtual_list = virtual_list
            self.key = key
            self.index = index

        @property
        def control(self) -> VirtualList:
            """The list that posted the message (for `@on(..., "#id")` selectors)."""
            return self.virtual_list

    def __init__(
        self,
        rows: Sequence[tuple[str, Label]] = (),
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._keys: tuple[str, ...] = ()
        self._labels: Sequence[Label] = []
        self._rows = Rows()
        self._highlighted: int | None = None
        # Rendered rows: index -> (was highlighted, strip); only ever the rows near the view.
        self._strips: dict[int, tuple[bool, Strip]] = {}
        self._strips_signature: tuple[int, Style, Style] | None = None
        # The base style while `render_lines` runs, so it is computed once per paint.
        self._paint_style: Style | None = None
        if rows:
            self.set_rows(rows)

    # ------------------------------------------------------------------ data

    def set_rows(
        self,
        rows: Rows | Sequence[tuple[str, Label]],
        highlight_key: str | None = None,
        fallback: Literal["keep", "first", "none"] = "keep",
    ) -> None:
        """Replace every row: no widget is made and nothing is rendered here.

        Given `Rows` (prepared once, e.g. kept by the caller for a list it shows again), this
        is O(1); given `(key, label)` pairs it prepares them first, in O(n).

        Keys should be unique (`index_of` answers the first row with a key). The cursor goes
        to `highlight_key` when given and present; otherwise, by `fallback`, it keeps its
        index clamped to the new rows ("keep"; the first row if there was no cursor), goes to
        the first row ("first"), or is cleared ("none"). `None` when there are no rows.
        `Highlighted` is posted when the cursor's key or index differs from before.
        """
        before = (self.highlighted_key, self._highlighted)
        prepared = rows if isinstance(rows, Rows) else Rows.from_pairs(rows)
        self._rows = prepared
        self._keys = prepared.keys
        self._labels = prepared.labels
        count = len(self._keys)
        self._strips.clear()

        index: int | None = None
        if highlight_key is not None:
            index = prepared.index_of(highlight_key)
        if index is None and count and fallback != "none":
            start = self._highlighted or 0 if fallback == "keep" else 0
            index = min(start, count - 1)
        self._highlighted = index

        self._update_virtual_size()
        self.refresh()
        self.scroll_to_highlight()
        if index is not None and (self._keys[index], index) != before:
            self.post_message(self.Highlighted(self, self._keys[index], index))

    @property
    def row_count(self) -> int:
        """How many rows there are."""
        return len(self._keys)

    @property
    def keys(self) -> tuple[str, ...]:
        """Every row's key, in order (made once by `set_rows`; not copied per call)."""
        return self._keys

    def index_of(self, key: str) -> int | None:
        """The index of the first row with this key, or `None`."""
        return self._rows.index_of(key)

    def key_at(self, index: int) -> str | None:
        """The key of the row at `index`, or `None` when out of range."""
        if 0 <= index < len(self._keys):
            return self._keys[index]
        return None

    def label_at(self, index: int) -> Label | None:
        """The label of the row at `index` as given to `set_rows`, or `None`."""
        if 0 <= index < len(self._labels):
            return self._labels[index]
        return None

    # ---------------------------------------------------------------- cursor

    @property
    def highlighted(self) -> int | None:
        """The cursor row, or `None` when there are no rows."""
        return self._highlighted

    @highlighted.setter
    def highlighted(self, index: int | None) -> None:
        count = len(self._keys)
        if index is not None:
            index = max(0, min(index, count - 1)) if count else None
        old = self._highlighted
        if index == old:
            self.scroll_to_highlight()
            return
        self._highlighted = index
        if old is not None:
            self.refresh_line(old)
        if index is not None:
            self.refresh_line(index)
            self.scroll_to_highlight()
            self.post_message(self.Highlighted(self, self._keys[index], index))

    @property
    def highlighted_key(self) -> str | None:
        """The key of the cursor row, or `None`."""
        index = self._highlighted
        return None if index is None else self._keys[index]

    def highlight_key(self, key: str) -> bool:
        """Move the cursor to the row with `key` and scroll it into view.

        Returns:
            False (and nothing changes) when no row has that key.
        """
        index = self._rows.index_of(key)
        if index is None:
            return False
        self.highlighted = index
        return True

    def scroll_to_highlight(self) -> None:
        """Scroll the least distance that makes the cursor row visible."""
        index = self._highlighted
        if index is None or not self.is_mounted:
            return
        region = self.scrollable_content_region
        if not region.height:
            return  # not laid out yet; `_on_resize` will scroll.
        self.scroll_to_region(
            Region(0, index, max(1, region.width), 1),
            animate=False,
            force=True,
            immediate=True,
            x_axis=False,
        )

    def _move(self, delta: int) -> None:
        if not self._keys:
            return
        current = self._highlighted
        self.highlighted = 0 if current is None else current + delta

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def action_cursor_up(self) -> None:
        """Move the cursor up one row."""
        self._move(-1)

    def action_cursor_down(self) -> None:
        """Move the cursor down one row."""
        self._move(1)

    def action_page_up(self) -> None:
        """Move the cursor up one screenful."""
        self._move(-self._page())

    def action_page_down(self) -> None:
        """Move the cursor down one screenful."""
        self._move(self._page())

    def action_first(self) -> None:
        """Move the cursor to the first row."""
        if self._keys:
            self.highlighted = 0

    def action_last(self) -> None:
        """Move the cursor to the last row."""
        if self._keys:
            self.highlighted = len(self._keys) - 1

    def action_select(self) -> None:
        """Post `Selected` for the cursor row."""
        index = self._highlighted
        if index is not None:
            self.post_message(self.Selected(self, self._keys[index], index))

    # ---------------------------------------------------------------- events

    def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = self.scroll_offset.y + offset.y
        if 0 <= index < len(self._keys):
            self.highlighted = index

    def _on_resize(self, _: events.Resize) -> None:
        self._update_virtual_size()
        self.scroll_to_highlight()

    def _on_focus(self, _: events.Focus) -> None:
        self.refresh()

    def _on_blur(self, _: events.Blur) -> None:
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self.refresh()

    def _update_virtual_size(self) -> None:
        size = Size(self.scrollable_content_region.width, len(self._keys))
        if size != self.virtual_size:
            self.virtual_size = size
            self._scroll_update(size)

    # ------------------------------------------------------------- rendering

    def render_lines(self, crop: Region) -> list[Strip]:
        self._paint_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._paint_style = None

    def render_line(self, y: int) -> Strip:
        """Render line `y` of the view: the row at `scroll_offset.y + y`, or a blank."""
        width = self.scrollable_content_region.width
        base = self._paint_style or self.rich_style
        index = self.scroll_offset.y + y
        if width <= 0 or not 0 <= index < len(self._keys):
            return Strip.blank(max(0, width), base)

        cursor = self.get_component_rich_style(
            "virtual-list--highlight" if self.has_focus else "virtual-list--highlight-blur"
        )
        signature = (width, base, cursor)
        strips = self._strips
        if signature != self._strips_signature:
            strips.clear()
            self._strips_signature = signature
        is_cursor = index == self._highlighted
        cached = strips.get(index)
        if cached is not None and cached[0] == is_cursor:
            return cached[1]

        strip = self._render_row(index, width, base + cursor if is_cursor else base)
        if len(strips) >= 4 * max(16, self.size.height):
            self._prune_strips()
        strips[index] = (is_cursor, strip)
        return strip

    def _prune_strips(self) -> None:
        """Forget rendered rows that are not on screen."""
        top = self.scroll_offset.y
        bottom = top + self.size.height
        self._strips = {i: s for i, s in self._strips.items() if top <= i < bottom}

    def _render_row(self, index: int, width: int, style: Style) -> Strip:
        label = self._labels[index]
        if isinstance(label, str):
            # The common case (plain titles), drawn without a Text: same cells, a tenth the work.
            plain = _CONTROL.sub(" ", label)
            if cell_len(plain) > width:
                plain = set_cell_size(plain, width - 1) + "…"
            else:
                plain = set_cell_size(plain, width)
            return Strip([Segment(plain, style)], width)
        else:
            text = label.copy()
            plain = text.plain
            if _CONTROL.search(plain):
                text.plain = _CONTROL.sub(" ", plain)  # same length: spans stay put
        text.truncate(width, overflow="ellipsis")
        segments = list(text.render(self.app.console))
        strip = Strip(segments, text.cell_len).apply_style(style)
        return strip.adjust_cell_length(width, style)
