"""The careful baseline (GPU bench): what a user who knows transformers writes for a GPU.

Both models in half precision (bf16 for T5-family models where the GPU has it, fp16 for the others),
articles sorted by length and summarised in padded batches of 16, the summaries translated in padded
batches of 16. bench/gpu.py runs it as its own process; it prints one JSON line per article and a
last line with its timings and peak GPU memory.
"""

# ruff: noqa: E402 (the imports come after STARTED, so that the script's own timing includes them)
import time

STARTED = time.perf_counter()

import argparse
import json
from pathlib import Path

import torch
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

IMPORTED = time.perf_counter()
BATCH = 16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a folder of *.txt articles")
    parser.add_argument("--summarizer", required=True)
    parser.add_argument("--translator", required=True)
    parser.add_argument("--summary-settings", type=json.loads, required=True)
    parser.add_argument("--translation-settings", type=json.loads, required=True)
    parser.add_argument("--summary-max-input", type=int, default=600)
    parser.add_argument("--translation-max-input", type=int, default=512)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()

    started = time.perf_counter()
    summarizer = load(args.summarizer, args.device)
    translator = load(args.translator, args.device)
    load_seconds = time.perf_counter() - started

    paths = sorted(Path(args.folder).glob("*.txt"), key=lambda p: p.stat().st_size)
    texts = [p.read_text(encoding="utf-8") for p in paths]
    generation = [0.0]
    summaries, summary_lengths = run(summarizer, texts, args.summary_settings, args.summary_max_input, args.device, generation)
    english, english_lengths = run(translator, summaries, args.translation_settings, args.translation_max_input, args.device, generation)
    for path, ru, en, n_ru, n_en in zip(paths, summaries, english, summary_lengths, english_lengths):
        print(json.dumps({"source": str(path), "summary_ru": ru, "summary_en": en, "summary_tokens": n_ru, "translation_tokens": n_en}, ensure_ascii=False))
    gpu_mb = torch.cuda.max_memory_allocated() / 1e6 if args.device == "cuda" else None
    print(
        json.dumps(
            {
                "import_seconds": round(IMPORTED - STARTED, 3),
                "load_seconds": round(load_seconds, 3),
                "generation_seconds": round(generation[0], 3),
                "gpu_peak_mb": gpu_mb,
            }
        ),
        flush=True,
    )


def load(folder: str, device: str):
    model = AutoModelForSeq2SeqLM.from_pretrained(folder)
    if device == "cuda":
        t5 = model.config.model_type in ("t5", "mt5", "umt5")
        dtype = torch.bfloat16 if t5 and torch.cuda.is_bf16_supported() else torch.float32 if t5 else torch.float16
        model = model.to(dtype)
    return AutoTokenizer.from_pretrained(folder), model.to(device).eval()


def run(loaded, texts: list[str], settings: dict, max_input: int, device: str, generation: list[float]) -> tuple[list[str], list[int]]:
    """Padded batches of BATCH in the given order (sorted by length by the caller)."""
    tokenizer, model = loaded
    outputs, lengths = [], []
    for start in range(0, len(texts), BATCH):
        batch = tokenizer(texts[start : start + BATCH], truncation=True, max_length=max_input, padding=True, return_tensors="pt").to(device)
        began = time.perf_counter()
        with torch.inference_mode():
            ids = model.generate(**batch, **settings)
        if device == "cuda":
            torch.cuda.synchronize()
        generation[0] += time.perf_counter() - began
        outputs += [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]
        lengths += [int((row[1:] != model.generation_config.pad_token_id).sum()) for row in ids]
    return outputs, lengths


if __name__ == "__main__":
    main()
