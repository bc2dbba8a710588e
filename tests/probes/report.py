"""Caught / missed / false flags per probe class, as a Markdown table (docs/checks.md shows it).

    .venv/bin/python tests/probes/report.py            # the table
    .venv/bin/python tests/probes/report.py --verbose  # and each probe that went wrong

Uses only `Checker.check`, `split_sentences` and `extract_lead`, so it runs on older commits too."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import HELD_OUT, LEADS, PROBES, SPLITS  # noqa: E402

from summarize.checks.checker import Checker  # noqa: E402
from summarize.engines.extractive import extract_lead  # noqa: E402
from summarize.text import split_sentences  # noqa: E402


def tally(checker: Checker, sets: dict | None = None) -> dict[str, tuple[int, int, int, int, list[str]]]:
    """Per class: (changed, caught, faithful, false flags, what went wrong)."""
    rows = {}
    for name, probes in (PROBES if sets is None else sets).items():
        changed = caught = faithful = false = 0
        wrong = []
        for probe in probes:
            flags = checker.check(probe.article, probe.summary, probe.english)
            if probe.changed:
                changed += 1
                caught += bool(flags)
                wrong += [] if flags else [f"missed: {probe.english or probe.summary}"]
            else:
                faithful += 1
                false += bool(flags)
                wrong += [f"false flag {[f.text for f in flags]}: {probe.english or probe.summary}"] if flags else []
        rows[name] = (changed, caught, faithful, false, wrong)
    return rows


def text_tally() -> tuple[int, int, list[str]]:
    """(texts, right, what went wrong) for the leads and the sentence splits."""
    wrong = []
    for text, first in LEADS:
        got = extract_lead(text, 1).text
        wrong += [] if got == first else [f"lead {got!r}"]
    for text, sentences in SPLITS:
        got = split_sentences(text)
        wrong += [] if got == sentences else [f"split {got!r}"]
    total = len(LEADS) + len(SPLITS)
    return total, total - len(wrong), wrong


def table(rows: dict[str, tuple[int, int, int, int, list[str]]]) -> None:
    print("| class | caught | missed | false flags |\n| --- | --- | --- | --- |")
    for name, (changed, caught, faithful, false, _) in rows.items():
        print(f"| {name} | {caught}/{changed} | {changed - caught} | {false}/{faithful} |")


def main(verbose: bool) -> None:
    checker = Checker()
    rows, held_out = tally(checker), tally(checker, HELD_OUT)
    table(rows)
    total, right, text_wrong = text_tally()
    print(f"| sentences and datelines (right) | {right}/{total} | {total - right} | |")
    print("\nHeld out (written after the fixes):\n")
    table(held_out)
    if verbose:
        for name, row in [*rows.items(), *(("held out: " + name, row) for name, row in held_out.items())]:
            for line in row[4]:
                print(f"{name}: {line}")
        for line in text_wrong:
            print(f"text: {line}")


if __name__ == "__main__":
    main("--verbose" in sys.argv)
