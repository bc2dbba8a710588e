"""Builds the tiny models once per session, as local directories and as a Hugging Face hub cache.

The environment is fixed before anything imports huggingface_hub (it reads HF_HOME at import):
tests never see the user's cache and never touch the network.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

SESSION_DIR = Path(tempfile.mkdtemp(prefix="summarize-tests-"))
HF_HOME = SESSION_DIR / "hf-home"
os.environ["HF_HOME"] = str(HF_HOME)
os.environ["HF_HUB_OFFLINE"] = "1"
for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "SUMMARIZE_CONFIG", "TRANSFORMERS_CACHE"):
    os.environ.pop(variable, None)

sys.path.insert(0, str(Path(__file__).parent))
import tiny_models  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "examples" / "article.txt"


@pytest.fixture(scope="session")
def models() -> dict[str, Path]:
    """Local model directories, also laid out under the real hub ids in HF_HOME."""
    built = tiny_models.build_all(SESSION_DIR / "models")
    tiny_models.lay_out_hub_cache(built, HF_HOME / "hub")
    yield built
    shutil.rmtree(SESSION_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def fast_config(models) -> Path:
    """Presets on the local tiny models with a small input limit, so that truncation is easy to reach."""
    path = SESSION_DIR / "fast.toml"
    path.write_text(
        f"""
[defaults]
summarizer = "tiny-t5"
translator = "tiny-marian"

[summarizers.tiny-t5]
model = "{models['t5']}"
max_input_tokens = 64
generate = {{ num_beams = 2, max_new_tokens = 12 }}

[summarizers.tiny-mbart]
model = "{models['mbart']}"
max_input_tokens = 64
generate = {{ num_beams = 2, max_new_tokens = 12 }}

[translators.tiny-marian]
model = "{models['marian']}"
max_input_tokens = 32
generate = {{ num_beams = 1, max_new_tokens = 12 }}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def article() -> str:
    return ARTICLE.read_text(encoding="utf-8")
