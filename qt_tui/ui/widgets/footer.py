"""The key bar at the bottom: Textual's Footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen


class KeysFooter(Footer):
    """Textual's Footer rebuilds itself (a widget per key, each styled anew: about 20 ms) at
    every focus change and every refresh of the bindings, whether or not the keys changed. At
    start-up that happened three times with the same keys, in the middle of loading the index,
    and again at each move between panes. This one rebuilds only when what it would show
    differs from what it shows (several refreshes in a row each compare; the first rebuilds)."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: object = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached:
            return
        shown = self._keys()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()

    def _keys(self) -> object:
        """Everything compose() reads: the active bindings (each with whether it is enabled
        and its tooltip) and the footer's own settings."""
        bindings = tuple(
            (key, binding, enabled, tooltip)
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
        )
        return (self.compact, self.show_command_palette, bindings)
