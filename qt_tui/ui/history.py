"""Browser-style back/forward history of visited articles (no Textual import needed)."""

from __future__ import annotations


class History:
    """Visited article keys with a cursor; visiting after going back drops the forward part."""

    def __init__(self, limit: int = 500) -> None:
        self._keys: list[str] = []
        self._index = -1
        self._limit = limit

    @property
    def current(self) -> str | None:
        return self._keys[self._index] if self._keys else None

    def visit(self, key: str) -> None:
        """Record a visit (repeating the current article records nothing)."""
        if self.current == key:
            return
        del self._keys[self._index + 1 :]
        self._keys.append(key)
        if len(self._keys) > self._limit:
            del self._keys[0]
        self._index = len(self._keys) - 1

    def back(self) -> str | None:
        if self._index <= 0:
            return None
        self._index -= 1
        return self._keys[self._index]

    def forward(self) -> str | None:
        if self._index >= len(self._keys) - 1:
            return None
        self._index += 1
        return self._keys[self._index]

    def rename(self, old: str, new: str) -> None:
        """Keep history pointing at an article that moved."""
        self._keys = [new if key == old else key for key in self._keys]
