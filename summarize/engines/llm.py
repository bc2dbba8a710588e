"""An instruction LLM behind an OpenAI-compatible endpoint, as a ModelEngine: the pipeline fits,
groups, translates and checks with it as with a seq2seq model. This module builds the prompts and
reads each reply into a Generated; the HTTP is llm_client's.

The context is the server's (llama.cpp says it at /props), the preset's `context_tokens`, or
unknown until an answer shows it: llama.cpp refuses a prompt over it (400), Ollama cuts it silently
(its usage then counts far fewer prompt tokens than were sent). Either way the engine learns the
limit and says the input overflowed, and the pipeline fits that input again (--long) and retries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from summarize.config import Preset
from summarize.engines.protocol import Generated, Hints, Remote
from summarize.errors import SummarizeError
from summarize.language_names import language_name
from summarize.llm_presets import LLMSettings, endpoint_host
from summarize.routes import SOURCE, Leg

SUMMARY_PROMPT = (
    "Перескажи главное из новости ниже на русском языке в {sentences} предложениях. Пиши только пересказ, без вступления, "
    "заголовка и списков. Не добавляй имён, чисел, дат и фактов, которых нет в тексте.\n\n"
    "Заголовок: {title}\n\nТекст:\n{article}"
)
TRANSLATION_PROMPT = (
    "Translate this {source} news summary into {language}. Keep every name, number and date exactly as it is, and write only the translation.\n\n{article}"
)
NO_TITLE = "Заголовок: \n\n"  # the default prompt's title line, left out for an article without one
# max_tokens when neither the preset nor --length says: a summary's 3 sentences take ~150; a translation
# is of a whole summary (--length long's 250 tokens, in English).
ANSWER_TOKENS = {False: 256, True: 512}
SENTENCES = 3  # asked for when the run gives no count (a translation ignores it)
# Without the server's tokenizer, tokens are estimated from characters: Russian runs 2.8-4 characters
# a token in today's BPE vocabularies, so 2.5 overcounts and an input fitted by it stays within the context.
CHARS_PER_TOKEN = 2.5
CHAT_OVERHEAD = 16  # tokens a chat template adds around a message
TITLE_ALLOWANCE = 48  # tokens kept for the title: fitting counts the body alone
COUNTED = 4096  # texts whose token counts are kept
UNLIMITED = 10**9  # max_input_tokens while the context is unknown
MIN_INPUT = 64  # tokens of article a context must leave after the answer and the prompt
# Ollama's silent cut: usage.prompt_tokens under this share of the prompt's tokens (counted by the
# server's tokenizer, or estimated, which overcounts by up to 1.6x).
CUT_SHARE = {True: 0.95, False: 0.5}


def cyrillic_share(text: str) -> float:
    """The share of a text's letters that are Cyrillic (1.0 without letters): an LLM may answer in the
    language of its instructions, or in English, instead of the article's."""
    letters = [c for c in text if c.isalpha()]
    return sum("\u0400" <= c <= "\u04ff" for c in letters) / len(letters) if letters else 1.0


def max_tokens(settings: LLMSettings, generate: dict[str, Any], translation: bool = False) -> int:
    """The answer's length limit: the preset's max_tokens, else --length's max_new_tokens, else
    ANSWER_TOKENS (never the server's own: llama.cpp's is unbounded, up to the whole context)."""
    return settings.max_tokens or generate.get("max_new_tokens") or ANSWER_TOKENS[translation]


