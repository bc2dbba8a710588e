"""The Ray Data run (`summarize CORPUS --ray --output OUT/`): the same pipeline inside actors.

Records flow read → map_batches → the shards sink, with nothing home-made for scheduling, retries or
data movement. Reading uses the project's own readers (inputs.reading.documents_in: the same ids, record
numbers and per-record errors as a local run) inside Ray read tasks on the driver's node, streamed a
block at a time. Each actor builds one Pipeline (models loaded once per actor) and runs run_all on
its batches; a record that fails is a row with its error, never an exception that fails the job
(ray-project/ray#57140). Rows are Arrow tables of one fixed schema (outputs.dataset.result_schema), so a
batch whose error column is all null still writes (ray#60572).

The corpus and OUT/ may be local paths or storage URIs (s3://, gs://…: summarize.storage); a
cluster needs storage that every node reaches. Each write task streams its rows into one shard
that appears whole or not at all (storage.Folder.write_tables), so a kill never leaves a cut-off one.

Fault tolerance is Ray's: an actor that dies is restarted (MAX_RESTARTS) and the batches it held are
retried on the pool (MAX_TASK_RETRIES); shards already written stay, and --skip-existing resumes a
run that stopped by leaving out the ids that OUT/ holds without an error.
"""

from __future__ import annotations

import fcntl
import functools
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import Any

from summarize.config import Device
from summarize.documents import Document, Failure, Input, Result, Tally
from summarize.engines.device import CPU_GROUP, GPU_GROUP_LIMIT
from summarize.errors import SummarizeError, first_line
from summarize.inputs.datasets import Fields
from summarize.inputs.reading import SeenIds, documents_in
from summarize.options import Options
from summarize.outputs.shards import (
    ShardsSink,
)
from summarize.outputs.sink import Sinks
from summarize.runs.ray_runtime import LOG_GRACE_S, ray_cluster, summarize_error
from summarize.runs.signals import StopAtOnce
from summarize.storage import is_dataset, is_uri

RECORD_BLOCK = 256  # records a read task yields at once: a 5 GB JSONL streams through in blocks
TEXTS_PER_TASK = 64  # .txt articles per read task
# Records per actor call: what the engine's largest group can take, so that its batches are full; the
# actor's Pipeline then groups them by the engine's own token budget (engines.device.group_size).
BATCH_RECORDS = 2 * CPU_GROUP
GPU_BATCH_RECORDS = GPU_GROUP_LIMIT
THREADS_PER_ACTOR = 2  # CTranslate2 threads per actor on a CPU: half the model copies of 1, as fast (bench/results/ray-throughput-latest.md)
MAX_RESTARTS = 3  # an actor killed (OOM, a lost node) comes back this many times…
MAX_TASK_RETRIES = 3  # …and a batch it held is retried this many times, then the job stops
# Actors in a row that may die inside their constructor before the job fails. 0: a model that cannot
# load fails the run at once and in one line (more would retry it, with Ray's retry chatter on
# stdout); an actor killed as its process starts is still restarted by Ray Core (MAX_RESTARTS), but
# one killed while it loads its models fails the run (--skip-existing resumes it).
INIT_DEATHS = 0


@dataclass(frozen=True)
class RayJob:
    """One --ray run: what to read, how to summarise it, on which cluster (where the shards go is
    the sink's: outputs.shards)."""

    inputs: tuple[Input, ...]
    options: Options
    fields: Fields
    max_input_chars: int
    address: str | None = None  # None: a local Ray for this run; "auto" or ray://host:10001 joins one
    workers: int | None = None  # CPUs to use (actors × threads); None: all the cluster's
    threads: int = THREADS_PER_ACTOR
    debug: bool = False


@dataclass(frozen=True)
class Actors:
    """The actor pool: how many, and what each asks of Ray."""

    count: int
    threads: int  # CTranslate2 threads (num_cpus) per actor
    gpus: int  # 0 or 1 per actor
    batch: int  # records per call


