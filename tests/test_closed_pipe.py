"""Every command into a pipe whose reader has gone (`summarize … | head -c1`): a quiet exit 141,
as a shell reports a program SIGPIPE ended, never a traceback or Click's and rich's exit 1."""

import os
import subprocess
import sys

import pytest
from helpers import SHORT, clean_env, write_jsonl

pytestmark = pytest.mark.slow

EXIT_CLOSED_PIPE = 141


def into_closed_pipe(*args, cwd):
    """Run `python -m summarize ARGS` with stdout a pipe whose read end is closed before it starts,
    so that its first real write fails (no race with a reader)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        environment = clean_env(COLUMNS="400")  # wide: the help is written, not wrapped into nothing
        return subprocess.run(
            [sys.executable, "-m", "summarize", *map(str, args)], stdout=write_end, stderr=subprocess.PIPE, env=environment, cwd=cwd, timeout=120
        )
    finally:
        os.close(write_end)


@pytest.fixture
def eval_files(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", [{"id": "a", "text": SHORT, "summary": "правительство утвердило программу"}])
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "summary": "Правительство утвердило программу ремонта дорог"}])
    return data, predictions


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["models", "--help"],
        ["models", "list"],
        ["eval", "--help"],
        ["eval", "{data}", "--predictions", "{predictions}"],
        ["eval", "{data}", "--predictions", "{predictions}", "-f", "json"],
        ["{data}", "--model", "lead", "--no-translate", "-f", "json"],
    ],
    ids=lambda args: " ".join(args),
)
def test_every_command_exits_141_quietly(args, eval_files, tmp_path):
    data, predictions = eval_files
    done = into_closed_pipe(*(a.format(data=data, predictions=predictions) for a in args), cwd=tmp_path)
    assert (done.returncode, done.stderr.decode()) == (EXIT_CLOSED_PIPE, "")
