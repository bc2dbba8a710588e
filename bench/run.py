"""CPU bench: the project's CLI against a naive transformers script, side by side.

    .venv/bin/python -m bench cpu                                   # full size: about an hour on 2 cores
    .venv/bin/python -m bench cpu --size tiny --articles 3 --repeats 1   # smoke run, under a minute

Both sides run as their own processes on the same random-weight models (bench/models.py) with the
same generate() settings, lengths pinned so that neither can stop early. Results go to
bench/results/ (latest.md, latest.json and a dated copy of each).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import statistics
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import corpus
from bench.measure import SUMMARIZE, ProcessRun, describe_machine, median, records, run_process, sentences
from bench.models import BuiltModel, ensure_models_in_child
from bench.report import (
    BASELINE,
    NOT_AVAILABLE,
    OK,
    Report,
    SideResult,
    SummarizerResult,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
HELP = "the CLI against a naive transformers script on CPU, on random-weight models of the real sizes"
PROBE_TEXT = "Москва, 1 декабря — РИА Новости. Правительство утвердило программу ремонта дорог."


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    flags: tuple[str, ...]


# The project's variants: the flags the bench passes to the CLI. A variant whose flag the CLI does
# not know (exit code 2 and "No such option") is reported as not available, so the bench runs
# before and after a feature lands.
VARIANTS = (
    Variant("fp32", "torch fp32", ("--backend", "torch")),
    Variant("int8", "torch int8", ("--backend", "torch", "--quantize", "int8")),
    Variant("ct2", "ctranslate2", ("--backend", "ctranslate2")),
)


@dataclass(frozen=True)
class Pair:
    """A summariser and the translator as both sides run them."""

    preset: str  # the bench preset in BENCH.toml
    shipped: str  # the shipped preset it stands for
    summarizer: BuiltModel
    translator: BuiltModel
    summary_settings: dict[str, Any]
    translation_settings: dict[str, Any]
    summary_max_input: int
    translation_max_input: int


@dataclass(frozen=True)
class Inputs:
    probe: Path
    one: Path
    batch: Path  # folder
    batch_words: int
    roofline_text: str


def main(args: argparse.Namespace) -> int:
    if not SUMMARIZE.exists():
        sys.exit(f"bench: {SUMMARIZE} not found; install the project into this environment (pip install -e .)")
    eval_dir = args.eval_dir or corpus.default_eval_dir(ROOT)
    if not (eval_dir / corpus.RIA).is_file():
        sys.exit(f"bench: no evaluation data in {eval_dir} (give --eval-dir)")
    cache = args.cache_dir.resolve()
    variants = [v for v in VARIANTS if v.key in args.variants]

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)  # the roofline runs in this process
    machine = describe_machine()
    names = ["rut5", "opus", *(["mbart"] if args.mbart else [])]
    models = ensure_models_in_child(names, args.size, cache, eval_dir)
    pairs = make_pairs(models, args)
    write_config(cache / "bench.toml", pairs, probe=False)
    write_config(cache / "bench-probe.toml", pairs, probe=True)

    with tempfile.TemporaryDirectory(prefix="summarize-bench-") as tmp:  # the RIA texts live only here
        inputs = write_inputs(eval_dir, Path(tmp), args.articles)
        runner = Runner(SUMMARIZE, cache, sides_env(cache, args.threads))
        startup = measure_startup(runner, args.repeats)
        results = [PairBench(runner, pair, variants, inputs, args).measure() for pair in pairs]
    report = make_report(args, machine, models, pairs, inputs, startup, results)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M")
    for path in report.write(args.results_dir, stamp):
        log(f"wrote {path}")
    print(report.markdown())
    broken = [s for r in results for s in r.sides if not s.ok and s.status != NOT_AVAILABLE]
    return 1 if broken else 0


def sides_env(cache: Path, threads: int | None) -> dict[str, str]:
    """One environment for every side: offline, the bench's own caches, the same thread count."""
    env = {k: v for k, v in os.environ.items() if k != "SUMMARIZE_CONFIG"}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(cache / "hf"), SUMMARIZE_CT2_CACHE=str(cache / "ct2"))
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


