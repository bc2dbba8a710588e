"""The fixtures, and the session's set-up: the tiny models are built once per session, as local
directories and as a Hugging Face hub cache. The helpers that are not fixtures are in helpers.py.

The environment is fixed before anything imports huggingface_hub (it reads HF_HOME at import),
and again around every test (`isolated_environment`): tests never see the user's cache, settings
or terminal, and never touch the network.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

sys.path.insert(0, str(Path(__file__).parent))
from helpers import ARTICLE, FIXED_ENV, HF_HOME, SESSION_DIR, SHORT, foreign_env, invoke, isolate_environment  # noqa: E402

isolate_environment()
import tiny_models  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch):
    """Every test in the session's environment: what a user (or an earlier test) set that could
    change what a test sees is removed, HF_HOME and offline mode are the session's. The s3
    fixture's AWS settings stay while it lasts; programs a test starts get helpers.clean_env()."""
    for name in foreign_env(os.environ):
        monkeypatch.delenv(name)
    for name, value in FIXED_ENV.items():
        monkeypatch.setenv(name, value)


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
model = "{models["t5"]}"
max_input_tokens = 64
generate = {{ num_beams = 2, max_new_tokens = 12 }}

[summarizers.tiny-mbart]
model = "{models["mbart"]}"
max_input_tokens = 64
generate = {{ num_beams = 2, max_new_tokens = 12 }}

[translators.tiny-marian]
model = "{models["marian"]}"
max_input_tokens = 32
generate = {{ num_beams = 1, max_new_tokens = 12 }}
""",
        encoding="utf-8",
    )
    # Convert the default presets for CTranslate2 (the auto backend on a CPU) now, once: the
    # conversion says so on stderr, and no test's output may depend on whether one ran before it.
    from summarize import cli

    warm = invoke(cli.app, "-", "--config", path, "--backend", "ctranslate2", input=SHORT)
    assert warm.exit_code == 0, warm.stderr
    return path


@pytest.fixture
def article() -> str:
    return ARTICLE.read_text(encoding="utf-8")


@pytest.fixture
def run(fast_config):
    """`summarize ARGS --config fast.toml` in process; config=None runs on models.toml and the hub cache."""

    def run_summarize(*args, input: str | bytes | None = None, config: Path | None = fast_config) -> Result:
        from summarize import cli

        return invoke(cli.app, *args, *(["--config", config] if config else []), input=input)

    return run_summarize


@pytest.fixture
def short_file(tmp_path) -> Path:
    path = tmp_path / "short.txt"
    path.write_text(SHORT, encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    """news/{a,b}.txt, a sub-folder with c.txt (for --recursive) and a notes.md that is not an input."""
    news = tmp_path / "news"
    (news / "sub").mkdir(parents=True)
    (news / "b.txt").write_text(SHORT, encoding="utf-8")
    (news / "a.txt").write_text(SHORT.replace("весной", "летом"), encoding="utf-8")
    (news / "sub" / "c.txt").write_text(SHORT, encoding="utf-8")
    (news / "notes.md").write_text(SHORT, encoding="utf-8")
    return news


@pytest.fixture(scope="session")
def llm_server():
    """llama.cpp's own OpenAI-compatible server (the xllamacpp wheel) on a tiny random-weight GGUF,
    on 127.0.0.1 for the whole session: .url (the API base, …/v1), .root, .model, .n_ctx.
    What it answers is in tests/llm_servers.py; test_llm_server_fixture.py pins it."""
    import llm_servers

    folder = SESSION_DIR / "llm-server"
    with llm_servers.start_llm_server(folder) as server:
        yield server
    shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class GenerateCall:
    backend: str  # "torch" or "ctranslate2"
    texts: list[str]
    settings: dict[str, Any]


@pytest.fixture
def generate_calls(monkeypatch) -> list[GenerateCall]:
    """Every call of either backend's generate(), recorded on its way to the real one: what
    reached the models, whatever path the pipeline took to get there."""
    from summarize.engines.ct2 import CT2Seq2Seq
    from summarize.engines.seq2seq import Seq2Seq

    calls: list[GenerateCall] = []
    for backend, engine in (("torch", Seq2Seq), ("ctranslate2", CT2Seq2Seq)):

        def recording(self, texts, settings, *args, real=engine.generate, backend=backend, **kwargs):
            calls.append(GenerateCall(backend, list(texts), dict(settings)))
            return real(self, texts, settings, *args, **kwargs)

        monkeypatch.setattr(engine, "generate", recording)
    return calls


@pytest.fixture(scope="session")
def s3():
    """A real S3 API (moto's server) on 127.0.0.1, reached as users reach MinIO: through AWS_ENDPOINT_URL.

    Set in the environment for the whole session, before any Ray starts, so Ray's workers see it too."""
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    before = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    import boto3

    try:
        yield boto3.client("s3")
    finally:
        server.stop()
        for name, value in before.items():
            os.environ.pop(name) if value is None else os.environ.update({name: value})


@pytest.fixture(scope="session")
def local_ray(s3):
    """One local Ray for the whole session, however many test files use it (a fixture imported into two
    files is two session fixtures, and the second ray.init fails). S3 first: Ray's workers inherit its
    environment."""
    pytest.importorskip("ray")
    import ray
    import ray.data  # noqa: F401 - its console log handler keeps the sys.stderr of its import: not one CliRunner closes

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray
    ray.shutdown()