def run_on_ray(job: RayJob, sinks: Sinks, notify: Callable[[str], None]) -> Tally:
    """Summarise every record of job.inputs into the shards of sinks.main; the tally of this run.

    Raises SummarizeError for what stops the whole run: Ray not installed, no cluster at the
    address, a device the cluster lacks, a model that cannot load.
    """
    started = time.perf_counter()
    shards: ShardsSink = sinks.main
    if shards.done_ids and _all_done(job, shards.done_ids):
        return Tally(skipped=len(shards.done_ids), seconds=time.perf_counter() - started)  # starting Ray costs seconds, for nothing
    signals = StopAtOnce()
    with ray_cluster(job.address, signals, job.debug) as ray:
        actors = plan_actors(ray.cluster_resources(), job.workers, job.threads, job.options.device)
        notify(
            f"ray: {actors.count} actor{'s' * (actors.count > 1)} × " + ("1 GPU" if actors.gpus else f"{actors.threads} CPU thread{'s' * (actors.threads > 1)}")
        )
        dataset = _dataset(ray, job, actors, ray.put(shards.done_ids))
        _write(dataset, shards)
        time.sleep(LOG_GRACE_S)  # the actors' last notices are still on their way to this terminal
    shards.refuse_repeats({key: i for i, item in enumerate(job.inputs) for key in (item.source, str(item.location))})
    tally = Tally(skipped=len(shards.done_ids), stopped_by=signals.received)
    for row in shards.new_rows():
        tally.add(row["source"], row["error"])
        if row["error"] is not None:
            notify(f"error: {row['error']}")  # as a local run says each failure
        if row["error"] is not None and sinks.errors is not None:
            sinks.errors.write(Input(row["source"], None, PurePath(row["id"]), id=row["id"]), Result(row["source"], error=row["error"]))
    tally.seconds = time.perf_counter() - started
    return tally


def _all_done(job: RayJob, done: frozenset[str]) -> bool:
    """Whether OUT/ holds every record of the inputs without an error (a resume with nothing left).
    Read on the driver only while every id met is done: the first that is not (or a repeated one,
    which is an error row to write) answers no, so at most the records already done are read twice,
    which costs little next to summarising them."""
    seen = SeenIds()
    for item in job.inputs:
        for found, read in documents_in(item, job.max_input_chars, job.fields, seen, lambda found: found.key in done):
            if read is not None:
                return False
    return True