class LLMEngine:
    """One preset's endpoint, probed at construction (SummarizeError, one line, when it cannot serve)."""

    device = "remote"
    batch_tokens = UNLIMITED * 1000  # a whole group is one "batch": the client's concurrency bounds the server's load

    def __init__(self, preset: Preset, concurrency: int, translation: bool = False, answer_tokens: int | None = None):
        from summarize.engines.llm_client import LLMClient

        if preset.llm is None:
            raise SummarizeError(
                f'preset {preset.name}: engine llm needs an endpoint (kind = "llm" with url and model in models.toml, or --llm-url and --llm-model)'
            )
        self.settings = preset.llm
        self.client = LLMClient(self.settings, preset.name, concurrency)
        self.backend = endpoint_host(self.settings.url)
        self.translation = translation
        self.template = self.settings.prompt or (TRANSLATION_PROMPT if translation else SUMMARY_PROMPT)
        self._counted: dict[str, int] = {}  # the pipeline counts a text, then sends it: one tokenize request for both
        self.template_tokens = self._count(self.template.format(article="", title="", sentences=SENTENCES, language="English", source="Russian"))
        self.special_tokens = self.template_tokens + CHAT_OVERHEAD + TITLE_ALLOWANCE
        self.answer_tokens = answer_tokens or 0  # kept free in the context for the answer (the load-time --length)
        self.preset = preset
        self.learn(self.settings.context_tokens or self.client.context)

    def learn(self, context: int | None) -> None:
        """The context size, from the preset, the server or an overflow: what an input may take is
        the context less the answer's tokens (the prompt's own are in input_length)."""
        limit = UNLIMITED if context is None else context - self.answer_tokens
        if context is not None and limit < self.special_tokens + MIN_INPUT:
            raise SummarizeError(
                f"preset {self.preset.name}: a context of {context} tokens leaves no room for an article after max_tokens = "
                f"{self.answer_tokens} and the prompt's ~{self.special_tokens}; use a shorter --length or a larger context"
            )
        self.context, self.preset = context, replace(self.preset, max_input_tokens=limit)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text: the server's tokenizer where it has one, else an overcounting estimate."""
        return [self._count(text) for text in texts]

    def _count(self, text: str) -> int:
        if text in self._counted:
            return self._counted[text]
        counted = self.client.tokenize(text) if self.client.can_tokenize and text else None
        if len(self._counted) >= COUNTED:
            self._counted.clear()
        self._counted[text] = counted if counted is not None else math.ceil(len(text) / CHARS_PER_TOKEN)
        return self._counted[text]

    def input_length(self, text: str) -> int:
        return self.special_tokens + self._count(text)

    def generate(
        self, texts: Sequence[str], settings: dict[str, Any], batch_size: int = 8, hints: Hints | None = None, leg: Leg | None = None
    ) -> list[Generated]:
        """Each text asked for in its own request, `client.concurrency` at a time; the outputs in order.
        `leg`: the languages a translation is from and into (none: Russian into English)."""
        hints = hints or Hints()
        titles = list(hints.titles) or [None] * len(texts)
        leg = leg or Leg(SOURCE, "en" if self.translation else SOURCE, self.preset.name)
        prompts = [self.prompt(text, title, hints.sentences, leg) for text, title in zip(texts, titles)]
        limit = max_tokens(self.settings, settings, self.translation)
        replies = self.client.chat_many([[{"role": "user", "content": p}] for p in prompts], limit, hints.should_stop)
        return [self._output(text, reply, limit) for text, reply in zip(texts, replies)]

    def prompt(self, text: str, title: str | None, sentences: int | None, leg: Leg | None = None) -> str:
        """The template filled in (a user's template is checked for its fields when models.toml loads);
        {language} names the language written (a translation's target), {source} the one read."""
        leg = leg or Leg(SOURCE, SOURCE, self.preset.name)
        names = {"language": language_name(leg.target), "source": language_name(leg.source)}
        filled = self.template.format(article=text, title=title or "", sentences=sentences or SENTENCES, **names)
        return filled.replace(NO_TITLE, "") if self.template is SUMMARY_PROMPT and not title else filled

    def _output(self, text: str, reply: Any, limit: int | None) -> Generated:
        from summarize.engines.llm_client import ContextOverflow, RequestFailed

        if reply is None:
            return Generated("", remote=Remote(cancelled=True))
        if isinstance(reply, ContextOverflow):
            return self._overflowed(reply.n_ctx or self.context, str(reply), Remote(usage=_usage(None, None)))
        if isinstance(reply, RequestFailed):
            return Generated("", remote=Remote(usage=_usage(None, None), failed=str(reply)))
        removed = (f"the LLM's reply had {reply.removed} control character(s) (terminal escapes?); they are removed",) if reply.removed else ()
        remote = Remote(model=reply.model or self.settings.model, usage=_usage(reply.prompt_tokens, reply.completion_tokens), notes=removed)
        sent = self.template_tokens + self._count(text)  # the title and the chat template left out: never an overcount
        if reply.prompt_tokens is not None and reply.prompt_tokens < CUT_SHARE[self.client.can_tokenize] * sent:
            why = f"the server read {reply.prompt_tokens} of the prompt's ~{sent} tokens: it cut the prompt to its context (as Ollama does past num_ctx)"
            return self._overflowed(reply.prompt_tokens, why, remote)
        capped = reply.finish_reason == "length"
        if not reply.text:
            why = f"it used all max_tokens = {limit} before any answer (thinking?)" if capped and limit else "its reply was empty"
            return Generated("", remote=replace(remote, failed=f"the LLM gave no {'translation' if self.translation else 'summary'}: {why}"))
        return Generated(reply.text, capped, remote)

    def _overflowed(self, context: int | None, why: str, remote: Remote) -> Generated:
        """An input over the context: the limit learnt (the pipeline fits the input again); a context
        too small for any article fails the input instead."""
        try:
            self.learn(context)
        except SummarizeError as e:
            return Generated("", remote=replace(remote, failed=f"{why}; {e}"))
        return Generated("", remote=replace(remote, failed=why, overflow=True))


def _usage(prompt_tokens: int | None, completion_tokens: int | None) -> dict[str, int]:
    return {"prompt_tokens": prompt_tokens or 0, "completion_tokens": completion_tokens or 0, "requests": 1}
