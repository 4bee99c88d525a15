"""Command palette provider: “Go to article…” with fuzzy matching over every title."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..model.text import one_line

MAX_HITS = 50


class ArticleCommands(Provider):
    """Jump to any article by fuzzy title."""

    async def search(self, query: str) -> Hits:
        screen = self.screen
        library = getattr(screen, "library", None)
        if library is None:
            return
        matcher = self.matcher(query)
        scored: list[tuple[float, str, str]] = []
        for article in library.articles():
            title = one_line(article.title)
            score = matcher.match(title)
            if score > 0:
                scored.append((score, title, article.key))
        scored.sort(key=lambda item: -item[0])
        for score, title, key in scored[:MAX_HITS]:
            yield Hit(
                score,
                matcher.highlight(title),
                partial(screen.open_article, key),  # type: ignore[attr-defined]
                text=f"Go to article: {title}",
                help=library.get(key).subject if library.get(key) else None,
            )

    async def discover(self) -> Hits:
        yield DiscoveryHit(
            "Go to article…",
            self._hint,
            help="Type part of a title to jump to that article",
        )

    def _hint(self) -> None:
        self.app.notify("Type part of an article's title in the palette.", timeout=3)
