"""The library API: the same pipeline as the CLI, without a process or a terminal."""

from summarize import Summarizer, summarize_text


def test_summarizer_keeps_models_loaded_between_calls(fast_config, article):
    summarizer = Summarizer(str(fast_config), translate=False, long_mode="chunk")
    first = summarizer(article, source="article")
    assert first.source == first.id == "article" and first.summary_ru and first.summary_en is None
    assert first.chunks > 1 and not first.truncated
    engine = summarizer.pipeline.engines.summarizer
    assert summarizer("Москва, 3 марта. Дороги отремонтируют.").error is None
    assert summarizer.pipeline.engines.summarizer is engine


def test_summarize_text_reports_truncation(fast_config, article):
    result = summarize_text(article, config=str(fast_config))
    assert result.truncated and result.summary_en and result.warnings[0].startswith("summarised the first")
