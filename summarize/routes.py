"""Which translator takes a summary into each target language (and an article into Russian): the
[[routes]] of models.toml, checked in order, parsed here and resolved into Legs the engines run.

A leaf (it imports only errors): config.py parses the table through it, options.py resolves a run's
--to with it, and the engines read a Leg's tokens without knowing where they came from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from summarize.errors import SummarizeError

SOURCE = "ru"  # the language the summarisers read and write
MAX_TARGETS = 8  # --to: more would be a translation service, not a summary
ROUTE_KEYS = {"translator", "from", "to", "prefix", "forced", "source"}
CODE = re.compile(r"[a-z]{2}")  # ISO 639-1
# Targets written in Cyrillic: Russian left in a translation into them is not a sign of text left untranslated.
CYRILLIC = frozenset({"ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "tg", "tt", "mn", "ba"})
# Targets no permissive model has a published score for: a run to one says so.
UNSCORED = {"kk": "no permissively licensed model has a published score for Russian → Kazakh (the best, NLLB-200 1.3B, is CC-BY-NC and 14.3 BLEU)"}


def noncommercial(licence: str | None) -> bool:
    """Whether a preset's licence forbids commercial use (CC-BY-NC-*): such presets need the opt-in."""
    return bool(licence) and "-NC" in licence.upper()


def refuse_noncommercial(presets: list[Any], opted: bool) -> None:
    """A CC-BY-NC preset (NLLB-200) is used or fetched only with the opt-in: SummarizeError otherwise."""
    for preset in presets:
        if noncommercial(preset.licence) and not opted:
            raise SummarizeError(f"translator {preset.name} is {preset.licence} (no commercial use); add --allow-noncommercial to use it")


@dataclass(frozen=True)
class Leg:
    """One translation step: the preset that makes it and the tokens its model needs for the pair."""

    source: str  # ISO 639-1 of the input
    target: str  # ISO 639-1 of the output
    translator: str  # a [translators] preset name
    prefix: str | None = None  # a token the input starts with (a multi-target Marian model's >>deu<<)
    forced: str | None = None  # the token the output must start with (M2M100's __de__, NLLB's deu_Latn)
    source_token: str | None = None  # the token the input starts with instead of the tokenizer's own (M2M100, NLLB)


@dataclass(frozen=True)
class Route:
    """One [[routes]] entry: a translator and the pairs it makes, with the model's token for each target."""

    translator: str
    sources: tuple[str, ...]
    targets: dict[str, str]  # ISO 639-1 → the model's own name for it (the {lang} of prefix/forced)
    prefix: str | None = None
    forced: str | None = None
    source_token: str | None = None

    def leg(self, source: str, target: str) -> Leg:
        lang = self.targets[target]
        prefix = self.prefix.format(lang=lang) if self.prefix else None
        forced = self.forced.format(lang=lang) if self.forced else None
        token = self.source_token.format(lang=self.targets.get(source, source)) if self.source_token else None
        return Leg(source, target, self.translator, prefix, forced, token)


@dataclass(frozen=True)
class Routes:
    """The route table and the defaults that go with it ([defaults] to and allow_noncommercial)."""

    routes: tuple[Route, ...] = ()
    to: tuple[str, ...] = ("en",)
    allow_noncommercial: bool = False

    def targets(self, source: str = SOURCE) -> list[str]:
        """Every target some route makes from `source`, sorted."""
        return sorted({t for r in self.routes if source in r.sources for t in r.targets} - {source})

    def sources(self) -> list[str]:
        """Every language some route takes into Russian, Russian itself first."""
        return [SOURCE, *sorted({s for r in self.routes if SOURCE in r.targets for s in r.sources} - {SOURCE})]

    def no_route(self, code: str, translator: str | None = None) -> str:
        """The one line for a target no allowed route makes (with `translator`: none that one makes)."""
        if translator is not None and (makers := [r.translator for r in self.routes if SOURCE in r.sources and code in r.targets]):
            return (
                f"--translator {translator}: no [[routes]] entry has it translate Russian into {code!r} (summary_{code} would hold another "
                f"language); the routes into {code}: {', '.join(makers)}; or add a [[routes]] entry for {translator}"
            )
        if (restricted := self.leg(SOURCE, code, lambda name: True)) is not None:
            return f"--to {code}: only {restricted.translator} (CC-BY-NC, no commercial use) translates into it; add --allow-noncommercial to use it"
        return f"--to {code}: no route translates Russian into {code!r}; the routes cover: {', '.join(self.targets())}"

    def leg(self, source: str, target: str, allowed: Any) -> Leg | None:
        """The first route for the pair whose translator `allowed(name)` accepts (a non-commercial
        one only with the opt-in); None when none makes it."""
        for route in self.routes:
            if source in route.sources and target in route.targets and allowed(route.translator):
                return route.leg(source, target)
        return None