def make_report(args, machine, models: dict[str, BuiltModel], pairs: list[Pair], inputs: Inputs, startup, results: list[SummarizerResult]) -> Report:
    settings = {
        "size": args.size,
        "articles": args.articles,
        "repeats": args.repeats,
        "summary_tokens": args.summary_tokens,
        "translation_tokens": args.translation_tokens,
        "summary_settings": pairs[0].summary_settings,
        "translation_settings": pairs[0].translation_settings,
        "one_article": inputs.one.stem,
        "variants": [v.key for v in VARIANTS if v.key in args.variants],
        "threads": args.threads,
    }
    return Report(
        machine=machine,
        command=args.command,
        settings=settings,
        models={
            name: {"model": m.hub_id, "parameters": m.parameters, "vocab_size": m.vocab_size, "pieces": m.pieces, "path": str(m.path)}
            for name, m in models.items()
        },
        startup=startup,
        summarizers=results,
        notes=notes(results, inputs, args),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", choices=("full", "tiny"), default="full", help="real model sizes, or tiny ones for a smoke run")
    parser.add_argument("--articles", type=positive, default=32, help="articles in the batch stage (default 32)")
    parser.add_argument("--repeats", type=positive, default=3, help="runs per short stage; the median is reported (default 3)")
    parser.add_argument("--summary-tokens", type=int, default=60, help="summary length, fixed (default 60)")
    parser.add_argument("--translation-tokens", type=int, default=40, help="length of each translation, fixed (default 40)")
    parser.add_argument("--mbart", action="store_true", help="also benchmark mbart_ru_sum_gazeta (867 M parameters; doubles the time)")
    parser.add_argument(
        "--variants",
        type=variant_keys,
        default=[v.key for v in VARIANTS],
        help=f"project variants, comma-separated: {', '.join(f'{v.key} ({v.label})' for v in VARIANTS)}",
    )
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for every side (OMP_NUM_THREADS; default: the libraries' own)")
    parser.add_argument("--cache-dir", type=Path, default=BENCH / ".cache", help="models and configs (default bench/.cache)")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results", help="where the report goes (default bench/results)")
    parser.add_argument("--eval-dir", type=Path, default=None, help="the shared evaluation data (default ../shared/eval)")


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def variant_keys(text: str) -> list[str]:
    keys = text.split(",")
    if unknown := set(keys) - {v.key for v in VARIANTS}:
        raise argparse.ArgumentTypeError(f"unknown variants: {', '.join(sorted(unknown))}")
    return keys


def make_pairs(models: dict[str, BuiltModel], args: argparse.Namespace) -> list[Pair]:
    """The shipped presets' generate() settings (models.toml), with lengths pinned."""
    with open(ROOT / "models.toml", "rb") as f:
        shipped = tomllib.load(f)
    translator = shipped["translators"]["opus-mt-ru-en"]
    pairs = []
    for name, preset, bench_preset in (("rut5", "rut5-gazeta", "bench-rut5"), ("mbart", "mbart-gazeta", "bench-mbart")):
        if name not in models:
            continue
        summarizer = shipped["summarizers"][preset]
        pairs.append(
            Pair(
                preset=bench_preset,
                shipped=preset,
                summarizer=models[name],
                translator=models["opus"],
                summary_settings=fixed_length(summarizer["generate"], args.summary_tokens),
                translation_settings=fixed_length(translator["generate"], args.translation_tokens),
                summary_max_input=summarizer["max_input_tokens"],
                translation_max_input=translator["max_input_tokens"],
            )
        )
    return pairs


def fixed_length(generate: dict[str, Any], tokens: int) -> dict[str, Any]:
    """min_new_tokens = max_new_tokens: random weights could otherwise end one side's output early."""
    return {**{k: v for k, v in generate.items() if k != "max_length"}, "min_new_tokens": tokens, "max_new_tokens": tokens}


def write_config(path: Path, pairs: list[Pair], probe: bool) -> None:
    """BENCH.toml: presets on the local models with the pinned settings; the probe's generate 1 token."""

    def table(settings: dict[str, Any]) -> str:
        if probe:
            settings = {**settings, "min_new_tokens": 1, "max_new_tokens": 1}
        return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in settings.items()) + " }"

    first = pairs[0]
    text = [
        "# Written by bench/run.py: presets on random-weight models, lengths pinned.",
        "[defaults]",
        f'summarizer = "{first.preset}"',
        'translator = "bench-opus"',
        "translate = true",
        "",
        "[translators.bench-opus]",
        f"model = {json.dumps(str(first.translator.path))}",
        f"max_input_tokens = {first.translation_max_input}",
        f"generate = {table(first.translation_settings)}",
    ]
    for pair in pairs:
        text += [
            "",
            f"[summarizers.{pair.preset}]",
            f"model = {json.dumps(str(pair.summarizer.path))}",
            f"max_input_tokens = {pair.summary_max_input}",
            f"generate = {table(pair.summary_settings)}",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")


def write_inputs(eval_dir: Path, folder: Path, articles: int) -> Inputs:
    batch = corpus.batch_articles(eval_dir, articles)
    corpus.write_articles(batch, folder / "batch")
    one = corpus.median_article(eval_dir)
    probe = folder / "probe" / "probe.txt"
    probe.parent.mkdir()
    probe.write_text(PROBE_TEXT + "\n", encoding="utf-8")
    return Inputs(
        probe=probe,
        one=corpus.write_articles([one], folder / "one")[0],
        batch=folder / "batch",
        batch_words=sum(len(a.text.split()) for a in batch),
        roofline_text=max(batch, key=lambda a: len(a.text)).text,
    )


class Runner:
    """Builds both sides' command lines and runs them with the same environment."""

    def __init__(self, summarize_exe: Path, cache: Path, env: dict[str, str]):
        self.summarize_exe = summarize_exe
        self.cache = cache
        self.env = env

    def side(self, pair: Pair, variant: Variant | None, paths: list[Path], probe: bool) -> ProcessRun:
        """variant None is the baseline."""
        if variant is None:
            settings = {"min_new_tokens": 1, "max_new_tokens": 1} if probe else {}
            argv = [
                sys.executable,
                str(BENCH / "baseline.py"),
                *map(str, paths),
                "--summarizer",
                str(pair.summarizer.path),
                "--translator",
                str(pair.translator.path),
                "--summary-settings",
                json.dumps({**pair.summary_settings, **settings}),
                "--translation-settings",
                json.dumps({**pair.translation_settings, **settings}),
                "--summary-max-input",
                str(pair.summary_max_input),
                "--translation-max-input",
                str(pair.translation_max_input),
            ]
        else:
            argv = self.project_argv(pair, paths, variant.flags, probe)
        return self.run(argv)

    def project_argv(self, pair: Pair, paths: list[Path], flags: tuple[str, ...], probe: bool) -> list[str]:
        config = self.cache / ("bench-probe.toml" if probe else "bench.toml")
        return [
            str(self.summarize_exe),
            *map(str, paths),
            "--config",
            str(config),
            "--format",
            "jsonl",
            "--offline",
            "--device",
            "cpu",
            "--model",
            pair.preset,
            *flags,
        ]

    def run(self, argv: list[str]) -> ProcessRun:
        return run_process(argv, env=self.env, cwd=ROOT)


def measure_startup(runner: Runner, repeats: int) -> dict[str, Any]:
    """`summarize --help` against the import a transformers script starts with."""
    project, baseline = [], []
    for _ in range(repeats):
        for argv, times in (
            ([str(runner.summarize_exe), "--help"], project),
            ([sys.executable, "-c", "import torch, transformers"], baseline),
        ):
            run = runner.run(argv)
            if run.failure():
                sys.exit(f"bench: {shlex.join(argv)} failed: {run.failure()}")
            times.append(run.wall_s)
    log(f"start-up: summarize --help {median(project):.2f} s, import torch, transformers {median(baseline):.2f} s")
    return {"project_s": median(project), "baseline_s": median(baseline), "project_runs": project, "baseline_runs": baseline}


class PairBench:
    """The stages for one summariser: every side runs each stage before the next stage starts, and
    the repeats of a stage go round the sides in turn, so that drift in the machine's load spreads
    over all of them."""

    def __init__(self, runner: Runner, pair: Pair, variants: list[Variant], inputs: Inputs, args: argparse.Namespace):
        self.runner, self.pair, self.inputs, self.args = runner, pair, inputs, args
        self.sides: list[tuple[SideResult, Variant | None]] = [(SideResult(BASELINE), None)]
        self.sides += [(SideResult(v.label, list(v.flags)), v) for v in variants]
        self.launchers_s: dict[str, float] = {}  # the probe's launchers without a model

    def measure(self) -> SummarizerResult:
        self.warm_up()
        self.probe()
        self.one_article()
        self.batch()
        result = SummarizerResult(self.pair.shipped, self.pair.summarizer.hub_id, [side for side, _ in self.sides], self.launchers_s)
        result.roofline = self.roofline()
        return result

    def live(self) -> list[tuple[SideResult, Variant | None]]:
        return [(side, variant) for side, variant in self.sides if side.ok]

    def run(self, side: SideResult, variant: Variant | None, stage: str, paths: list[Path], probe: bool = False) -> ProcessRun | None:
        """One run of one side; None (and the side marked) when it failed or lacks its flag."""
        result = self.runner.side(self.pair, variant, paths, probe)
        log(f"{self.pair.preset} · {stage} · {side.side}: {result.wall_s:.2f} s, {result.peak_rss_mb:,.0f} MB")
        side.status = side_status(result, project=variant is not None)
        if not side.ok:
            log(f"{side.side}: {side.status}")
            return None
        side.runs.setdefault(stage, []).append(result.wall_s)
        return result

    def warm_up(self) -> None:
        """Untimed: fills the file cache, does any one-time model conversion, finds unknown flags."""
        for side, variant in self.sides:
            if (first := self.run(side, variant, "warm-up", [self.inputs.probe], probe=True)) is not None:
                side.first_run_s = first.wall_s

    def probe(self) -> None:
        """A one-line article with 1-token outputs: start-up and model load, almost no compute.
        Model load (imports included) is timed the same way on both sides, from outside: the probe
        less the same launcher without a model, `python -c pass` for the baseline and the CLI with
        `--engine lead --no-translate` for the project; exiting with the models loaded counts on both.
        The baseline also times its load inside the script (perf_counter), reported beside it."""
        launchers = {
            "python": [sys.executable, "-c", "pass"],
            "cli": self.runner.project_argv(self.pair, [self.inputs.probe], ("--engine", "lead", "--no-translate"), probe=True),
        }
        empty: dict[str, list[float]] = {name: [] for name in launchers}
        in_script: list[float] = []
        for _ in range(self.args.repeats):
            for name, argv in launchers.items():
                bare = self.runner.run(argv)
                if bare.failure():
                    sys.exit(f"bench: {shlex.join(argv)} failed: {bare.failure()}")
                empty[name].append(bare.wall_s)
            for side, variant in self.live():
                if (run := self.run(side, variant, "probe", [self.inputs.probe], probe=True)) is not None and variant is None:
                    times = next(r for r in records(run.stdout) if "load_seconds" in r)
                    in_script.append(times["import_seconds"] + times["load_seconds"])
        self.launchers_s = {name: median(times) for name, times in empty.items()}
        for side, variant in self.live():
            side.probe_s = median(side.runs["probe"])
            side.load_s = side.probe_s - self.launchers_s["python" if variant is None else "cli"]
            if variant is None:
                side.load_in_script_s = median(in_script)

    def one_article(self) -> None:
        rss: dict[str, list[float]] = {}
        for _ in range(self.args.repeats):
            for side, variant in self.live():
                if (run := self.run(side, variant, "one article", [self.inputs.one])) is not None:
                    rss.setdefault(side.side, []).append(run.peak_rss_mb)
        for side, _ in self.live():
            side.one_article_s, side.one_article_rss_mb = median(side.runs["one article"]), max(rss[side.side])

    def batch(self) -> None:
        expected = sum(side.one_article_s for side, _ in self.live()) * self.args.articles
        log(f"{self.pair.preset} · batch of {self.args.articles}: expect up to {expected / 60:.0f} min for all sides")
        outputs: dict[str, dict[str, dict[str, Any]]] = {}  # project variant -> source -> its JSON line
        for side, variant in self.live():
            if (run := self.run(side, variant, "batch", [self.inputs.batch])) is not None:
                batch_stats(side, run, variant is None, self.args)
                if variant is not None and side.ok:
                    outputs[variant.key] = {r["source"]: r for r in records(run.stdout) if "source" in r}
        compare_with_fp32(self.sides, outputs)

    def roofline(self):
        from bench import roofline

        log(f"{self.pair.preset} · roofline (in-process)")
        full = self.args.size == "full"
        return roofline.measure(
            self.pair.summarizer.path,
            self.inputs.roofline_text,
            self.pair.summary_settings,
            self.pair.summary_max_input,
            repeats=self.args.repeats,
            copy_mb=512 if full else 64,
            gemm_size=2048 if full else 512,
        )


def side_status(run: ProcessRun, project: bool) -> str:
    """ok; not available (the CLI does not know a variant's flag); or failed, with the reason."""
    if project and run.returncode == 2 and "No such option" in run.stderr:
        return NOT_AVAILABLE
    if run.failure():
        return f"failed: {run.failure()}"
    errors = [r["error"] for r in records(run.stdout) if r.get("error")]
    return f"failed: {errors[0]}" if errors else OK


def batch_stats(side: SideResult, run: ProcessRun, baseline: bool, args) -> None:
    """Rates over the whole process, start to exit. The baseline reports its token counts; the
    project's are the pinned lengths: each summary, and each translator input (one per summary
    sentence, as the project splits them)."""
    rows = [r for r in records(run.stdout) if "source" in r]
    if len(rows) != args.articles:
        side.fail(f"{len(rows)} results for {args.articles} articles")
        return
    if baseline:
        summary_tokens = sum(r["summary_tokens"] for r in rows)
        translation_tokens = sum(r["translation_tokens"] for r in rows)
        inputs_per_article = 1.0
    else:
        per_summary = [len(sentences(r["summary_ru"] or "")) for r in rows]
        summary_tokens = len(rows) * args.summary_tokens
        translation_tokens = sum(per_summary) * args.translation_tokens
        inputs_per_article = statistics.mean(per_summary)
        side.warnings = sorted(set.intersection(*(set(r.get("warnings") or []) for r in rows)))
    side.batch_s, side.batch_rss_mb, side.batch_articles = run.wall_s, run.peak_rss_mb, len(rows)
    side.articles_per_s = len(rows) / run.wall_s
    side.summary_tokens_per_s = summary_tokens / run.wall_s
    side.generated_tokens_per_s = (summary_tokens + translation_tokens) / run.wall_s
    # the baseline reports what it fed the model; the project what it used of the article's input_tokens
    side.mean_input_tokens = statistics.mean(r["input_tokens"] if baseline else r.get("used_tokens") or r["input_tokens"] for r in rows)
    if not baseline:
        side.mean_article_tokens = statistics.mean(r["input_tokens"] for r in rows)
    side.mean_summary_chars = statistics.mean(len(r["summary_ru"] or "") for r in rows)
    side.translated_inputs_per_article = inputs_per_article


def compare_with_fp32(sides: list[tuple[SideResult, Variant | None]], outputs: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Each project variant's batch outputs against torch fp32's, article by article (matched by
    source). Without real weights the int8 paths' quality cannot be measured here, so the bench
    reports how often they write what fp32 writes: with random weights that is numerical drift
    (near-equal logits whose order flips), not translation quality."""
    reference = outputs.get("fp32")
    for side, variant in sides:
        if variant is None or variant.key not in outputs or reference is None:
            continue
        if variant.key == "fp32":
            side.agreement_reference = True
        pairs = [(record, reference[source]) for source, record in outputs[variant.key].items() if source in reference]
        if not pairs:
            continue
        for lang in ("ru", "en"):
            texts = [(mine.get(f"summary_{lang}") or "", theirs.get(f"summary_{lang}") or "") for mine, theirs in pairs]
            setattr(side, f"same_summary_{lang}", statistics.mean(float(a == b) for a, b in texts))
            setattr(side, f"char_agreement_{lang}", statistics.mean(agreement(a, b) for a, b in texts))


def agreement(a: str, b: str) -> float:
    """The share of character positions, up to the longer length, where a and b hold the same
    character (1.0 for two empty strings).

    Characters, not whitespace-split words: random-weight summaries are often one long "word", for
    which word agreement could only be 0 or 1; characters mean the same for gibberish and for real
    text. Position by position: generation is autoregressive, so once one token differs the rest
    of the output usually diverges, and the measure reads roughly as how far in the two stay equal."""
    longer = max(len(a), len(b))
    if not longer:
        return 1.0
    return sum(x == y for x, y in zip(a, b)) / longer


def notes(results: list[SummarizerResult], inputs: Inputs, args) -> list[str]:
    out = [
        (
            "Inputs: the batch alternates the 20 RIA articles (HTML stripped) with newstest2019 documents "
            "(the file has no document ids: documents start at headline lines), repeated when more are asked for; "
            f"the one-article stage uses {inputs.one.stem}, the RIA article of median length; the probe is one "
            "line of two short sentences, with 1-token outputs on both models. All read from ../shared/eval at run time."
        ),
        (
            "Models: random weights (torch.manual_seed(0)) in the real architectures; each config, and where its values "
            "were found, is in bench/configs/. Sentencepiece vocabularies are trained on the Russian text of "
            "../shared/eval; the embedding tables keep the real vocabulary sizes."
        ),
        (
            "Same work on both sides: same model folders, same generate() settings (the shipped presets' plus "
            "min_new_tokens = max_new_tokens), input cut at the presets' max_input_tokens. Differences that are the "
            "project's design are measured, not removed: it cuts long articles at sentence ends rather than mid-"
            "sentence, and translates a summary sentence by sentence (the baseline sends the whole summary at once)."
        ),
        (
            "Model load, imports included, is timed from outside on both sides: the probe's process time less "
            "the same launcher without a model (`python -c pass` for the baseline; the CLI with `--engine lead "
            "--no-translate` for the project, so its lazy imports of torch and transformers, or ctranslate2, count "
            "as the baseline's do). Both include the probe's 1-token outputs (milliseconds) and exiting with the "
            "models loaded. The baseline's own perf_counter timing (from its first line through the imports and "
            "the four from_pretrained calls) is shown below it."
        ),
        (
            "Tokens: the baseline counts what generate() returned; the project's counts are the pinned lengths "
            "(one summary per article, one translation per summary sentence, split with razdel as the project does)."
        ),
        (
            "Random weights write gibberish: generated ids beyond the trained sentencepiece pieces decode to nothing "
            "(T5) or to placeholder names (Marian), so summaries are shorter in characters than 60 real tokens, and "
            "they seldom contain sentence ends, so the project usually sends one translator input per summary, like "
            "the baseline. Real summaries of ~3 sentences would cost the project more translator inputs than here."
        ),
        (
            "Agreement with fp32: each project variant's batch outputs against torch fp32's on the same articles: "
            "the share of articles whose summary_ru (summary_en) is identical, and the mean share of character "
            "positions, up to the longer text, that hold the same character (characters rather than words because "
            "random-weight summaries are often one long word). int8 and ctranslate2 both run int8 on CPU. With random "
            "weights this measures the numerical drift of the int8 paths (ties between near-equal logits flip, and "
            "the rest of the output follows), not translation quality, which needs real weights."
        ),
        ("Peak RSS is each process's ru_maxrss (os.wait4). Timings are wall clock on this machine; other load on it shows up in them."),
    ]
    for result in results:
        project = next((s for s in result.sides if s.ok and s.mean_article_tokens), None)
        if project:
            per_word = project.mean_article_tokens * project.batch_articles / inputs.batch_words
            out.append(
                f"{result.preset}: the trained vocabulary makes {per_word:.2f} tokens per word of the batch "
                "(the real tokenizer is not available here to compare)."
            )
        baseline = next(s for s in result.sides if s.side == BASELINE)
        if baseline.ok and baseline.summary_tokens_per_s and baseline.batch_s:
            made = baseline.summary_tokens_per_s * baseline.batch_s / max(baseline.batch_articles, 1)
            if round(made) != args.summary_tokens:
                out.append(f"{result.preset}: the baseline generated {made:.1f} summary tokens per article, not {args.summary_tokens}.")
    return out


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)