def plan_actors(resources: dict[str, float], workers: int | None, threads: int, device: Device = Device.auto) -> Actors:
    """One actor per GPU where the cluster has GPUs and --device allows them (auto or cuda);
    otherwise actors of `threads` CPU threads, so that actors × threads = the CPUs asked for (all
    the cluster's when `workers` is None)."""
    cpus, gpus = int(resources.get("CPU", 0)), int(resources.get("GPU", 0))
    if device is Device.mps:
        raise SummarizeError("--device mps: Ray schedules CPUs and CUDA GPUs only; use --device cpu, cuda or auto with --ray")
    if device is Device.cuda and not gpus:
        raise SummarizeError("--device cuda: the Ray cluster has no GPUs; use --device cpu or auto, or join a cluster with GPUs")
    if gpus and device is not Device.cpu:
        count = min(gpus, workers or gpus)
        return Actors(count, 1, 1, GPU_BATCH_RECORDS)
    wanted = workers or cpus
    if wanted > cpus:
        raise SummarizeError(f"--workers {wanted}: the Ray cluster has {cpus} CPUs; ask for at most {cpus}")
    threads = threads if wanted % threads == 0 else 1  # actors × threads must be exactly the CPUs asked for
    return Actors(max(1, wanted // threads), threads, 0, BATCH_RECORDS)


def _dataset(ray: Any, job: RayJob, actors: Actors, done: Any) -> Any:
    """read → map_batches(_Summarise): the plan, nothing run yet."""
    from ray.data import DataContext

    context = DataContext.get_current()
    context.max_consecutive_actor_init_deaths = INIT_DEATHS
    # Ray Data warns once that a job "will hang" when no CPU is free as it starts, which is always so
    # here: the actors hold every CPU asked for and reading and writing need none. Spent beforehand.
    from ray.util.debug import log_once

    log_once("cpu_warning")
    source = _Inputs(job.inputs, job.fields, job.max_input_chars, done)
    # Reading and writing take no CPU of their own: every CPU asked for belongs to the actors.
    records = ray.data.read_datasource(source, num_cpus=0)
    # The device is the plan's, not each actor's to probe again: a GPU actor runs on CUDA, the others on their CPUs.
    device, threads = (Device.cuda, None) if actors.gpus else (Device.cpu, actors.threads)
    options = replace(job.options, device=device, cpu_threads=threads)
    with warnings.catch_warnings():
        # Ray 2.60 warns that these two go with 2.64 (hence the cap in pyproject.toml); no other route sets them yet.
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
        return records.map_batches(
            _Summarise,
            fn_constructor_args=(options, job.debug),
            batch_size=actors.batch,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=actors.count),
            num_cpus=actors.threads,
            num_gpus=actors.gpus,
            max_restarts=MAX_RESTARTS,
            max_task_retries=MAX_TASK_RETRIES,
        )


def _write(dataset: Any, shards: ShardsSink) -> None:
    """Run the plan into Parquet shards; an actor that could not start is the run's error."""
    try:
        dataset.write_datasink(_Shards(shards), ray_remote_args={"num_cpus": 0})
    except Exception as e:  # Ray wraps what an actor raised; a SummarizeError is the user's to read
        cause = summarize_error(e)
        if cause is None:
            raise
        raise SummarizeError(cause) from None


RECORD_FIELDS = ("id", "source", "text", "title", "url", "date", "error")


def _record_schema(pa: Any) -> Any:
    """What flows from the readers to the actors: a Document or a Failure, as one Arrow row."""
    return pa.schema([*(pa.field(name, pa.string()) for name in RECORD_FIELDS), pa.field("warnings", pa.list_(pa.string()))])


def _record(found: Input, read: Document | Failure) -> dict[str, Any]:
    if isinstance(read, Document):
        return {
            "id": found.key,
            "source": read.source,
            "text": read.text,
            "title": read.title,
            "url": read.url,
            "date": read.date,
            "error": None,
            "warnings": list(read.warnings),
        }
    return {"id": found.key, "source": read.source, "text": None, "title": read.title, "url": read.url, "date": read.date, "error": read.error, "warnings": []}


def _item(row: dict[str, Any]) -> Document | Failure:
    if row["error"] is not None:
        return Failure(row["source"], row["error"], title=row["title"], url=row["url"], date=row["date"])
    return Document(row["source"], row["text"], tuple(row["warnings"] or ()), title=row["title"], url=row["url"], date=row["date"])


def _read_group(group: Sequence[Input], fields: Fields, max_chars: int, done_ref: Any) -> Iterator[Any]:
    """One read task: its inputs' records, streamed in blocks, those already done left out. Ids are
    checked within the task (a dataset file): a repeated one is that record's error row."""
    import pyarrow as pa
    import ray

    done, schema, rows, seen = ray.get(done_ref), _record_schema(pa), [], SeenIds()
    for item in group:
        for found, read in documents_in(item, max_chars, fields, seen, lambda found: found.key in done):
            if read is None:
                continue
            rows.append(_record(found, read))
            if len(rows) >= RECORD_BLOCK:
                yield pa.Table.from_pylist(rows, schema=schema)
                rows = []
    if rows:
        yield pa.Table.from_pylist(rows, schema=schema)


def _groups(inputs: Sequence[Input]) -> list[list[Input]]:
    """A read task per dataset file, and one per TEXTS_PER_TASK articles."""
    datasets = [[item] for item in inputs if item.location is not None and is_dataset(item.location)]
    texts = [item for item in inputs if item.location is None or not is_dataset(item.location)]
    return datasets + [texts[i : i + TEXTS_PER_TASK] for i in range(0, len(texts), TEXTS_PER_TASK)]


def _datasource_class() -> type:
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    class Inputs(Datasource):
        """The corpus as Ray read tasks: on any node when it is all in storage, else on the driver's
        node, whose paths these are."""

        def __init__(self, inputs: Sequence[Input], fields: Fields, max_chars: int, done: Any):
            self.inputs, self.fields, self.max_chars, self.done = list(inputs), fields, max_chars, done

        def estimate_inmemory_data_size(self) -> int | None:
            return None

        @property
        def supports_distributed_reads(self) -> bool:
            return all(is_uri(item.location or "") for item in self.inputs)

        def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None) -> list:
            import pyarrow as pa

            tasks = []
            for group in _groups(self.inputs):
                files = [str(item.location) for item in group if item.location is not None]
                metadata = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=files)
                read = functools.partial(_read_group, group, self.fields, self.max_chars, self.done)
                tasks.append(ReadTask(read, metadata, schema=_record_schema(pa), per_task_row_limit=per_task_row_limit))
            return tasks

    return Inputs


