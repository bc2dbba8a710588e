#!/usr/bin/env bash
# Make .venv with everything summarize and its tests need; safe to run again (it only adds what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "setup: Python 3.11 or newer is needed" >&2; exit 1; }
[ -x .venv/bin/python ] || "$python" -m venv .venv
# A pip that compares extras by their normalised names (PEP 685): an older one warns on every setup that
# "lxml 6.2.0 does not provide the extra 'html_clean'" (justext asks for it; lxml calls it html-clean).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
# torch goes first and pinned: with no torch installed, a bare requirement pulls a multi-GB CUDA build.
# Set TORCH_SPEC (e.g. TORCH_SPEC=torch) to choose another build, say on a GPU machine.
.venv/bin/python -m pip install --quiet --disable-pip-version-check "${TORCH_SPEC:-torch==2.13.0}"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
# The page's test (tests/test_page.py) runs a real headless Chromium: Debian's, since Playwright's own
# browser download cannot reach every machine. Installed with apt where this runs as root and it is missing.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
