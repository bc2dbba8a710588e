"""Each article gets its own summary and translation: the pipeline sorts a group by length for
dense batches and must put every output back on the article it came from. The tiny models write
gibberish, so whose summary is whose is checked with deterministic engines at the engine seam."""

import pytest

from summarize.config import Preset
from summarize.documents import Document, Failure
from summarize.engines.protocol import Engines, Generated
from summarize.options import Options
from summarize.pipeline import Pipeline


class TagEngine:
    """A ModelEngine double: a word is a token; the output names the input's first word (a
    summariser) or repeats the whole input (a translator, `whole`)."""

    special_tokens = 0
    device = "cpu"

    def __init__(self, name: str, prefix: str, batch_tokens: int, whole: bool = False):
        self.preset = Preset(name=name, model=f"/nowhere/{name}", max_input_tokens=10_000)
        self.backend = f"tag {name}"
        self.prefix, self.batch_tokens, self.whole = prefix, batch_tokens, whole
        self.calls: list[list[str]] = []

    def count_tokens(self, texts):
        return [len(t.split()) for t in texts]

    def input_length(self, text):
        return len(text.split())

    def generate(self, texts, settings, batch_size=8, hints=None, leg=None):
        self.calls.append(list(texts))
        return [Generated(f"{self.prefix} {text if self.whole else text.split()[0] + '.'}") for text in texts]


# Input order differs from length order (the pipeline sorts shortest first): 3 5 1 4 2 words·10.
TAGS = {"Гамма": 30, "Эпсилон": 50, "Альфа": 10, "Дельта": 40, "Бета": 20}


def article(tag: str, words: int) -> Document:
    return Document(source=f"{tag}.txt", text=f"{tag} " + " ".join(["слово"] * (words - 2)) + " конец.")


@pytest.mark.parametrize("batch_tokens", [10_000, 90], ids=["one-batch", "batches-of-two"])
def test_every_summary_and_translation_lands_on_its_own_article(batch_tokens):
    summarizer = TagEngine("sum", "Итог", batch_tokens)
    translator = TagEngine("mt", "Summary of", 10_000, whole=True)
    options = Options(summarizer=summarizer.preset, translator=translator.preset, summary_settings={"num_beams": 1})
    items = [article(tag, words) for tag, words in TAGS.items()]
    items.insert(2, Failure(source="broken.txt", error="broken.txt: cannot read it"))  # a failure in between keeps its place
    results = list(Pipeline(options, Engines(summarizer, translator)).run_all(items, group_size=len(items)))
    assert [item.source for item, _ in results] == [item.source for item in items]
    for item, result in results:
        tag = item.source.removesuffix(".txt")
        if isinstance(item, Failure):
            assert (result.error, result.summary_ru) == ("broken.txt: cannot read it", None)
            continue
        assert (result.source, result.summary_ru, result.summary_en) == (item.source, f"Итог {tag}.", f"Summary of Итог {tag}.")
    # The summariser did see them shortest first, so the order had to be undone.
    assert [text.split()[0] for call in summarizer.calls for text in call] == sorted(TAGS, key=TAGS.get)
    assert len(summarizer.calls) == (1 if batch_tokens == 10_000 else 3)


class FailingOn(TagEngine):
    """The summariser double that fails on one article, as a model out of memory would."""

    def generate(self, texts, settings, batch_size=8, hints=None, leg=None):
        if any(text.startswith("Бета") for text in texts):
            raise RuntimeError("out of memory")
        return super().generate(texts, settings, batch_size)


def test_a_failed_result_names_only_what_it_reached():
    summarizer, translator = FailingOn("sum", "Итог", 10_000), TagEngine("mt", "Summary of", 10_000, whole=True)
    options = Options(summarizer=summarizer.preset, translator=translator.preset, summary_settings={})
    items = [Failure(source="unread.txt", error="unread.txt: cannot read it"), article("Бета", 20), article("Альфа", 10)]
    unread, failed, done = [result for _, result in Pipeline(options, Engines(summarizer, translator)).run_all(items)]
    recorded = ("engine", "model", "backend", "translator")
    assert [getattr(unread, name) for name in recorded] == [None, None, None, None]  # never reached any engine
    assert failed.error.startswith("Бета.txt: the model failed on it (RuntimeError: out of memory)")
    assert [getattr(failed, name) for name in recorded] == ["abstractive", "sum", "tag sum", None]  # no translation was made
    assert [getattr(done, name) for name in recorded] == ["abstractive", "sum", "tag sum", "mt"]