def _Inputs(*args: Any) -> Any:  # noqa: N802 - builds the Datasource, whose base class needs Ray imported
    return _datasource_class()(*args)


class _Summarise:
    """A Ray actor: one Pipeline (its models loaded once), run on each batch of records."""

    def __init__(self, options: Options, debug: bool = False):
        from summarize.engines.ct2_convert import default_cache_root
        from summarize.pipeline import Pipeline

        self.pipeline = Pipeline(options, notify=_to_stderr, debug=debug)
        # Actors on one node share the CTranslate2 cache: one converts a model, the others wait.
        with _locked(default_cache_root() / ".summarize-distributed.lock"):
            self.pipeline.engines  # noqa: B018 - a model that cannot load fails this actor, and the run

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        from summarize.documents import result_row
        from summarize.outputs.tables import result_schema

        rows = batch.to_pylist()
        out: list[dict[str, Any]] = []
        try:
            for (item, result), row in zip(self.pipeline.run_all([_item(row) for row in rows]), rows):
                result.id = row["id"]
                out.append(result.to_dict())
        except Exception as e:  # noqa: BLE001 - never fail the job over records (ray#57140)
            reason = f"{type(e).__name__}: {first_line(e)}"
            out += [_failed_row(row, reason) for row in rows[len(out) :]]
        targets = tuple(target.code for target in self.pipeline.options.targets)
        return pa.Table.from_pylist(out, schema=result_schema(pa, result_row(targets)))  # a summary_<code> column per --to target


def _sink_class() -> type:
    from ray.data import Datasink
    from ray.data.block import BlockAccessor

    class Shards(Datasink):
        """Each write task's rows as one shard of the sink's folder (outputs.shards)."""

        def __init__(self, shards: ShardsSink):
            self.shards = shards

        def write(self, blocks: Any, ctx: Any) -> int:
            return self.shards.write_shard(ctx.task_idx, (BlockAccessor.for_block(block).to_arrow() for block in blocks))

        def get_name(self) -> str:
            return "Shards"

        @property
        def min_rows_per_write(self) -> int:
            return self.shards.rows_per_shard

    return Shards


def _Shards(*args: Any) -> Any:  # noqa: N802 - builds the Datasink, whose base class needs Ray imported
    return _sink_class()(*args)


def _failed_row(row: dict[str, Any], reason: str) -> dict[str, Any]:
    error = f"{row['source']}: the pipeline failed on its batch ({reason}); rerun with --skip-existing to retry it"
    return Result(row["source"], id=row["id"], title=row["title"], url=row["url"], date=row["date"], error=error).to_dict()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _to_stderr(message: str) -> None:
    print(f"summarize: {message}", file=sys.stderr, flush=True)