def unscored(codes: list[str]) -> list[str]:
    """The notices a run to a language without a scored permissive model gives (Kazakh)."""
    return [f"--to {code}: {UNSCORED[code]}; check its translations (summarize eval --task translate --to {code})" for code in codes if code in UNSCORED]


def parse_targets(text: str, option: str = "--to") -> tuple[str, ...]:
    """`de,kk` → ("de", "kk"): ISO 639-1 codes, deduplicated in order, at most MAX_TARGETS."""
    codes = tuple(dict.fromkeys(c.strip().lower() for c in text.split(",") if c.strip()))
    bad = [c for c in codes if not CODE.fullmatch(c)]
    if not codes or bad:
        raise SummarizeError(f"{option} {text!r}: give two-letter ISO 639-1 codes separated by commas, e.g. {option} en or {option} de,kk")
    if len(codes) > MAX_TARGETS:
        raise SummarizeError(f"{option} {text!r}: at most {MAX_TARGETS} target languages in one run")
    return codes


def parse_routes(raw: Any, defaults: dict[str, Any], where: str, translators: dict[str, Any]) -> Routes:
    """[[routes]] and the two defaults, checked: every route names a translator preset that exists."""
    if not isinstance(raw, list):
        raise SummarizeError(f"config {where}: routes must be an array of tables ([[routes]])")
    routes = tuple(_route(body, where, f"routes[{i}]", translators) for i, body in enumerate(raw))
    to = defaults.get("to", ["en"])
    if not isinstance(to, list) or not all(isinstance(c, str) for c in to):
        raise SummarizeError(f'config {where}: defaults.to must be a list of ISO 639-1 codes, e.g. ["en"]')
    allow = defaults.get("allow_noncommercial", False)
    if not isinstance(allow, bool):
        raise SummarizeError(f"config {where}: defaults.allow_noncommercial must be true or false")
    return Routes(routes, parse_targets(",".join(to), "defaults.to") if to else (), allow)


def _route(body: Any, where: str, key: str, translators: dict[str, Any]) -> Route:
    if not isinstance(body, dict):
        raise SummarizeError(f"config {where}: {key} must be a table")
    unknown = sorted(set(body) - ROUTE_KEYS)
    if unknown:
        raise SummarizeError(f"config {where}: unknown key {key}.{unknown[0]}; valid keys: {', '.join(sorted(ROUTE_KEYS))}")
    name = body.get("translator")
    if name not in translators:
        raise SummarizeError(f"config {where}: {key}.translator {name!r} is not a [translators] preset")
    sources = body.get("from", SOURCE)
    sources = [sources] if isinstance(sources, str) else sources
    targets = body.get("to")
    targets = {t: t for t in targets} if isinstance(targets, list) else targets
    if not isinstance(targets, dict) or not targets or not isinstance(sources, list):
        raise SummarizeError(f'config {where}: {key}.to must be a list of codes or a table code = "model\'s name"; from a code or a list')
    for code in [*targets, *sources]:
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise SummarizeError(f"config {where}: {key}: {code!r} is not a two-letter ISO 639-1 code")
    strings = {k: body.get(k) for k in ("prefix", "forced", "source")}
    if any(v is not None and not isinstance(v, str) for v in [*strings.values(), *targets.values()]):
        raise SummarizeError(f"config {where}: {key}: prefix, forced, source and the names in to must be strings")
    return Route(name, tuple(sources), dict(targets), strings["prefix"], strings["forced"], strings["source"])
