"""The library API: the same pipeline as the CLI, without a process or a terminal."""

import re

import pytest

from summarize import SummarizeError, Summarizer, summarize_text
from summarize.config import Engine, Length


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


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        ({"beams": 100000}, "beams=100000 (as --beams): must be between 1 and 32"),
        ({"beams": 0}, "beams=0 (as --beams): must be between 1 and 32"),
        ({"beams": True}, "beams=True (as --beams): must be a whole number"),
        ({"max_words": 0}, "max_words=0 (as --max-words): must be at least 1"),
        ({"check": "no"}, "check='no' (as --check): must be True or False"),
        ({"engine": "summary"}, "engine='summary' (as --engine): must be one of abstractive, extractive, lead"),
        ({"engine": 3}, "engine=3 (as --engine): must be one of abstractive, extractive, lead"),
        ({"model": ""}, "model='' (as --model): must be a preset name from models.toml"),
        ({"translate": "no"}, "translate='no': must be True or False or None"),
        ({"strict": 1}, "strict=1: must be True or False"),
        ({"colour": "red"}, "unknown option 'colour'"),
    ],
)
def test_library_arguments_are_held_to_the_clis_choices_and_bounds(fast_config, arguments, said):
    with pytest.raises(SummarizeError) as error:
        Summarizer(str(fast_config), **arguments)
    assert str(error.value).startswith(said) and "\n" not in str(error.value)


def test_library_choices_take_any_case_and_none_is_not_given(fast_config):
    summarizer = Summarizer(str(fast_config), engine="LEAD", length="Short", long_mode=None, device=None, check=False)
    options = summarizer.pipeline.options
    assert (options.engine, options.length, options.long_mode.value, options.check) == (Engine.lead, Length.short, "truncate", False)
    assert summarizer("Москва, 3 марта. Дороги отремонтируют. Работы начнутся весной.").summary_ru


@pytest.mark.parametrize(("text", "said"), [("", "text: is empty"), (" \u200b\n", "text: is empty"), (None, "text=None: must be text"), (b"x", "text=b'x'")])
def test_a_text_the_cli_would_refuse_is_a_summarize_error(fast_config, text, said):
    summarizer = Summarizer(str(fast_config), engine="lead")
    with pytest.raises(SummarizeError, match=re.escape(said)):
        summarizer(text)
