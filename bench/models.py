"""Random-weight models with the real architectures of the default presets, built once and cached.

The configs are the real ones (bench/configs/*.json, each naming where its values come from), so
every matrix the CPU multiplies has its real shape; only the numbers are random (torch.manual_seed).
The sentencepiece vocabularies are trained on the shared Russian text, as large as that text
allows, so that articles are cut into pieces the way a real vocabulary cuts them. The embedding
tables keep the real vocabulary sizes: input ids never go past the trained pieces, and generated
ids past them must still decode (checked after every build). The building itself (tokenizers,
random weights, saving) is the tests' builder, tests/tiny_models.py, given the real configs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import tiny_models  # noqa: E402  (the one random-weight builder, shared with the tests)

CONFIGS = Path(__file__).parent / "configs"
RECIPE_FILE = "bench-recipe.json"
BUILDER_VERSION = 2  # bump when a change here must rebuild cached models
SEED = 0
# --size tiny: the same architectures and vocabularies, a hundredth of the parameters or less.
TINY = {
    "t5": {"d_model": 32, "d_kv": 16, "d_ff": 64, "num_layers": 2, "num_decoder_layers": 2, "num_heads": 2},
    "marian": {
        "d_model": 32,
        "encoder_layers": 2,
        "decoder_layers": 2,
        "encoder_attention_heads": 2,
        "decoder_attention_heads": 2,
        "encoder_ffn_dim": 64,
        "decoder_ffn_dim": 64,
    },
}
TINY["mbart"] = TINY["marian"]
MODELS = {"rut5": "rut5_base_sum_gazeta", "opus": "opus_mt_ru_en", "mbart": "mbart_ru_sum_gazeta"}


@dataclass(frozen=True)
class RealConfig:
    """One model's published configuration and where it was found."""

    name: str  # rut5, opus, mbart
    model: str  # the hub id it stands for
    kind: str  # t5, marian, mbart
    source: str
    config: dict[str, Any]
    generation: dict[str, Any]  # the generation defaults its config.json carries
    separate_output_layer: bool  # the checkpoint holds lm_head apart from the input embeddings
    build_overrides: dict[str, Any]  # config values to build with instead (see the file's build_note)

    @classmethod
    def load(cls, name: str) -> RealConfig:
        data = json.loads((CONFIGS / f"{MODELS[name]}.json").read_text(encoding="utf-8"))
        return cls(
            name,
            data["model"],
            data["kind"],
            data["source"],
            data["config"],
            data["generation"],
            data.get("separate_output_layer", False),
            data.get("build_overrides", {}),
        )

    def sized(self, size: str) -> dict[str, Any]:
        return {**self.config, **TINY[self.kind]} if size == "tiny" else dict(self.config)


@dataclass(frozen=True)
class BuiltModel:
    name: str
    hub_id: str  # the model whose architecture it has
    path: Path
    parameters: int
    pieces: int  # sentencepiece vocabulary actually trained (the embedding table is vocab_size)
    vocab_size: int


def ensure_models(names: list[str], size: str, cache_dir: Path, lines: list[str]) -> dict[str, BuiltModel]:
    """Build the named models under cache_dir/models/SIZE, or reuse them when their recipe (config,
    size, training text, builder version) is unchanged."""
    built = {}
    for name in names:
        real = RealConfig.load(name)
        recipe = {
            "model": real.model,
            "size": size,
            "config": real.sized(size),
            "generation": real.generation,
            "separate_output_layer": real.separate_output_layer,
            "build_overrides": real.build_overrides,
            "text_sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
            "builder": BUILDER_VERSION,
        }
        folder = cache_dir / "models" / size / name
        saved = _saved_recipe(folder)
        if saved is None or saved["recipe"] != recipe:
            print(f"bench: building {size} {real.model} (random weights) in {folder}", file=sys.stderr, flush=True)
            _build(real, recipe, lines, folder)
            saved = _saved_recipe(folder)
        built[name] = BuiltModel(name, real.model, folder, saved["parameters"], saved["pieces"], recipe["config"]["vocab_size"])
    return built


