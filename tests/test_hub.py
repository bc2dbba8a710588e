"""The model cache: an incomplete snapshot is reported and repaired, a hub out of reach costs one
short look per run, and CTranslate2 conversions are keyed by content."""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import HF_HOME, ROOT, clean_env
from typer.testing import CliRunner

from summarize import cli, hub
from summarize.config import Preset
from summarize.errors import ModelNotAvailable

RUT5 = "IlyaGusev/rut5_base_sum_gazeta"
SNAPSHOT = Path("models--IlyaGusev--rut5_base_sum_gazeta") / "snapshots" / "0123456789abcdef0123456789abcdef01234567"


def spec(model=RUT5, name="rut5-gazeta", **fields):
    return Preset(name=name, model=model, max_input_tokens=64, **fields)


@pytest.fixture
def cache(models, tmp_path, monkeypatch):
    """A copy of the tiny hub cache that the test may break; huggingface_hub looks there."""
    from huggingface_hub import constants

    copy = tmp_path / "hub"
    shutil.copytree(HF_HOME / "hub", copy, symlinks=True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(copy))
    return copy


@pytest.fixture
def closed_port():
    """A local port nobody listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_port():
    """A local server that accepts connections and never answers (a black hole), for 60 s at most."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    held, stop = [], threading.Event()

    def serve():
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    for connection in held:
        connection.close()
    server.close()


