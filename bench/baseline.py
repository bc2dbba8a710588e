"""The naive baseline: the script a competent user writes with transformers 5 to summarise Russian
articles and translate the summaries, with nothing clever in it.

Load both models, then for each article: tokenize (cut at the summariser's 600 tokens), generate()
under torch.inference_mode(), decode, and translate the whole summary in one call (cut at 512).
bench/run.py runs it as its own process, with the same model folders and generate() settings as
the project's presets, and reads one JSON line per article plus a last line with the load time.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="article files, or folders of *.txt")
    parser.add_argument("--summarizer", required=True, help="model folder")
    parser.add_argument("--translator", required=True, help="model folder")
    parser.add_argument("--summary-settings", type=json.loads, required=True, help="generate() kwargs, JSON")
    parser.add_argument("--translation-settings", type=json.loads, required=True, help="generate() kwargs, JSON")
    parser.add_argument("--summary-max-input", type=int, default=600)
    parser.add_argument("--translation-max-input", type=int, default=512)
    parser.add_argument("--device", default="cpu", help="cpu or cuda: the naive script moves its models there, fp32")
    args = parser.parse_args()

    started = time.perf_counter()
    sum_tokenizer = AutoTokenizer.from_pretrained(args.summarizer)
    sum_model = AutoModelForSeq2SeqLM.from_pretrained(args.summarizer)
    mt_tokenizer = AutoTokenizer.from_pretrained(args.translator)
    mt_model = AutoModelForSeq2SeqLM.from_pretrained(args.translator)
    sum_model.to(args.device)
    mt_model.to(args.device)
    load_seconds = time.perf_counter() - started
    generation_seconds = 0.0

    for path in articles(args.paths):
        started = time.perf_counter()
        text = path.read_text(encoding="utf-8")
        inputs = sum_tokenizer(text, truncation=True, max_length=args.summary_max_input, return_tensors="pt").to(args.device)
        generating = time.perf_counter()
        with torch.inference_mode():
            summary_ids = sum_model.generate(**inputs, **args.summary_settings)
        generation_seconds += time.perf_counter() - generating
        summary = sum_tokenizer.decode(summary_ids[0], skip_special_tokens=True)
        mt_inputs = mt_tokenizer(summary, truncation=True, max_length=args.translation_max_input, return_tensors="pt").to(args.device)
        generating = time.perf_counter()
        with torch.inference_mode():
            english_ids = mt_model.generate(**mt_inputs, **args.translation_settings)
        generation_seconds += time.perf_counter() - generating
        english = mt_tokenizer.decode(english_ids[0], skip_special_tokens=True)
        print(
            json.dumps(
                {
                    "source": str(path),
                    "summary_ru": summary,
                    "summary_en": english,
                    "input_tokens": int(inputs["input_ids"].shape[1]),
                    # generate() returns the decoder start token first; the rest was generated
                    "summary_tokens": int(summary_ids.shape[1] - 1),
                    "translation_tokens": int(english_ids.shape[1] - 1),
                    "seconds": round(time.perf_counter() - started, 3),
                },
                ensure_ascii=False,
            ),
            flush=True,
        )

    gpu_mb = torch.cuda.max_memory_allocated() / 1e6 if args.device == "cuda" else None
    print(
        json.dumps(
            {
                "import_seconds": round(IMPORTED - STARTED, 3),
                "load_seconds": round(load_seconds, 3),
                "generation_seconds": round(generation_seconds, 3),
                "gpu_peak_mb": gpu_mb,
            }
        ),
        flush=True,
    )


def articles(paths: list[str]) -> list[Path]:
    found = []
    for name in paths:
        path = Path(name)
        found.extend(sorted(path.glob("*.txt")) if path.is_dir() else [path])
    return found


if __name__ == "__main__":
    main()
