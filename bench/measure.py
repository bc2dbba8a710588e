"""Timing and memory of child processes, what the CLI printed, and the machine the numbers come from.

Peak RSS comes from os.wait4, which returns the rusage of exactly the child waited for (stdlib,
no psutil); RUSAGE_CHILDREN would give the largest of all children so far instead.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

SUMMARIZE = Path(sys.executable).parent / "summarize"  # the installed CLI, run as a user runs it


@dataclass(frozen=True)
class ProcessRun:
    argv: list[str]
    returncode: int
    wall_s: float
    peak_rss_mb: float
    stdout: str
    stderr: str

    def failure(self) -> str | None:
        """None when the run succeeded, else a one-line reason from its stderr."""
        if self.returncode == 0:
            return None
        lines = [line.strip(" │╭╰─") for line in self.stderr.splitlines()]
        last = next((line for line in reversed(lines) if line), "")
        return f"exit code {self.returncode}: {last[:300]}"


def run_process(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> ProcessRun:
    """Run to completion with stdout and stderr in temporary files (no pipe can fill up and stall
    the child), timing wall clock from just before the start to the reaped exit."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
        out.seek(0)
        err.seek(0)
        return ProcessRun(
            argv=[str(a) for a in argv],
            returncode=child.returncode,
            wall_s=wall,
            peak_rss_mb=_rss_mb(usage.ru_maxrss),
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def _rss_mb(maxrss: int) -> float:
    """Megabytes (10^6 bytes, as the report's GB/s); ru_maxrss is in bytes on macOS, KiB on Linux."""
    return (maxrss if sys.platform == "darwin" else maxrss * 1024) / 1e6


def summarize_argv() -> list[str]:
    """The CLI's command: its script, or `python -m summarize` where a --target install has none."""
    return [str(SUMMARIZE)] if SUMMARIZE.exists() else [sys.executable, "-m", "summarize"]


def records(stdout: str) -> list[dict[str, Any]]:
    """The JSON objects among a process's output lines (the CLI's -f jsonl, the scripts' lines)."""
    found = []
    for line in stdout.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def sentences(text: str) -> list[str]:
    """Sentences as the project splits a summary to translate it (lines, then razdel), so that the
    bench can count the translator inputs it made without reaching into summarize's internals."""
    from razdel import sentenize

    return [s.text for line in text.splitlines() if line.strip() for s in sentenize(line)]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    ram_gib: float
    python: str
    torch: str
    transformers: str
    ctranslate2: str
    torch_threads: int
    date: str

    def line(self) -> str:
        return (
            f"{self.cpu}, {self.cores} cores ({self.torch_threads} torch threads), {self.ram_gib:.1f} GiB RAM · "
            f"Python {self.python} · torch {self.torch} · transformers {self.transformers} · "
            f"ctranslate2 {self.ctranslate2} · {self.date}"
        )


def machine_line(*packages: str) -> str:
    """One line for a report's head: CPU, cores, RAM, Python, the named packages' versions, the time."""
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    versions = "".join(f" · {name} {version(name)}" for name in packages)
    return f"{cpu_model()}, {os.cpu_count()} cores, {ram_bytes() / 2**30:.1f} GiB RAM · Python {platform.python_version()}{versions} · {now}"


def describe_machine() -> Machine:
    import torch

    return Machine(
        cpu=cpu_model(),
        cores=os.cpu_count() or 0,
        ram_gib=ram_bytes() / 2**30,
        python=platform.python_version(),
        torch=version("torch"),
        transformers=version("transformers"),
        ctranslate2=version("ctranslate2"),
        torch_threads=torch.get_num_threads(),
        date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    )


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ram_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0
