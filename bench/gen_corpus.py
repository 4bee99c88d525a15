"""Write a synthetic QuickTakes-style content folder for the benchmark (deterministic per seed).

    python bench/gen_corpus.py OUT_DIR --articles 100000 [--seed 7]

Files are laid out as OUT_DIR/<subject-slug>/<slug>.md in the real format: `>-` folded scalars
with 4-space indents, `seo:` with 2, an answer on one line with literal `\\n` escapes and LaTeX,
`related_articleN` entries (a few point at ids that do not exist, a few repeat), `&nbsp;` body.
Subject sizes follow a long tail so one subject holds tens of thousands of articles.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

SUBJECTS = [
    "Computer Science", "Mathematics", "Biology", "Medicine", "Psychology", "Physics",
    "Chemistry", "Economics", "Engineering", "History", "Business", "Philosophy", "Law",
    "Sociology", "Nursing", "Statistics", "Finance", "Education", "Geography", "Music",
    "Linguistics", "Astronomy", "Marketing", "Literature", "Anthropology",
]  # fmt: skip
VOCABULARY = (  # noqa: SIM905 - a sentence reads better than a list of 40 strings
    "signal lattice enzyme ledger theorem vector market neuron contract photon protocol "
    "habitat tariff syntax orbit catalyst cohort variance dialect empire tensor membrane "
    "compiler sonnet treaty glacier reflex bond queue spectrum hormone verdict estuary "
    "algorithm melody inflation genome torque census parable isotope"
).split()
OPENERS = [
    "How does", "What is the role of", "Why do", "How can you measure", "What explains",
    "When should you use", "What limits", "How is", "Which factors shape", "What drives",
]  # fmt: skip
WEIGHTS = [1 / (rank + 1) ** 1.5 for rank in range(len(SUBJECTS))]  # the largest ~45%


def slugify(text: str) -> str:
    """Lowercase words joined by hyphens, as the urls use."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(low, high)))


def make_answer(rng: random.Random) -> str:
    blocks = [words(rng, 30, 60).capitalize() + "."]
    for _ in range(rng.randint(2, 6)):
        roll = rng.random()
        heading = f"### {words(rng, 2, 4).title()}"
        if roll < 0.2:
            formula = "E = \\frac{1}{2} m v^2 + \\sum_{i=1}^{n} x_i"
            blocks.append(f"{heading}\\n$$\\n{formula}\\n$$")
        elif roll < 0.3:
            blocks.append(f"| Term | Value |\\n|---|---|\\n| \\( \\mu \\) | {rng.randint(2, 90)} |")
        elif roll < 0.4:
            blocks.append(f"```python\\ndef f(x):\\n    return x ** {rng.randint(2, 5)}\\n```")
        else:
            items = "\\n".join(
                f"{n}. **{words(rng, 1, 2)}**: {words(rng, 8, 20)}." for n in (1, 2, 3)
            )
            blocks.append(f"{heading}\\n{items}")
    return "\\n\\n".join(blocks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    first_id = 500_000
    plan = []
    used: set[str] = set()
    for number in range(args.articles):
        subject = rng.choices(SUBJECTS, WEIGHTS)[0]
        title = f"{rng.choice(OPENERS)} {words(rng, 2, 5)}?"
        slug = slugify(title)
        while slug in used:
            slug = f"{slug}-{rng.randint(2, 99_999)}"
        used.add(slug)
        plan.append((first_id + number, title, subject, slug))
    for ident, title, subject, slug in plan:
        folder = args.out / slugify(subject)
        folder.mkdir(parents=True, exist_ok=True)
        url = f"/learn/{slugify(subject)}/questions/{slug}"
        lines = [
            "---", "_schema: default", f"id: {ident}", f"date: 2025-{rng.randint(1, 12):02d}-"
            f"{rng.randint(1, 28):02d}", "title: >-", f"    {title}", "article_title: >-",
            f"    {title}", "date_format: MMM DD, YYYY", "post_on_text: Posted on", "seo:",
            f"  title: QuickTakes | {subject}", "  page_description: >-",
            f"    {words(rng, 12, 24).capitalize()}.", "  page_keywords: >-",
            f"    {', '.join(words(rng, 5, 9).split())}", "author: QuickTakes", "question: >-",
            f"    {title}", "answer: >-", f"    {make_answer(rng)}", f"subject: {subject}",
            f"file_name: {slug}.md", f"url: {url}", "score: -1.0",
        ]  # fmt: skip
        targets = [rng.choice(plan) for _ in range(rng.randint(1, 5))]
        if rng.random() < 0.05:
            targets.append(targets[0])  # a repeated entry
        for n, (t_id, t_title, t_subject, t_slug) in enumerate(targets, start=1):
            if rng.random() < 0.02:
                t_id = 9_000_000 + rng.randint(0, 99_999)  # not in the folder
            lines += [
                f"related_article{n}:", f"    id: {t_id}", "    title: >-", f"        {t_title}",
                f"    subject: {t_subject}",
                f"    url: /learn/{slugify(t_subject)}/questions/{t_slug}",
            ]  # fmt: skip
        lines += ["---", "", "&nbsp;"]
        (folder / f"{slug}.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.articles} articles to {args.out}")


if __name__ == "__main__":
    main()