def _saved_recipe(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / RECIPE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _build(real: RealConfig, recipe: dict[str, Any], lines: list[str], folder: Path) -> None:
    """Build into a temporary sibling and rename, so an interrupted build leaves no half a model."""
    import torch
    from transformers import GenerationConfig
    from transformers.utils import logging

    logging.disable_progress_bar()
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        tokenizer, pieces = _tokenizer(real.kind, work, lines, recipe["config"])
        model = tiny_models.random_model(real.kind, {**recipe["config"], **real.build_overrides}, seed=SEED).eval()
        if real.separate_output_layer:
            output = model.get_output_embeddings()
            output.weight = torch.nn.Parameter(torch.randn_like(output.weight) * model.get_input_embeddings().weight.std())
        model.generation_config = GenerationConfig.from_model_config(model.config)
        for key, value in real.generation.items():
            setattr(model.generation_config, key, value)
        tiny_models.save(model, tokenizer, work)
        parameters = sum(p.numel() for p in model.parameters())
        del model
        _restore_config(work / "config.json", recipe["config"], real.build_overrides)
        check_tokenizer(work, lines, recipe["config"]["vocab_size"])
        summary = {"recipe": recipe, "parameters": parameters, "pieces": pieces, "source": real.source}
        (work / RECIPE_FILE).write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _tokenizer(kind: str, folder: Path, lines: list[str], config: dict[str, Any]):
    """The real layouts: T5's vocabulary is all pieces; Marian's keeps </s>, <unk> and <pad> apart and
    vocab.json filled to the real size; MBart's keeps room for fairseq ids and language codes. MBart
    is unigram, as transformers converts the file: a BPE model would be split by it into far more pieces."""
    size = config["vocab_size"]
    if kind == "marian":
        return tiny_models.marian_tokenizer(folder, lines, size - 3, fill_to=size, pad_id=config["pad_token_id"])
    if kind == "mbart":
        return tiny_models.mbart_tokenizer(folder, lines, size - 100)
    return tiny_models.t5_tokenizer(folder, lines, size)


def _restore_config(path: Path, config: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Write back the real values that transformers rewrote on saving (T5's tie_word_embeddings),
    so that loading the folder goes through the same path as loading the real model."""
    saved = json.loads(path.read_text(encoding="utf-8"))
    saved.update({k: v for k, v in config.items() if k not in overrides})
    path.write_text(json.dumps(saved, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def check_tokenizer(folder: Path, lines: list[str], vocab_size: int) -> None:
    """What the benchmark relies on: the tokenizer both sides load never gives an input id past the
    embedding table, and every id the model can generate decodes (Marian's tokenizer raises on an id
    that is neither in vocab.json nor in its sentencepiece model, hence the filled vocab.json)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    longest = max(max(ids) for ids in tokenizer(lines)["input_ids"])
    if longest >= vocab_size:
        raise RuntimeError(f"{folder}: the tokenizer gives id {longest}, past the embedding table ({vocab_size})")
    text = tokenizer.decode(list(range(vocab_size)), skip_special_tokens=True)
    if not isinstance(text, str):
        raise TypeError(f"{folder}: decoding every id gave {type(text).__name__}, not text")


def ensure_models_in_child(names: list[str], size: str, cache_dir: Path, eval_dir: Path) -> dict[str, BuiltModel]:
    """ensure_models, with any building done in a child process: building loads full-size models, and
    Linux carries a parent's peak RSS into every child it starts (ru_maxrss survives fork and exec),
    so a bench that built them itself would report that peak for every side it measures."""
    import subprocess

    from bench import corpus

    argv = [sys.executable, "-m", "bench.models", "--names", ",".join(names), "--size", size, "--cache-dir", str(cache_dir), "--eval-dir", str(eval_dir)]
    subprocess.run(argv, check=True, cwd=Path(__file__).resolve().parent.parent)
    return ensure_models(names, size, cache_dir, corpus.training_lines(eval_dir))  # reads what the child built


def _main() -> None:
    import argparse

    from bench import corpus

    parser = argparse.ArgumentParser(
        prog="python -m bench.models", description="Internal: builds the bench's random-weight models in a process of their own (see ensure_models_in_child)."
    )
    parser.add_argument("--names", required=True)
    parser.add_argument("--size", required=True)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--eval-dir", type=Path, required=True)
    args = parser.parse_args()
    ensure_models(args.names.split(","), args.size, args.cache_dir, corpus.training_lines(args.eval_dir))


if __name__ == "__main__":
    _main()
