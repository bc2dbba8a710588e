"""What a benchmark run found, and how it is written: a markdown table and the same as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import Machine
from bench.roofline import Roofline

BASELINE = "baseline"
OK = "ok"
NOT_AVAILABLE = "not available"


@dataclass
class SideResult:
    """One side of the comparison: the naive baseline, or the project with one set of flags."""

    side: str
    flags: list[str] = field(default_factory=list)
    status: str = OK  # ok, "not available" (the CLI lacks the flag), or "failed: …"
    first_run_s: float | None = None  # the untimed warm-up run (a one-time model conversion lands here)
    probe_s: float | None = None  # process wall of a one-sentence article with 1-token outputs
    load_s: float | None = None  # imports + model load, timed from outside (see the notes)
    load_in_script_s: float | None = None  # the baseline's own perf_counter timing of the same
    one_article_s: float | None = None
    one_article_rss_mb: float | None = None
    batch_s: float | None = None
    batch_rss_mb: float | None = None
    batch_articles: int = 0  # that came out without an error
    articles_per_s: float | None = None
    summary_tokens_per_s: float | None = None
    generated_tokens_per_s: float | None = None  # summaries and translations
    mean_input_tokens: float | None = None  # what the summariser read (after the 600-token cut)
    mean_article_tokens: float | None = None  # the project's count before any cut (tokens per word)
    mean_summary_chars: float | None = None
    translated_inputs_per_article: float | None = None
    warnings: list[str] = field(default_factory=list)  # what the project said about every article
    # Agreement of the batch outputs with torch fp32's on the same articles (run.agreement); None for
    # the baseline, and where there is no fp32 output to compare with. The fp32 side is the reference.
    agreement_reference: bool = False
    same_summary_ru: float | None = None  # share of articles whose summary_ru is identical to fp32's
    char_agreement_ru: float | None = None  # mean share of character positions that agree
    same_summary_en: float | None = None
    char_agreement_en: float | None = None
    runs: dict[str, list[float]] = field(default_factory=dict)  # every wall time, by stage

    @property
    def ok(self) -> bool:
        return self.status == OK

    def fail(self, reason: str) -> None:
        self.status = f"failed: {reason}"


@dataclass
class SummarizerResult:
    preset: str  # the shipped preset it stands for
    model: str  # the hub id whose architecture it has
    sides: list[SideResult]
    launchers_s: dict[str, float] = field(default_factory=dict)  # python -c pass; the CLI without a model
    roofline: Roofline | None = None


@dataclass
class Report:
    machine: Machine
    command: str
    settings: dict[str, Any]
    models: dict[str, dict[str, Any]]
    startup: dict[str, Any]
    summarizers: list[SummarizerResult]
    notes: list[str]

    def write(self, folder: Path, stamp: str) -> list[Path]:
        """latest.md/.json (latest-tiny.* for tiny runs) plus a dated copy of each."""
        folder.mkdir(parents=True, exist_ok=True)
        size = self.settings["size"]
        suffix = "" if size == "full" else f"-{size}"
        markdown, data = self.markdown(), json.dumps(asdict(self), ensure_ascii=False, indent=1)
        written = []
        for name in (f"latest{suffix}", f"{stamp}-{size}"):
            for extension, text in ((".md", markdown), (".json", data)):
                path = folder / f"{name}{extension}"
                path.write_text(text + "\n", encoding="utf-8")
                written.append(path)
        return written

    def markdown(self) -> str:
        s = self.settings
        out = [
            "# summarize benchmark",
            "",
            f"**Machine:** {self.machine.line()}",
            "",
            (
                f"**Run:** `{self.command}` · size {s['size']} · {s['articles']} articles in the batch · "
                f"median of {s['repeats']} runs for the short stages, one batch run per side · summaries "
                f"{s['summary_tokens']} tokens ({_settings(s['summary_settings'])}) · translations "
                f"{s['translation_tokens']} tokens per input ({_settings(s['translation_settings'])})."
            ),
            "",
            "**Models** (real configs, random weights): "
            + "; ".join(
                f"{m['model']}: {m['parameters'] / 1e6:.1f} M parameters, vocabulary {m['vocab_size']:,} ({m['pieces']:,} trained pieces)"
                for m in self.models.values()
            ),
            "",
            "## Start-up",
            "",
            "| | seconds (median) |",
            "| --- | ---: |",
            f"| project: `summarize --help` | {_num(self.startup['project_s'])} |",
            f'| baseline: `python -c "import torch, transformers"` | {_num(self.startup["baseline_s"])} |',
            f"| ratio project / baseline | {_ratio(self.startup['project_s'], self.startup['baseline_s'])} |",
        ]
        for result in self.summarizers:
            out += ["", *_summarizer_section(result)]
        out += ["", "## Notes", "", *(f"- {note}" for note in self.notes)]
        return "\n".join(out)


# Table rows: label, the SideResult field, True when higher is better.
ROWS: list[tuple[str, str, bool]] = [
    ("one article, process start → exit (s)", "one_article_s", False),
    ("batch: articles/s", "articles_per_s", True),
    ("batch: summary tokens/s", "summary_tokens_per_s", True),
    ("batch: all generated tokens/s (summaries + translations)", "generated_tokens_per_s", True),
    ("batch: process start → exit (s)", "batch_s", False),
    ("peak RSS, batch (MB)", "batch_rss_mb", False),
    ("peak RSS, one article (MB)", "one_article_rss_mb", False),
    ("model load, imports included, from outside (s)", "load_s", False),
    ("probe: one-line article, 1-token outputs, start → exit (s)", "probe_s", False),
]
CHECKS: list[tuple[str, str]] = [  # same work on both sides? (not ratios)
    ("check: baseline's load, timed inside its script (s)", "load_in_script_s"),
    ("check: mean tokens the summariser read per article", "mean_input_tokens"),
    ("check: mean summary characters", "mean_summary_chars"),
    ("check: translator inputs per article", "translated_inputs_per_article"),
    ("check: first (warm-up) run, untimed (s)", "first_run_s"),
]
AGREEMENT: list[tuple[str, str]] = [  # the batch outputs against torch fp32's (not ratios; see the notes)
    ("agreement with fp32: summary_ru identical (share of articles)", "same_summary_ru"),
    ("agreement with fp32: summary_ru characters, position by position (mean)", "char_agreement_ru"),
    ("agreement with fp32: summary_en identical (share of articles)", "same_summary_en"),
    ("agreement with fp32: summary_en characters, position by position (mean)", "char_agreement_en"),
]
AGREEMENT_KEYS = {key for _, key in AGREEMENT}


def _summarizer_section(result: SummarizerResult) -> list[str]:
    sides = result.sides
    baseline = next(s for s in sides if s.side == BASELINE)
    header = ["metric", *(s.side if s.side == BASELINE else f"{s.side} `{' '.join(s.flags) or '(no flags)'}`" for s in sides)]
    out = [
        f"## {result.preset} ({result.model}) + opus-mt-ru-en",
        "",
        "| " + " | ".join(header) + " |",
        "| --- |" + " ---: |" * len(sides),
    ]

    def cell(side: SideResult, key: str, with_ratio: bool) -> str:
        if not side.ok:
            return side.status if side.status == NOT_AVAILABLE else "failed (see below)"
        value = getattr(side, key)
        if key in AGREEMENT_KEYS and side.agreement_reference:
            return "1.00 (reference)"
        if not with_ratio or side is baseline:
            return _num(value)
        return f"{_num(value)} ({_ratio(value, getattr(baseline, key))})"

    for label, key, higher in ROWS:
        arrow = "↑" if higher else "↓"
        out.append(f"| {label} {arrow} | " + " | ".join(cell(s, key, True) for s in sides) + " |")
    for label, key in CHECKS + AGREEMENT:
        out.append(f"| {label} | " + " | ".join(cell(s, key, False) for s in sides) + " |")
    out += [
        "",
        (
            "Ratios in brackets are project / baseline: below 1× is better for ↓ rows, above 1× for ↑ rows. "
            f"Launchers without a model: `python -c pass` {_num(result.launchers_s.get('python'))} s, the CLI on the "
            f"probe with `--engine lead --no-translate` {_num(result.launchers_s.get('cli'))} s."
        ),
    ]
    failed = [s for s in sides if not s.ok]
    for side in failed:
        out.append(f"- {side.side}: {side.status}")
    for side in sides:
        for warning in side.warnings:
            out.append(f"- {side.side} said on every article: {warning}")
    if result.roofline:
        out += ["", *_roofline_section(result.roofline)]
    return out


def _roofline_section(r: Roofline) -> list[str]:
    total = r.step_weights_mb + r.step_cross_kv_mb + r.step_self_kv_mb
    return [
        "### How far from the hardware limit (in-process torch fp32, summariser only, best of runs)",
        "",
        "| stage | measured | limit on this machine | × the limit |",
        "| --- | ---: | ---: | ---: |",
        (
            f"| encoder, {r.documents} × {r.input_tokens} tokens | {r.encoder_s * 1e3:,.0f} ms = "
            f"{r.encoder_gflop:,.1f} GFLOP at {r.encoder_gflop_s:,.1f} GFLOP/s | fp32 matmul peak "
            f"{r.gemm_gflop_s:,.1f} GFLOP/s | {1 / r.encoder_fraction_of_peak:,.2f}× |"
        ),
        (
            f"| decode step, {r.beams} beams × {r.documents} document, {r.steps} steps | {r.step_ms:,.1f} ms | "
            f"{total:,.1f} MB read (weights {r.step_weights_mb:,.1f}, cross-attention K/V {r.step_cross_kv_mb:,.1f}, "
            f"self-attention K/V {r.step_self_kv_mb:,.1f} mean) at {r.copy_gb_s:,.1f} GB/s copy bandwidth = "
            f"{r.step_bound_ms:,.1f} ms | {r.step_over_bound:,.2f}× |"
        ),
    ]


def _settings(settings: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in settings.items())


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3f}"


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "-"
    return f"{value / base:.2f}×"
