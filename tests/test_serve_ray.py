"""`summarize serve --ray`: the same app on Ray Serve, in a real `summarize serve --ray` process that starts
its own local Ray (one replica, the tiny models), and the same application from a Serve config file as
KubeRay's RayService deploys it (`serve run CONFIG.yaml`). Ray Serve's proxy binds 127.0.0.1 only; each
test stops what it started (SIGTERM or Ctrl-C, then a kill if that fails)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from helpers import BIN, SHORT, clean_env
from lifecycle import SlowSite, distinct_texts, own_results

from summarize.config import Device
from summarize.errors import SummarizeError
from summarize.runs.ray_plan import Actors

pytest.importorskip("ray")
pytestmark = pytest.mark.ray

SERVE_BIN = Path(sys.executable).parent / "serve"  # Ray Serve's own CLI, as a RayService runs the config
READY_S = 300  # the most a start may take on a busy machine before the test gives up (not a speed check)
TOKEN = "test-token-7f3a-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Started:
    """A server process whose stderr goes to a file; stopped for good by stop()."""

    def __init__(self, args: list, log: Path, **env: str) -> None:
        self.log = log
        with open(log, "wb") as err:
            self.process = subprocess.Popen([str(a) for a in args], stdout=subprocess.DEVNULL, stderr=err, env=clean_env(**env))

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, ready: callable) -> None:
        deadline = time.monotonic() + READY_S
        while not ready():
            assert self.process.poll() is None, f"exited {self.process.returncode}: {self.stderr()}"
            assert time.monotonic() < deadline, f"not ready within {READY_S} s: {self.stderr()}"
            time.sleep(0.5)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_summarize_serve_ray_serves_the_app_and_stops_on_sigterm(fast_config, run, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Started([BIN, "serve", "--ray", "--port", port, "--config", fast_config], tmp_path / "stderr.txt", SUMMARIZE_TOKEN=TOKEN)
    try:
        server.wait_for(lambda: "serving on" in server.stderr())
        assert f"serving on {base} with Ray Serve: 1 replica(s)" in server.stderr()
        health = httpx.get(f"{base}/healthz", timeout=30)
        assert health.status_code == 200 and health.json()["status"] == "ok"

        auth = {"Authorization": f"Bearer {TOKEN}"}
        refused = httpx.post(f"{base}/v1/summarize", json={"text": SHORT}, timeout=60)
        assert refused.status_code == 401 and set(refused.json()) == {"error"}
        one = httpx.post(f"{base}/v1/summarize", json={"text": SHORT, "id": "a1"}, headers=auth, timeout=120)
        assert one.status_code == 200, one.text
        local = json.loads(run("-", "--format", "json", input=SHORT).stdout)
        local = local[0] if isinstance(local, list) else local
        assert list(one.json()) == list(local)  # exactly the keys, in the order, of `summarize --format json`
        assert one.json()["id"] == "a1" and one.json()["model"] == local["model"] and one.json()["summary_en"] is not None

        many = httpx.post(f"{base}/v1/summarize/batch", json=[{"text": SHORT, "id": "b1"}, {"text": " ", "id": "b2"}], headers=auth, timeout=120)
        assert many.status_code == 200
        assert [r["id"] for r in many.json()] == ["b1", "b2"]
        assert many.json()[0]["error"] is None and many.json()[1]["error"]

        private = httpx.post(f"{base}/v1/summarize", json={"url": f"{base}/healthz"}, headers=auth, timeout=60)
        assert 400 <= private.status_code < 500 and "refused: 127.0.0.1 is a loopback address" in private.json()["error"]
        metrics = httpx.get(f"{base}/metrics", headers=auth, timeout=30)
        assert 'summarize_requests_total{endpoint="/v1/summarize",status="200"}' in metrics.text
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0, server.stderr()
    said = server.stderr()
    assert said.rstrip().endswith("summarize: stopped")
    assert not answers(f"{base}/healthz")
    assert TOKEN not in said
    # Ray's and Serve's own chatter stays in Ray's logs: every line is ours.
    assert all(line.startswith("summarize: ") for line in said.splitlines()), said


def test_each_result_reaches_its_own_request_and_sigterm_lets_the_one_in_progress_finish(fast_config, tmp_path):
    """Concurrent requests and a batch of texts of different lengths each get their own summary; a
    request still fetching its url when SIGTERM comes is answered (within --grace), then Serve stops."""
    port, site = free_port(), SlowSite()
    base = f"http://127.0.0.1:{port}"
    args = [BIN, "serve", "--ray", "--port", port, "--config", fast_config, "--engine", "lead", "--no-translate", "--allow-private-urls", "--grace", "120"]
    server = Started(args, tmp_path / "stderr.txt")
    try:
        server.wait_for(lambda: "serving on" in server.stderr())
        answers: dict[int, httpx.Response] = {}
        calls = [
            threading.Thread(target=lambda i=i, text=text: answers.__setitem__(i, httpx.post(f"{base}/v1/summarize", json={"text": text}, timeout=120)))
            for i, text in enumerate(distinct_texts())
        ]
        for call in calls:
            call.start()
        for call in calls:
            call.join(120)
        own_results([answers[i].json() for i in range(len(calls))])
        batch = httpx.post(f"{base}/v1/summarize/batch", json=[{"text": text} for text in reversed(distinct_texts())], timeout=120)
        own_results(list(reversed(batch.json())))

        fetching: list[httpx.Response] = []
        call = threading.Thread(target=lambda: fetching.append(httpx.post(f"{base}/v1/summarize", json={"url": site.url(1)}, timeout=300)))
        call.start()
        site.wait_for(1)
        server.process.send_signal(signal.SIGTERM)
        server.wait_for(lambda: "SIGTERM: stopping" in server.stderr())
        site.release.set()  # the page comes only now, after the signal
        call.join(300)
        assert fetching and fetching[0].status_code == 200, fetching and fetching[0].text
        assert server.process.wait(300) == 0
    finally:
        site.close()
        server.stop(signal.SIGTERM)
    assert server.stderr().rstrip().endswith("summarize: stopped")


def test_a_model_that_cannot_load_is_one_line_and_exit_2(tmp_path):
    config = tmp_path / "missing.toml"
    config.write_text(f'[summarizers.missing]\nmodel = "{tmp_path / "no-model"}"\nmax_input_tokens = 64\n', encoding="utf-8")
    args = [BIN, "serve", "--ray", "--port", free_port(), "--config", config, "--model", "missing", "--no-translate", "--strict"]
    server = Started(args, tmp_path / "stderr.txt")
    try:
        code = server.process.wait(timeout=READY_S)
    finally:
        server.stop()
    assert code == 2
    assert server.stderr().splitlines() == [f"summarize: error: model {tmp_path / 'no-model'} (preset missing): no such directory; fix `model` in models.toml"]


SERVE_CONFIG = """\
proxy_location: HeadOnly
http_options:
  host: 127.0.0.1
  port: {port}
