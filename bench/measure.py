"""Timing and memory of child processes, and a description of the machine the numbers come from.

Peak RSS comes from os.wait4, which returns the rusage of exactly the child waited for (stdlib,
no psutil); RUSAGE_CHILDREN would give the largest of all children so far instead.
"""

from __future__ import annotations

import datetime
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


def describe_machine() -> Machine:
    import torch

    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 0,
        ram_gib=_ram_bytes() / 2**30,
        python=platform.python_version(),
        torch=_version("torch"),
        transformers=_version("transformers"),
        ctranslate2=_version("ctranslate2"),
        torch_threads=torch.get_num_threads(),
        date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    )


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0
