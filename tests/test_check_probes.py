"""The probe sets (tests/probes/cases.py) with the real check: every changed probe is caught, no
faithful one is flagged, every dateline and sentence comes out whole. The same tally is the table in
docs/checks.md (`python tests/probes/report.py`)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "probes"))

from report import tally, text_tally  # noqa: E402

from summarize.checks.checker import Checker  # noqa: E402


@pytest.fixture(scope="module")
def rows():
    return tally(Checker())


def test_every_changed_probe_is_caught_and_no_faithful_one_flagged(rows):
    assert {name: row[4] for name, row in rows.items() if row[4]} == {}
    assert sum(row[0] for row in rows.values()) > 30 and sum(row[2] for row in rows.values()) > 40


def test_datelines_and_sentences_come_out_whole():
    total, right, wrong = text_tally()
    assert wrong == [] and right == total