applications:
  - name: summarize
    route_prefix: /
    import_path: summarize.runs.serve.ray_serve:build
    args:
      config: {config}
      replicas: 1
      queue: 64
"""


def test_the_serve_config_a_rayservice_runs(fast_config, tmp_path):
    """The application builder behind docs/serving.md's RayService, deployed by Ray Serve's own CLI."""
    port = free_port()
    config = tmp_path / "serve.yaml"
    config.write_text(SERVE_CONFIG.format(port=port, config=fast_config), encoding="utf-8")
    server = Started([SERVE_BIN, "run", config], tmp_path / "stderr.txt", SUMMARIZE_TOKEN=TOKEN)
    base = f"http://127.0.0.1:{port}"
    try:
        server.wait_for(lambda: answers(f"{base}/healthz"))
        assert httpx.post(f"{base}/v1/summarize", json={"text": SHORT}, timeout=60).status_code == 401
        done = httpx.post(f"{base}/v1/summarize", json={"text": SHORT}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
        assert done.status_code == 200 and done.json()["summary_ru"]
    finally:
        server.stop(signal.SIGINT)  # what `serve run` stops on
    assert not answers(f"{base}/healthz")


def test_the_builder_refuses_what_a_serve_config_must_not_hold(monkeypatch):
    from summarize.runs.serve.ray_serve import build

    with pytest.raises(SummarizeError, match="args: token: set SUMMARIZE_TOKEN on the Ray pods"):
        build({"token": "in-the-file"})
    with pytest.raises(SummarizeError, match="args: port: set http_options.port"):
        build({"port": 8000})
    with pytest.raises(SummarizeError, match="args: unknown 'replica'; the args are: .*replicas"):
        build({"replica": 2})
    monkeypatch.delenv("SUMMARIZE_TOKEN", raising=False)
    with pytest.raises(SummarizeError, match="no token; set SUMMARIZE_TOKEN"):
        build({"replicas": 2})
    monkeypatch.setenv("SUMMARIZE_TOKEN", TOKEN)
    with pytest.raises(SummarizeError, match="args: replicas: Input should be a valid integer"):
        build({"replicas": "two"})


# How replicas share the cluster (no Ray needed)


def plan(resources: dict, replicas: int, device: Device = Device.auto, node_cpus: float = 0) -> Actors:
    from summarize.runs.serve.ray_serve import plan_replicas

    return plan_replicas(resources, replicas, device, node_cpus or resources.get("CPU", 0))


def test_replicas_share_the_cpus_and_each_fits_on_one_node():
    assert (plan({"CPU": 2}, 1).count, plan({"CPU": 2}, 1).threads, plan({"CPU": 2}, 1).gpus) == (1, 2, 0)
    assert (plan({"CPU": 16}, 3).count, plan({"CPU": 16}, 3).threads) == (3, 5)
    assert plan({"CPU": 64}, 2, node_cpus=16).threads == 16  # 32 each would fit on no node of 16
    with pytest.raises(SummarizeError, match="--replicas 3: the Ray cluster has 2 CPUs"):
        plan({"CPU": 2}, 3)


def test_replicas_take_a_gpu_each_where_there_are_gpus():
    assert (plan({"CPU": 8, "GPU": 2}, 2).gpus, plan({"CPU": 8, "GPU": 2}, 2).count) == (1, 2)
    assert plan({"CPU": 8, "GPU": 2}, 2, Device.cpu).gpus == 0
    with pytest.raises(SummarizeError, match="--replicas 3: the Ray cluster has 2 GPUs"):
        plan({"CPU": 8, "GPU": 2}, 3)
    with pytest.raises(SummarizeError, match="--device cuda: the Ray cluster has no GPUs"):
        plan({"CPU": 8}, 1, Device.cuda)
