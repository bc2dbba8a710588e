"""`python -m bench BENCH [options]`: every bench behind one entry, each with its own options.

`python -m bench --help` lists them; `python -m bench BENCH --help` shows what one measures and how
to run it. Each bench module gives a HELP line, add_arguments(parser) and main(args) -> exit code.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from bench import corpus_memory, fetch, gpu, llm, ray_throughput, run, serve

BENCHES = {"cpu": run, "gpu": gpu, "fetch": fetch, "corpus": corpus_memory, "ray": ray_throughput, "serve": serve, "llm": llm}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of the summarize CLI on this machine; each writes its report to bench/results/ (see bench/README.md).",
    )
    benches = parser.add_subparsers(dest="bench", required=True, metavar="BENCH", title="benches")
    for name, module in BENCHES.items():
        sub = benches.add_parser(name, help=module.HELP, description=module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(main=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.command = "python -m bench " + shlex.join(argv)  # for the reports' "Run:" line
    return args.main(args)


if __name__ == "__main__":
    sys.exit(main())
