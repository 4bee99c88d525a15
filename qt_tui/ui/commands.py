"""Command palette provider: “Go to article…” with fuzzy matching over every title."""

from __future__ import annotations

import re
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..model.text import one_line

MAX_HITS = 50
#: Only this many prefiltered titles get the (slow) fuzzy scoring per keystroke.
MAX_SCORED = 400


class ArticleCommands(Provider):
    """Jump to any article by fuzzy title; stays quick at 100,000 titles."""

    _titles: list[tuple[str, str, str]] = []  # (folded title, title, key)
    _version: tuple[int, int] = (0, 0)

    def _folded_titles(self, library: object) -> list[tuple[str, str, str]]:
        articles = library.articles()  # type: ignore[attr-defined]
        version = (id(library), len(articles))
        if version != self._version:
            self._titles = [
                (one_line(a.title).casefold(), one_line(a.title), a.key) for a in articles
            ]
            self._version = version
        return self._titles

    async def search(self, query: str) -> Hits:
        screen = self.screen
        library = getattr(screen, "library", None)
        if library is None or not query.strip():
            return
        titles = self._folded_titles(library)
        words = query.casefold().split()
        candidates = [t for t in titles if all(word in t[0] for word in words)]
        if len(candidates) < MAX_HITS:  # fall back to letters in order, anywhere
            letters = ".*?".join(re.escape(ch) for ch in query.casefold() if not ch.isspace())
            pattern = re.compile(letters)
            seen = {t[2] for t in candidates}
            candidates += [t for t in titles if t[2] not in seen and pattern.search(t[0])]
        matcher = self.matcher(query)
        scored = []
        for _folded, title, key in candidates[:MAX_SCORED]:
            score = matcher.match(title)
            if score > 0:
                scored.append((score, title, key))
        scored.sort(key=lambda item: -item[0])
        for score, title, key in scored[:MAX_HITS]:
            article = library.get(key)
            yield Hit(
                score,
                matcher.highlight(title),
                partial(screen.open_article, key),  # type: ignore[attr-defined]
                text=f"Go to article: {title}",
                help=one_line(article.subject) if article is not None else None,
            )

    async def discover(self) -> Hits:
        yield DiscoveryHit(
            "Go to article…",
            self._hint,
            help="Type part of a title to jump to that article",
        )

    def _hint(self) -> None:
        self.app.notify("Type part of an article's title in the palette.", timeout=3)