@pytest.fixture
def online(monkeypatch, closed_port):
    """In process: offline mode off, the hub at a closed local port, nothing remembered of it."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setattr(hub, "_unreachable", {})
    return constants.ENDPOINT


@pytest.fixture
def connections(monkeypatch) -> list:
    """The addresses this process connects to, in order: what asked the hub, and how often."""
    made: list = []
    real = socket.socket.connect

    def connect(self, address):
        made.append(address)
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return made


def break_weights(cache: Path) -> Path:
    snapshot = cache / SNAPSHOT
    (snapshot / "model.safetensors").unlink()
    return snapshot


# --- complete, incomplete, absent ------------------------------------------------------------------


def test_cache_states(cache):
    assert hub.cache_state(spec()) == "complete"
    assert hub.cached_dir(spec()) == cache / SNAPSHOT
    assert hub.cache_state(spec("nobody/ghost", "ghost")) == "absent"
    assert hub.cache_state(spec(revision="0123456789abcdef0123456789abcdef01234567")) == "complete"
    assert hub.cache_state(spec(revision="feedfacefeedfacefeedfacefeedfacefeedface")) == "absent"
    break_weights(cache)
    assert hub.cache_state(spec()) == "incomplete"
    assert hub.cached_dir(spec()) is None


def test_a_weight_link_into_a_blob_that_never_finished_is_incomplete(cache):
    snapshot = break_weights(cache)
    (snapshot / "model.safetensors").symlink_to("../../blobs/abc123.incomplete-never-written")
    assert hub.cache_state(spec()) == "incomplete"


def test_a_snapshot_without_tokenizer_is_incomplete(cache):
    snapshot = cache / SNAPSHOT
    for name in hub.TOKENIZER_FILES:
        (snapshot / name).unlink(missing_ok=True)
    assert hub.missing_files(snapshot) == [f"tokenizer files ({', '.join(hub.TOKENIZER_FILES)})"]
    assert hub.cache_state(spec()) == "incomplete"


def test_offline_an_incomplete_snapshot_is_not_available_and_says_how_to_complete_it(cache):
    break_weights(cache)
    with pytest.raises(ModelNotAvailable) as caught:
        hub.model_dir(spec(), offline=True)
    message = str(caught.value)
    assert "is incomplete in the local cache (no weights" in message and "offline mode is on" in message
    assert message.endswith("run `summarize models download rut5-gazeta` to complete it")
    assert "\n" not in message


def test_online_an_incomplete_snapshot_is_fetched_again_not_refused(cache, online, connections):
    break_weights(cache)
    with pytest.raises(ModelNotAvailable) as caught:
        hub.model_dir(spec(), offline=False)
    assert len(connections) == 1  # one look at the hub, no retries
    message = str(caught.value)
    assert f"the hub at {online} is unreachable (ConnectError" in message
    assert "summarize models download rut5-gazeta` to complete it" in message


def test_models_download_tries_to_complete_an_incomplete_snapshot(cache, online):
    break_weights(cache)
    result = CliRunner().invoke(cli.models_app, ["download", "rut5-gazeta"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "ready in" not in result.stderr
    assert "incomplete in the local cache" in result.stderr and "unreachable" in result.stderr


def test_a_complete_snapshot_needs_no_network(cache, online):
    assert hub.model_dir(spec(), offline=False) == cache / SNAPSHOT


def test_the_hub_found_unreachable_is_not_asked_again(cache, online, monkeypatch):
    with pytest.raises(ModelNotAvailable):
        hub.download(spec("nobody/first", "first"))
    from huggingface_hub.utils import _http

    def no_second_request(*args, **kwargs):
        raise AssertionError("asked the hub again")

    monkeypatch.setattr(_http, "get_session", no_second_request)
    with pytest.raises(ModelNotAvailable) as caught:
        hub.download(spec("nobody/second", "second"))
    assert "unreachable (ConnectError" in str(caught.value)


# --- a hub that answers: one repository's 404 is about that repository only ----------------------

HUB_COMMIT = "fedcba9876543210fedcba9876543210fedcba98"


class FakeHub(BaseHTTPRequestHandler):
    """The few hub routes a download takes (the API's model info and file tree, then each file),
    serving `repos` (repo id → model folder); any other repository is a 404, as the hub answers."""

    repos: dict[str, Path] = {}

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        api = parts[0] == "api"
        if api and len(parts) == 2:  # the knock on /api/models, the library's own look-ups
            return self.answer(200, b"{}")
        folder = self.repos.get("/".join(parts[2:4] if api else parts[0:2]))
        if folder is None:
            return self.answer(404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound"})
        files = sorted(f for f in folder.iterdir() if f.is_file())
        if api and "tree" in parts:
            tree = [{"type": "file", "path": f.name, "size": f.stat().st_size, "oid": hashlib.sha1(f.read_bytes()).hexdigest()} for f in files]
            return self.answer(200, json.dumps(tree).encode())
        if api:
            return self.answer(200, json.dumps({"id": "/".join(parts[2:4]), "sha": HUB_COMMIT, "siblings": [{"rfilename": f.name} for f in files]}).encode())
        data = (folder / parts[-1]).read_bytes()
        return self.answer(200, data, {"X-Repo-Commit": HUB_COMMIT, "ETag": f'"{hashlib.sha256(data).hexdigest()}"'}, "application/octet-stream")

    def answer(self, status: int, body: bytes, headers: dict | None = None, kind: str = "application/json"):
        self.send_response(status)
        for name, value in {"Content-Type": kind, "Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@pytest.fixture
def fake_hub(models, tmp_path, monkeypatch):
    """A local hub that has `good/model` (the tiny Marian) and nothing else, and an empty cache."""
    from huggingface_hub import constants

    monkeypatch.setattr(FakeHub, "repos", {"good/model": models["marian"]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(hub, "_unreachable", {})
    yield endpoint
    server.shutdown()
    server.server_close()


def test_a_404_for_one_repository_does_not_mark_the_hub_down(fake_hub, tmp_path):
    config = tmp_path / "two.toml"
    config.write_text("[summarizers.gone]\nmodel = 'nobody/gone'\nmax_input_tokens = 64\n[summarizers.good]\nmodel = 'good/model'\nmax_input_tokens = 64\n")
    result = CliRunner().invoke(cli.models_app, ["download", "gone", "good", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 1
    gone, good = [line for line in result.stderr.splitlines() if line.startswith("summarize: ")]  # the rest: the download's progress
    assert "model nobody/gone (preset gone) is not in the local cache and could not be downloaded (RepositoryNotFoundError" in gone
    assert gone.endswith("check `model` (and `revision`) of preset gone in models.toml, or point its `model` in models.toml at a local directory")
    assert "unreachable" not in gone and good == f"summarize: good: ready in {tmp_path / 'hub' / 'models--good--model' / 'snapshots' / HUB_COMMIT}"
    assert hub.missing_files(tmp_path / "hub" / "models--good--model" / "snapshots" / HUB_COMMIT) == []


def test_models_download_offline_does_not_advise_models_download(fake_hub, tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    config = tmp_path / "one.toml"
    config.write_text("[summarizers.good]\nmodel = 'good/model'\nmax_input_tokens = 64\n")
    result = CliRunner().invoke(cli.models_app, ["download", "good", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert "not in the local cache and offline mode is on (HF_HUB_OFFLINE)" in line and "models download" not in line
    assert line.endswith(
        f"connect this machine to the network (with HF_HUB_OFFLINE unset) and run it again, or copy the model into the cache ({tmp_path / 'hub'}) "
        "from a machine that has it, or point its `model` in models.toml at a local directory"
    )


# --- no network: one short look, nothing from the library on stderr --------------------------------

# Counts the connections the program makes (socket.socket.connect: every client's way out).
COUNT_CONNECTIONS = textwrap.dedent(
    """
    import socket
    connections = []
    _connect = socket.socket.connect
    def _counted(self, address):
        connections.append(address)
        return _connect(self, address)
    socket.socket.connect = _counted
    """
)

LOOKUP = COUNT_CONNECTIONS + textwrap.dedent(
    """
    import json, sys
    from summarize import hub
    from summarize.config import Preset
    from summarize.errors import ModelNotAvailable

    asked, messages = [], []
    for name, model in [("rut5-gazeta", "IlyaGusev/rut5_base_sum_gazeta"), ("opus-mt-ru-en", "Helsinki-NLP/opus-mt-ru-en")]:
        before = len(connections)
        try:
            hub.model_dir(Preset(name=name, model=model, max_input_tokens=8), offline=False)
        except ModelNotAvailable as e:
            messages.append(str(e))
        asked.append(len(connections) - before)
    print(json.dumps({"asked": asked, "messages": messages}))
    """
)


def look_up_both_defaults(tmp_path, port):
    env = clean_env(HF_HOME=str(tmp_path / "fresh-home"), HF_HUB_OFFLINE=None, HF_ENDPOINT=f"http://127.0.0.1:{port}")
    done = subprocess.run([sys.executable, "-c", LOOKUP], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


@pytest.mark.parametrize("server", ["closed_port", "silent_port"])
def test_a_fresh_cache_without_a_hub_falls_back_after_one_look_quietly(tmp_path, request, server):
    port = request.getfixturevalue(server)
    result, stderr = look_up_both_defaults(tmp_path, port)  # a hub that never answers is the quick look's timeout
    assert result["asked"] == [1, 0], result  # one look, no retries; the translator's lookup knows the hub is gone
    assert len(result["messages"]) == 2
    assert all("unreachable" in m and "\n" not in m for m in result["messages"])
    assert stderr == ""  # no "Retrying in 8s [Retry 5/5]"


def test_models_download_without_a_hub_is_quick_and_one_line_per_model(tmp_path, silent_port):
    env = clean_env(HF_HOME=str(tmp_path / "fresh-home"), HF_HUB_OFFLINE=None, HF_ENDPOINT=f"http://127.0.0.1:{silent_port}")
    program = COUNT_CONNECTIONS + "import atexit, sys; atexit.register(lambda: print(len(connections)))\n"
    program += "from summarize.cli import main; sys.argv[0] = 'summarize'; main(['models', 'download'])\n"
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["1"], done.stdout  # one look at the silent hub for both models, no retries
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("summarize: error: model ") for line in lines), lines


# --- CTranslate2 conversions keyed by content -------------------------------------------------------

ct2 = pytest.importorskip("summarize.engines.ct2_convert")


def test_a_copied_model_finds_the_same_conversion_and_a_changed_one_does_not(models, tmp_path):
    index = tmp_path / "hashes.json"
    original = ct2.converted_dir(models["t5"], "int8", tmp_path / "ct2", index)
    copy = tmp_path / "elsewhere" / "t5"
    shutil.copytree(models["t5"], copy)
    assert ct2.converted_dir(copy, "int8", tmp_path / "ct2", index) == original
    os.utime(copy / "config.json", (1, 1))  # times alone change nothing
    assert ct2.converted_dir(copy, "int8", tmp_path / "ct2", index) == original
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "note": "fine-tuned"}))
    changed = ct2.converted_dir(copy, "int8", tmp_path / "ct2", index)
    assert changed != original and changed.name.startswith("t5-") and changed.name.endswith("-int8")
    assert ct2.converted_dir(copy, "float32", tmp_path / "ct2", index).name == changed.name.replace("int8", "float32")


def test_file_hashes_are_remembered_by_path_size_and_time(models, tmp_path, monkeypatch):
    index = tmp_path / "hashes.json"
    first = ct2.content_hashes(models["t5"], index)
    assert set(json.loads(index.read_text())) >= {str((models["t5"] / n).resolve()) for n in first}
    monkeypatch.setattr(ct2, "_sha256", lambda path: pytest.fail(f"hashed {path} again"))
    assert ct2.content_hashes(models["t5"], index) == first
    index.write_text("{not json")  # a broken index is only a lost shortcut
    monkeypatch.undo()
    assert ct2.content_hashes(models["t5"], index) == first


def test_a_hub_snapshot_is_keyed_by_its_blob_names_without_reading_them(tmp_path, monkeypatch):
    repo = tmp_path / "models--org--name"
    (repo / "blobs").mkdir(parents=True)
    snapshot = repo / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    for name, blob in [("config.json", "1111"), ("model.safetensors", "2222")]:
        (repo / "blobs" / blob).write_text(name)
        (snapshot / name).symlink_to(Path("../../blobs") / blob)
    monkeypatch.setattr(ct2, "_sha256", lambda path: pytest.fail(f"read {path}"))
    assert ct2.content_hashes(snapshot, tmp_path / "hashes.json") == {"config.json": "1111", "model.safetensors": "2222"}
    assert ct2.converted_dir(snapshot, "int8", tmp_path / "ct2", tmp_path / "h.json").name.startswith("models--org--name-")


def test_older_conversions_of_the_same_model_are_removed(tmp_path):
    names = [
        "t5-aaaaaaaaaaaaaaaa-int8",  # the new one
        "t5-bbbbbbbbbbbbbbbb-int8",  # older content
        "t5-bbbbbbbbbbbbbbbb-float32",  # older content, other quantization
        "t5-aaaaaaaaaaaaaaaa-float32",  # this content, other quantization: kept
        "t5-large-cccccccccccccccc-int8",  # another model whose name starts alike
        "mbart-bbbbbbbbbbbbbbbb-int8",
        ".t5-aaaaaaaaaaaaaaaa-int8.tmp123",  # a conversion in progress
    ]
    for name in names:
        (tmp_path / name).mkdir()
    removed = ct2.remove_older_conversions(tmp_path / names[0])
    assert sorted(p.name for p in removed) == sorted(names[1:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([names[0], *names[3:]])


def test_a_real_conversion_survives_a_copy_of_the_model_and_replaces_an_outdated_one(models, tmp_path):
    pytest.importorskip("ctranslate2")
    from summarize.engines.ct2 import CT2Seq2Seq

    root = tmp_path / "ct2"
    model = tmp_path / "a" / "t5"
    shutil.copytree(models["t5"], model)
    tiny = Preset(name="t5", model=str(model), max_input_tokens=64)
    lines = []
    CT2Seq2Seq(tiny, model, "cpu", None, lines.append, cache_root=root)
    moved = tmp_path / "b" / "t5"
    shutil.move(model, moved)
    CT2Seq2Seq(tiny, moved, "cpu", None, lines.append, cache_root=root)
    assert len(lines) == 1  # converted once, found again after the move
    config = json.loads((moved / "config.json").read_text())
    (moved / "config.json").write_text(json.dumps({**config, "note": "retrained"}))
    engine = CT2Seq2Seq(tiny, moved, "cpu", None, lines.append, cache_root=root)
    assert len(lines) == 2
    [left] = [p for p in root.iterdir() if not p.name.startswith(".")]
    assert left == ct2.converted_dir(moved, "int8", root) and engine.generate(["Проверка связи."], {"max_new_tokens": 4})
