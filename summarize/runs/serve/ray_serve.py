"""`summarize serve --ray`: the same app as `summarize serve` (app.make_app over a Service) in Ray Serve
replicas, each holding its own models, behind Ray Serve's HTTP proxy on --host/--port.

Everything the app guards (the token, the body limit, the error shape, the deadline) comes along, as
it lives in the app. Requests are batched by the app's own batcher inside each replica, not by
`@serve.batch`: the batcher groups documents by the options they ask for (only those can share a
Pipeline.run_all), bounds its queue in documents with a 503 of our shape, drops documents whose
client hung up or whose deadline passed, and reports all of it in /metrics; `@serve.batch` groups
method calls by count and knows none of that. Ray's own limits sit in front of it: a replica takes at
most --queue requests at once and Ray's proxy holds at most --queue more (past that Ray answers 503
itself, in plain text), and a request waits at most --deadline in all.

`build` is the same application for Ray Serve's config files (KubeRay's RayService: docs/serving.md).
Ray is imported inside the functions that use it.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from summarize.config import Config, Device, load_config
from summarize.engines.protocol import Notify
from summarize.errors import EXIT_OK, SummarizeError, first_line
from summarize.flags import TOKEN_ENV, ServeFlags
from summarize.options import Choices, choices_from, make_options
from summarize.runs.ray_plan import Actors, plan_actors
from summarize.runs.ray_runtime import SUMMARIZE_ERROR, ray_cluster, summarize_error
from summarize.runs.serve.keys import check_access_flags
from summarize.runs.serve.listen import MIN_TOKEN, bind, check_listening
from summarize.runs.signals import Signalled, StopAtOnce

APP_NAME = "summarize"  # the Serve application, and its one deployment
# Starts of a replica Ray makes before the deployment fails: a model that cannot load fails the same
# way each time, so a few tries say so soon (Ray's default is 20); a replica that dies later is restarted as ever.
CONSTRUCTOR_TRIES = 3
STOP_MARGIN_S = 10  # past --grace, for Ray to stop the replicas it has told to stop


def serve_on_ray(flags: ServeFlags, choices: Choices, config: Path | None, notify: Notify, debug: bool = False) -> int:
    """Deploy on a local Ray (or join --ray-address), serve until SIGTERM or Ctrl-C, then shut Serve
    down (the replicas finish what they hold within --grace); the exit code."""
    flags = check_listening(flags, notify)
    check_access_flags(flags)
    settings = load_config(config)
    make_options(settings, choices, flags.translate, flags.strict)  # bad presets are one line before Ray starts
    port = _free_port(flags.host, flags.port)
    with ray_cluster(flags.ray_address, StopAtOnce(), debug) as ray:
        from ray import serve

        if not debug:  # Serve's notes on its start and its application ("ready at …"): the ready line is ours
            logging.getLogger("ray.serve").setLevel(logging.WARNING)

        running = serve.status()
        if running.proxies or running.applications:
            raise SummarizeError(
                "Ray Serve already runs on this cluster, with its own host and port; stop it with `serve shutdown`, "
                "or add summarize to its config (docs/serving.md, Deploying)"
            )
        replicas = plan_replicas(ray.cluster_resources(), flags.replicas, choices.device, _largest_node_cpus(ray))
        serve.start(
            http_options={"host": flags.host, "port": port, "request_timeout_s": flags.deadline},
            logging_config={"log_level": "INFO" if debug else "WARNING"},
        )
        try:
            _run(serve, application(settings, choices, flags, replicas, debug))
            shown = f"[{flags.host}]" if ":" in flags.host else flags.host
            each = "a GPU" if replicas.gpus else f"{replicas.threads} CPU{'s' if replicas.threads > 1 else ''}"
            notify(f"serving on http://{shown}:{port} with Ray Serve: {replicas.count} replica(s), {each} each; Ctrl-C stops")
            threading.Event().wait()  # until a signal ends it (ray_cluster's StopAtOnce)
        except Signalled as e:
            notify(f"{e.signal.name}: stopping; the requests in progress get up to {flags.grace:g} s (--grace) to finish")
            _finish_in_flight(serve, flags.grace)
            raise
        finally:
            serve.shutdown()
    notify("stopped")
    return EXIT_OK


def _finish_in_flight(serve: Any, grace: float) -> None:
    """Delete the application while the proxies still serve: each replica takes no new request and
    finishes those it holds within --grace (its graceful_shutdown_timeout_s) before it goes, and
    their answers still reach the clients. Bounded here too (a second signal ends it at once);
    serve.shutdown() after it would drop the requests in progress at once."""
    deleting = threading.Thread(target=serve.delete, args=(APP_NAME,), name="summarize-serve-delete", daemon=True)
    deleting.start()
    deleting.join(grace + STOP_MARGIN_S)


def _free_port(host: str, port: int) -> int:
    """The port, checked free here (Ray's proxy would retry a taken one in the background); --port 0: one that is."""
    listening = bind(host, port)
    try:
        return listening.getsockname()[1]
    finally:
        listening.close()


def _run(serve: Any, app: Any) -> None:
    """serve.run, with replicas that cannot start (a model that will not load) as one line: Ray gives
    up after CONSTRUCTOR_TRIES and keeps the last replica's traceback, as text, in the deployment's status."""
    try:
        serve.run(app, name=APP_NAME, route_prefix="/")
    except Exception as e:  # noqa: BLE001 - Ray's RuntimeError, whatever failed in the replica
        ours = summarize_error(e)
        if ours is None:
            status = serve.status().applications.get(APP_NAME)
            told = "\n".join(d.message for d in status.deployments.values()) if status else ""
            ours = _our_error_in(told) or f"Ray Serve could not start the replicas ({_last_line(told) or first_line(e, 300)}); run with --debug to see why"
        raise SummarizeError(ours) from None


def _our_error_in(text: str) -> str | None:
    """The message of a SummarizeError in a traceback Ray passed on as text."""
    for line in reversed(text.splitlines()):
        _, found, message = line.partition(f"{SUMMARIZE_ERROR}: ")
        if found:
            return message.strip()
    return None


def _last_line(text: str) -> str:
    """A traceback's last line: the exception and its message."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _largest_node_cpus(ray: Any) -> float:
    return max((node["Resources"].get("CPU", 0) for node in ray.nodes() if node.get("Alive")), default=0)


def plan_replicas(resources: dict[str, float], replicas: int, device: Device, node_cpus: float) -> Actors:
    """A GPU for each replica where the cluster has GPUs (and --device allows them), else an equal
    share of the CPUs, no more than one node holds (a replica is one process on one node)."""
    gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 0))
    if gpus and device is not Device.cpu:
        if replicas > gpus:
            raise SummarizeError(f"--replicas {replicas}: the Ray cluster has {gpus} GPUs, one for each replica; ask for at most {gpus}, or --device cpu")
        return plan_actors(resources, replicas, 1, device)
    if replicas > cpus:
        raise SummarizeError(f"--replicas {replicas}: the Ray cluster has {cpus} CPUs, at least one for each replica; ask for at most {cpus}")
    threads = max(1, min(cpus // replicas, int(node_cpus) or 1))
    return plan_actors(resources, threads * replicas, threads, device)


def application(config: Config, choices: Choices, flags: ServeFlags, replicas: Actors, debug: bool = False) -> Any:
    """The Serve application: `replicas.count` copies of Replica, each asking Ray for its CPUs or GPU."""
    from ray import serve

    deployment = serve.deployment(
        serve.ingress()(Replica),
        name=APP_NAME,
        num_replicas=replicas.count,
        ray_actor_options={"num_cpus": replicas.threads, "num_gpus": replicas.gpus},
        max_ongoing_requests=flags.queue,
        max_queued_requests=flags.queue,
        graceful_shutdown_timeout_s=flags.grace,
        max_constructor_retry_count=CONSTRUCTOR_TRIES,
        logging_config={"enable_access_log": flags.access_log},  # Serve's own access log, in Ray's log files
    )
    return deployment.bind(config, choices, flags, debug)


class Replica:
    """One replica: a Service whose models load in the constructor (Ray sends it no request before),
    on the device and CPUs Ray gave this replica, behind make_app."""

    def __init__(self, config: Config, choices: Choices, flags: ServeFlags, debug: bool = False) -> None:
        import ray

        from summarize.outputs.terminal import notifier, stderr
        from summarize.runs.serve.app import make_app
        from summarize.runs.serve.metrics import ServeMetrics
        from summarize.runs.serve.service import Service

        given = ray.get_runtime_context().get_assigned_resources()
        on_gpu = given.get("GPU", 0) > 0
        # The device is the plan's, as in a --ray run: a replica with a GPU runs on CUDA, the others on their CPUs.
        choices = replace(choices, device=Device.cuda if on_gpu else Device.cpu)
        notify = notifier(stderr())  # `summarize: …` lines, which the driver passes on to its stderr (ray_runtime)
        metrics = ServeMetrics()
        self.service = Service(config, choices, flags, notify, metrics)
        if not on_gpu and given.get("CPU"):
            # Ray does not pin a replica to its CPUs: CTranslate2 is told how many are its.
            self.service.options = replace(self.service.options, cpu_threads=int(given["CPU"]))
        self.service.load()
        self.asgi = make_app(self.service, flags, metrics, notify, debug)  # not `app`: Ray's wrapper has a property of that name

    def __serve_build_asgi_app__(self) -> Any:
        return self.asgi


# Options a Serve config file sets elsewhere, or must not hold: refused as args, each with where it goes.
NOT_ARGS = {
    "token": f"set {TOKEN_ENV} on the Ray pods instead (from a Secret): a config file is no place for it",
    "host": "set http_options.host in the config instead",
    "port": "set http_options.port in the config instead",
    "ray": "the config is Ray Serve's already; leave it out",
    "ray_address": "the config is deployed on the cluster it is given to; leave it out",
    "tokens_file": "not with Ray Serve yet (each replica would keep its own keys, deaf to SIGHUP); use the one token, SUMMARIZE_TOKEN",
    "requests_per_minute": "not with Ray Serve yet (each replica would count on its own); limit requests in front of Serve",
}


def build(args: dict[str, Any]) -> Any:
    """The application for a Serve config file (`import_path: summarize.runs.serve.ray_serve:build`):
    `args` are the options of `summarize serve` by their field names (model, replicas, queue,
    max_body…) plus `config`, a models.toml on the nodes. The token comes from SUMMARIZE_TOKEN and
    is required: Serve's proxies listen where the file's http_options say, which this cannot see."""
    import ray
    from pydantic import TypeAdapter, ValidationError

    flag_names, choice_names = {f.name for f in fields(ServeFlags)} - set(NOT_ARGS), {f.name for f in fields(Choices)}
    for name in args:
        if name in NOT_ARGS:
            raise SummarizeError(f"serve config args: {name}: {NOT_ARGS[name]}")
        if name not in flag_names | choice_names | {"config"}:
            raise SummarizeError(f"serve config args: unknown {name!r}; the args are: {', '.join(sorted(flag_names | choice_names | {'config'}))}")
    token = os.environ.get(TOKEN_ENV, "").strip() or None
    if token is None:
        raise SummarizeError(f"serve config: no token; set {TOKEN_ENV} on the Ray pods (from a Secret): clients send 'Authorization: Bearer TOKEN'")
    if len(token) < MIN_TOKEN or not all("!" <= c <= "~" for c in token):
        raise SummarizeError(f"serve config: {TOKEN_ENV} must be at least {MIN_TOKEN} characters, letters, digits and -._~+/= (no spaces)")
    try:
        flags = TypeAdapter(ServeFlags).validate_python({k: v for k, v in args.items() if k in flag_names})
    except ValidationError as e:
        first = e.errors()[0]
        raise SummarizeError(f"serve config args: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    flags = replace(flags, token=token, ray=True)
    choices = choices_from({k: v for k, v in args.items() if k in choice_names})
    config = load_config(args.get("config"))
    make_options(config, choices, flags.translate, flags.strict)
    replicas = plan_replicas(ray.cluster_resources(), flags.replicas, choices.device, _largest_node_cpus(ray))
    return application(config, choices, flags, replicas)
