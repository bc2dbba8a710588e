"""The Russian text the benchmark runs on, read at run time from the shared evaluation data.

The RIA texts are CC BY-NC-ND and must not be copied into the repository: they are only read from
`../shared/eval` and written to a temporary folder for the duration of a run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import chain, cycle, islice, zip_longest
from pathlib import Path

RIA = "summarization_ria20_headlines.jsonl"
NEWSTEST = "translation_newstest2019_ruen.jsonl"
FLORES = "translation_flores200_devtest_ruen.jsonl"
# A newstest line that does not end like a sentence is a headline: the start of a new document.
SENTENCE_ENDS = (".", "!", "?", "…", '"', "»", ")", ":", ";")
MIN_DOCUMENT_LINES = 3  # shorter "documents" are subheadings glued to what follows


@dataclass(frozen=True)
class Article:
    name: str  # file stem: ria20-01, newstest2019-doc07, …
    text: str


def default_eval_dir(repo_root: Path) -> Path:
    return repo_root.parent / "shared" / "eval"


def _records(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def ria_articles(eval_dir: Path) -> list[Article]:
    from summarize.inputs.pages import strip_html  # the project's own, as `summarize eval --strip-html` reads them

    return [Article(r["id"], strip_html(r["text"])) for r in _records(eval_dir / RIA)]


def newstest_documents(eval_dir: Path) -> list[Article]:
    """newstest2019 has no document ids in this file (ids are line numbers), so documents are cut
    at headlines (lines without a sentence end); cuts that leave fewer than three lines are
    undone. The last document may be cut off where the file's 300 lines end."""
    lines = [r["ru"].strip() for r in _records(eval_dir / NEWSTEST)]
    documents: list[list[str]] = []
    for line in lines:
        starts = not line.endswith(SENTENCE_ENDS)
        if not documents or (starts and len(documents[-1]) >= MIN_DOCUMENT_LINES):
            documents.append([])
        documents[-1].append(line)
    return [Article(f"newstest2019-doc{i:02d}", "\n".join(doc)) for i, doc in enumerate(documents, 1)]


def training_lines(eval_dir: Path) -> list[str]:
    """All the Russian text there is, for the sentencepiece vocabularies: the RIA articles (HTML
    stripped) and the `ru` side of both translation files."""
    lines = [line for article in ria_articles(eval_dir) for line in article.text.splitlines()]
    for name in (NEWSTEST, FLORES):
        lines.extend(r["ru"].strip() for r in _records(eval_dir / name))
    return [line for line in lines if line]


def batch_articles(eval_dir: Path, count: int) -> list[Article]:
    """`count` articles of mixed length: RIA articles and newstest documents alternating, then
    repeated (names get -r2, -r3…) when more are asked for than there are."""
    ria, news = ria_articles(eval_dir), newstest_documents(eval_dir)
    mixed = [a for a in chain.from_iterable(zip_longest(ria, news)) if a is not None]
    picked = list(islice(cycle(mixed), count))
    return [Article(a.name if i < len(mixed) else f"{a.name}-r{i // len(mixed) + 1}", a.text) for i, a in enumerate(picked)]


def median_article(eval_dir: Path) -> Article:
    """The RIA article of median length: the one-article stage's input."""
    articles = sorted(ria_articles(eval_dir), key=lambda a: len(a.text))
    return articles[len(articles) // 2]


def write_articles(articles: list[Article], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for article in articles:
        path = folder / f"{article.name}.txt"
        path.write_text(article.text + "\n", encoding="utf-8")
        paths.append(path)
    return paths
