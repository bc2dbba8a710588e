"""What the test files share that is not a fixture: the session's places, sample texts, the CLI
runner, input folders and datasets, JSONL, a local web site, and the environment a test (or a
program it starts) runs in. conftest.py holds the fixtures and the session's set-up.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

SESSION_DIR = Path(tempfile.mkdtemp(prefix="summarize-tests-"))
HF_HOME = SESSION_DIR / "hf-home"
ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "examples" / "article.txt"
BIN = Path(sys.executable).parent / "summarize"  # the installed console script
SHORT = "Москва, 3 марта. Правительство утвердило программу ремонта дорог. Работы начнутся весной."


# The environment: what a user may have set must not change what a test sees


# Set by the s3 fixture for the session (and so inherited by Ray's workers): never removed under it.
S3_ENV = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_EC2_METADATA_DISABLED")
# Fixed for every test and every program a test starts: the session's own model cache, no network,
# and no AWS profile of the user's (boto3 and pyarrow would read ~/.aws).
FIXED_ENV = {
    "HF_HOME": str(HF_HOME),
    "HF_HUB_OFFLINE": "1",
    "AWS_CONFIG_FILE": str(SESSION_DIR / "no-aws-config"),
    "AWS_SHARED_CREDENTIALS_FILE": str(SESSION_DIR / "no-aws-credentials"),
}
# Removed: the hub's caches, endpoint, token and timeouts; the program's own settings (its config
# file, its CTranslate2 cache); colour, terminal size and type (rich reads them); a Ray cluster to
# join (and, before the session's Ray starts, every Ray setting; Ray sets some of its own once it
# runs); the user's S3; GPUs; warnings turned into errors; the interpreter's I/O encoding.
REMOVED_PREFIXES = ("HF_", "HUGGINGFACE_", "SUMMARIZE_", "AWS_")
REMOVED_ENV = (
    "RAY_ADDRESS",
    "TRANSFORMERS_CACHE",
    "TRANSFORMERS_OFFLINE",
    "NO_COLOR",
    "FORCE_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "COLUMNS",
    "LINES",
    "TERM",
    "CUDA_VISIBLE_DEVICES",
    "PYTHONWARNINGS",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
)


def foreign_env(environment) -> list[str]:
    """The names in `environment` that a user may have set and no test may see."""
    return [name for name in environment if name not in FIXED_ENV and name not in S3_ENV and (name in REMOVED_ENV or name.startswith(REMOVED_PREFIXES))]


def isolate_environment() -> None:
    """os.environ without the user's settings, before anything reads them (huggingface_hub reads
    HF_HOME at import): the session's set-up; the `isolated_environment` fixture keeps it so."""
    for name in set(foreign_env(os.environ)) | {name for name in os.environ if name in S3_ENV or name.startswith("RAY_")}:
        del os.environ[name]
    os.environ.update(FIXED_ENV)


def clean_env(**settings: str | None) -> dict[str, str]:
    """The environment for a program a test starts: this one (isolated), the fixed settings, then
    `settings` (None removes a name)."""
    environment = {name: value for name, value in os.environ.items() if name not in foreign_env(os.environ)}
    environment.update(FIXED_ENV)
    for name, value in settings.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


# The CLI, inputs and outputs


def unwritable_folder() -> Path:
    """A folder that refuses new files even to root (tests run as root: chmod does not stop it)."""
    folder = Path("/sys")
    try:
        fd = os.open(folder / "summarize-probe", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError:
        return folder
    os.close(fd)
    os.unlink(folder / "summarize-probe")
    import pytest

    pytest.skip("/sys is writable here")


def invoke(app, *args, input: str | bytes | None = None) -> Result:
    """Run a Typer app in process. Exceptions propagate, so that a crash can never pass for an
    expected exit code; typer.Exit still gives its code. stdout and stderr come apart."""
    return CliRunner().invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)


def make_folder(path: Path, count: int, text: str = SHORT) -> Path:
    """`count` distinct short articles named 000.txt, 001.txt, ..."""
    path.mkdir()
    for i in range(count):
        (path / f"{i:03d}.txt").write_text(f"{text} Новость номер {i}.", encoding="utf-8")
    return path


def slow_config(path: Path, model: Path) -> Path:
    """A preset `slow` on the tiny T5 with long decodes, so that a signal lands mid-run."""
    path.write_text(
        f'[summarizers.slow]\nmodel = "{model}"\nmax_input_tokens = 64\ngenerate = {{ num_beams = 4, max_new_tokens = 150, min_new_tokens = 150 }}\n',
        encoding="utf-8",
    )
    return path
