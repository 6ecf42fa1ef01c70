"""`qa index PATH --ray [ADDRESS]`: the embedding stage of a build spread over Ray workers.

What runs where, and why:

- **Reading, cleaning and chunking stay on the driver** (qa.index.folder.read_passages, unchanged). They
  are cheap (a few per cent of a build) and cleaning needs the whole corpus at once: lines
  repeated across files are dropped as boilerplate, so cleaning files apart on workers would
  give other passages than a normal build.
- **Embedding, the expensive part, is a Ray Data pipeline.** The texts still to embed go out in
  batches of up to 64 rows (longest first, so a batch pads little); a fixed pool of encoder
  actors (qa.index.encoders.load_encoder in each actor's __init__, `threads` CPU threads each) embeds
  them; the driver streams the results back (iter_batches) and puts each row at its passage's
  number, so vectors are in passage order whatever order batches finish in. Texts whose vector
  is already known are not sent: the previous index's (qa.index.incremental.embed_missing, by text,
  as for every re-index) and those an interrupted Ray run saved (below).
- **Writing is the normal build.** RayEncoder is handed to qa.index.folder.build_index (or the Qdrant
  build) as its `encoder`, so the temp-dir-and-rename, the lock, the manifest and the staleness
  checks are exactly those of a build without Ray.

Faults. An actor that dies (a crashed process, a lost node) is restarted and its batch retried
(Ray's max_restarts / max_task_retries, bounded so a worker that always crashes ends the build
instead of looping). An unreachable ADDRESS, a cluster that goes away mid-build, or an encoder
that fails on every try end the build with one line (QAError) before anything is written: the
existing index is untouched.

Resume. Finished batches are saved as they come back, in a private folder beside the index,
`.<index name>.ray-partial/` (meta.json + part-*.npz, numpy without pickle, vectors keyed by the
SHA-256 of their text). The next `--ray` run reuses them by text, like incremental reuse, and
sends only the rest; the folder is removed once every vector is in (before the index is
written: a write that then fails, a full disk, embeds everything again). It is not one of the
`.tmp-qa`/`.old-qa` leftovers a folder build sweeps away, and a folder of that name holding
anything else is neither used nor removed.

Ray is imported only here, and only when a `--ray` build embeds something.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from qa.errors import QAError, UsageError
from qa.index.encoders.base import DIMENSION
from qa.safe_text import plural

PARTIAL_TAG = "ray-partial"
DEFAULT_BATCH = 64  # most rows per Ray batch: 8 int8-ONNX encoder batches, ≈ 2–4 s of one core
BATCHES_PER_WORKER = 4  # a small job is cut finer, so no worker waits on one long last batch
FLUSH_ROWS = 1024  # finished vectors are written to the partial folder this often …
FLUSH_SECONDS = 20.0  # … or after this long, whichever comes first
MAX_RESTARTS = 4  # per actor: a worker process that dies is started again this many times
MAX_TASK_RETRIES = 4  # a batch whose worker died is run again this many times
CONNECT_TIMEOUT = 5.0  # seconds to reach ADDRESS before it is called unreachable
WATCH_SECONDS = 2.0  # during a build the cluster's GCS is probed this often …
LOST_AFTER = 4  # … and called gone after this many misses in a row (Ray itself gives up after 60 s)

# ray://host:port (Ray Client), host:port (a node's GCS), or auto (the cluster this machine belongs to)
_ADDRESS = re.compile(r"^(ray://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")

Notify = Callable[[str], None]


def is_address(value: str) -> bool:
    return value in ("auto", "local") or bool(_ADDRESS.match(value))


def check_address(value: str) -> str:
    """`value` if it is a Ray address qa accepts, else the one-line UsageError saying which forms are."""
    if not is_address(value):
        raise UsageError(f"--ray {value!r} is not a Ray address: use ray://HOST:10001, HOST:6379 or auto (or --ray alone for a local Ray)")
    return value


def partial_dir_for(base: Path | str) -> Path:
    """The private folder beside the index at `base` where an interrupted Ray build keeps its vectors."""
    base = Path(os.path.abspath(base))
    return base.parent / f".{base.name}.{PARTIAL_TAG}"


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


# ---------------------------------------------------------------- the partial folder (resume)


class PartialCache:
    """Vectors finished by a Ray build that did not complete, keyed by the SHA-256 of their text."""

    META = "meta.json"

    def __init__(self, folder: Path, model: str, backend: str) -> None:
        self.folder = Path(folder)
        self.meta = {"kind": "qa-ray-partial", "model": model, "backend": backend}
        self.saved = 0  # vectors on disk now
        self._keys: list[bytes] = []
        self._rows: list[np.ndarray] = []
        self._flushed_at = time.monotonic()
        self._usable = True
        self.lock = threading.RLock()  # the driver's loop adds, the cluster watchdog may flush

    def ours(self) -> bool:
        """Absent, or a real folder holding only what this class writes."""
        if not self.folder.exists() and not self.folder.is_symlink():
            return True
        if self.folder.is_symlink() or not self.folder.is_dir():
            return False
        return all(n == self.META or (n.startswith("part-") and n.endswith((".npz", ".npz.tmp"))) for n in os.listdir(self.folder))

    def load(self) -> dict[bytes, np.ndarray]:
        """{digest: vector} of what an earlier run saved for the same model and backend ({} if nothing usable)."""
        if not self.ours():
            self._usable = False  # someone else's folder: never read, written or removed
            return {}
        if not self.folder.exists():
            return {}
        try:
            meta = json.loads((self.folder / self.META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = None
        if meta != self.meta:  # another model or backend: its vectors must not be mixed in
            self.remove()
            return {}
        stored: dict[bytes, np.ndarray] = {}
        for part in sorted(self.folder.glob("part-*.npz")):
            try:
                with np.load(part, allow_pickle=False) as data:
                    keys, vectors = data["keys"], data["vectors"]
            except (OSError, ValueError, KeyError):
                continue  # a part cut short by a crash: its rows are embedded again
            for key, vec in zip(keys, vectors, strict=False):
                stored[key.tobytes()] = vec
        self.saved = len(stored)
        return stored

    def add(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        with self.lock:
            if not self._usable:
                return
            self._keys.extend(keys)
            self._rows.append(np.asarray(vectors, dtype=np.float32))
            if len(self._keys) >= FLUSH_ROWS or time.monotonic() - self._flushed_at > FLUSH_SECONDS:
                self.flush()

    def flush(self) -> None:
        """Write what came back since the last flush (a new part file, renamed into place when complete)."""
        with self.lock:
            self._flush()

    def _flush(self) -> None:
        if not self._usable or not self._keys:
            return
        keys = np.frombuffer(b"".join(self._keys), dtype=np.uint8).reshape(len(self._keys), -1)
        vectors = np.concatenate(self._rows)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            meta = self.folder / self.META
            if not meta.exists():
                meta.write_text(json.dumps(self.meta), encoding="utf-8")
            part = self.folder / f"part-{time.time_ns():020d}-{os.getpid()}.npz"
            tmp = part.with_name(part.name + ".tmp")
            with open(tmp, "wb") as fh:
                np.savez(fh, keys=keys, vectors=vectors)
            os.replace(tmp, part)
        except OSError:
            self._usable = False  # resume is a convenience: a full disk must not fail the build
            return
        self.saved += len(self._keys)
        self._keys, self._rows = [], []
        self._flushed_at = time.monotonic()

    def remove(self) -> None:
        if self.ours() and self.folder.is_dir():
            shutil.rmtree(self.folder, ignore_errors=True)


# ---------------------------------------------------------------- the actors


class EncoderActor:
    """One Ray Data worker: loads the encoder once, then embeds batch after batch."""

    def __init__(self, backend: str, threads: int, load: Callable[[], Any] | None = None) -> None:
        os.environ["QA_ONNX_THREADS"] = str(threads)  # read when the ONNX session is created
        if backend == "torch":
            import torch

            torch.set_num_threads(threads)
        if load is None:
            from qa.index.encoders import load_encoder

            self.encoder = load_encoder(backend)
        else:
            self.encoder = load()
        self.batch_size = int(getattr(self.encoder, "batch_size", 32))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        began = time.time()  # wall clock: the driver spans batches of every worker with it
        texts = [str(t) for t in batch["text"]]
        vectors = np.asarray(self.encoder.encode(texts, batch_size=self.batch_size), dtype=np.float32)
        n = len(texts)
        return {"i": np.asarray(batch["i"], dtype=np.int64), "vector": vectors, "t0": np.full(n, began), "t1": np.full(n, time.time())}


def dataset(blocks: list[Any], backend: str, threads: int, load: Callable[[], Any] | None, workers: int) -> Any:
    """The Ray Data pipeline: `blocks` (one batch each) through a fixed pool of `workers` EncoderActors."""
    import ray.data

    quiet_data()
    with warnings.catch_warnings():
        # max_restarts/max_task_retries have no named parameter yet (deprecated as **ray_remote_args
        # for 2.64, hence ray < 2.64 in pyproject); without them Ray Data restarts a crashing worker forever
        warnings.simplefilter("ignore", DeprecationWarning)
        return ray.data.from_arrow(blocks).map_batches(
            EncoderActor,
            fn_constructor_kwargs={"backend": backend, "threads": threads, "load": load},
            batch_size=None,  # one block = one batch, as cut by the driver
            batch_format="numpy",
            # one batch at a time per worker: a free worker takes the next one, none queues behind a busy one
            compute=ray.data.ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=1),
            num_cpus=threads,
            max_restarts=MAX_RESTARTS,
            max_task_retries=MAX_TASK_RETRIES,
        )


class PipelineActor:
    """For a Ray Client driver (ray://): runs the pipeline on the cluster and hands back one batch per call."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.batches = iter(dataset(**spec).iter_batches(batch_size=None, batch_format="numpy"))

    def next(self) -> dict[str, np.ndarray] | None:
        return next(self.batches, None)


def _through_client(spec: dict[str, Any]) -> Iterator[dict[str, np.ndarray]]:
    import ray

    actor = ray.remote(num_cpus=0, max_restarts=0)(PipelineActor).remote(spec)
    try:
        while (batch := ray.get(actor.next.remote())) is not None:
            yield batch
    finally:
        ray.kill(actor)


def quiet_data() -> None:
    """No Ray Data progress bars or log lines: qa draws its own bar, and reports a failure once, as one line."""
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    with contextlib.suppress(AttributeError):
        ctx.print_on_execution_start = False
    if not os.environ.get("QA_DEBUG"):
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


# ---------------------------------------------------------------- the encoder the build sees


class RayEncoder:
    """The Encoder protocol, embedding on Ray: what `qa index --ray` hands to the normal build.

    `address` None or "local" starts a Ray on this machine (stopped again by close()); "auto",
    "ray://host:10001" or "host:6379" joins a running cluster. When Ray is already initialised
    in this process (a test fixture, a notebook) it is used as it is, and left running.
    `workers` is the size of the actor pool (default: the cluster's CPUs // `threads`);
    `load`, a picklable function returning an encoder, replaces load_encoder in the actors (tests).
    `exit_on_loss` (the CLI): when the cluster's GCS stops answering, save the finished vectors, print
    the one-line error and exit 2 — Ray's core would otherwise end the process after 60 s with
    exit code 1 and no word of why.
    """

    def __init__(
        self,
        model: str,
        backend: str,
        address: str | None = None,
        workers: int | None = None,
        threads: int = 1,
        batch_size: int | None = None,
        partial: Path | None = None,
        notify: Notify | None = None,
        load: Callable[[], Any] | None = None,
        exit_on_loss: bool = False,
    ) -> None:
        self.name, self.backend, self.dim = model, backend, DIMENSION
        self.exit_on_loss = exit_on_loss
        self.address = None if address in (None, "", "local") else check_address(address)
        self.workers, self.threads = workers, max(1, threads)
        self.batch_size = max(1, batch_size) if batch_size else None  # None: batch_for(rows, workers)
        self.partial, self.notify, self.load = partial, notify, load
        self.started_ray = False
        self.stats: dict[str, Any] = {}

    @property
    def where(self) -> str:
        return f"the Ray cluster at {self.address}" if self.address else "the local Ray"

    # -------------------------------------------------------- the protocol

    def encode(self, texts: Sequence[str], batch_size: int | None = None, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Vectors of `texts` (passage order): saved ones reused by text, the rest embedded on Ray."""
        started = time.perf_counter()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        cache = PartialCache(self.partial, self.name, self.backend) if self.partial else None
        saved = cache.load() if cache else {}
        keys = [digest(t) for t in texts]
        todo: list[int] = []
        for i, key in enumerate(keys):
            vec = saved.get(key)
            if vec is None or vec.shape != (self.dim,):
                todo.append(i)
            else:
                out[i] = vec
        done = len(texts) - len(todo)
        self.stats = {"texts": len(texts), "resumed": done, "sent": len(todo), "workers": 0}
        if done and self.notify:
            self.notify(f"resuming an interrupted Ray build: {done:,} of {len(texts):,} vectors were already computed")
        if progress:
            progress(done, len(texts))
        if todo:
            order = sorted(todo, key=lambda i: (-len(texts[i]), i))  # similar lengths share a batch: little padding
            stop = threading.Event()
            try:
                for rows, vectors in self._embed(order, texts, batch_size or self.batch_size, cache, stop):
                    if vectors.shape != (len(rows), self.dim):
                        raise QAError(f"a Ray worker returned vectors of shape {vectors.shape}, expected ({len(rows)}, {self.dim})")
                    out[rows] = vectors
                    if cache:
                        cache.add([keys[i] for i in rows], vectors)
                    done += len(rows)
                    if progress:
                        progress(done, len(texts))
            except QAError:
                raise
            except Exception as exc:  # noqa: BLE001 - Ray's errors of every kind (a lost cluster, a worker failing every try): one line
                if cache:
                    cache.flush()
                raise self._failure(exc, cache) from None
            finally:
                stop.set()
                if cache:
                    cache.flush()
        if cache:
            cache.remove()  # every vector is in: nothing to resume
        self.stats["seconds"] = round(time.perf_counter() - started, 3)
        return out

    def close(self) -> None:
        """Stop the local Ray this encoder started (a cluster joined is only disconnected from)."""
        if self.started_ray:
            import ray

            with contextlib.suppress(Exception), _c_stderr_silenced():
                ray.shutdown()
            self.started_ray = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------- Ray

    def _embed(
        self, order: list[int], texts: Sequence[str], batch_size: int | None, cache: PartialCache | None, stop: threading.Event
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """(passage numbers, their vectors) per finished batch, as they come back."""
        import pyarrow as pa

        began = time.perf_counter()
        self._start()
        self.stats["start_seconds"] = round(time.perf_counter() - began, 3)  # joining or starting Ray
        import ray

        if self.exit_on_loss and not (self.address or "").startswith("ray://"):  # Ray Client raises ConnectionError itself
            self._watch(ray.get_runtime_context().gcs_address, cache, stop)

        workers = self._pool_size()
        batch_size = batch_size or batch_for(len(order), workers)
        blocks = [
            pa.table({"i": pa.array(order[k : k + batch_size], pa.int64()), "text": pa.array([texts[i] for i in order[k : k + batch_size]], pa.string())})
            for k in range(0, len(order), batch_size)
        ]
        workers = min(workers, len(blocks))  # a worker with no batch to take would only cost its start-up
        self.stats.update(workers=workers, batch_size=batch_size)
        spec = {"blocks": blocks, "backend": self.backend, "threads": self.threads, "load": self.load, "workers": workers}
        if (self.address or "").startswith("ray://"):
            batches = _through_client(spec)  # Ray Data's executor needs a real driver: it runs in an actor on the cluster
        else:
            batches = dataset(**spec).iter_batches(batch_size=None, batch_format="numpy")
        span, busy, rows, submitted = [float("inf"), 0.0], 0.0, 0, time.time()
        for batch in batches:
            # each row carries its batch's start and end on its worker: the pool's own rate, start-up excluded
            t0, t1 = batch["t0"], batch["t1"]
            for began, ended in sorted(set(zip(t0.tolist(), t1.tolist(), strict=True))):
                span = [min(span[0], began), max(span[1], ended)]
                busy += ended - began
            rows += len(t0)
            if span[1] > span[0] and busy > 0:
                self.stats.update(
                    actors_start_seconds=round(span[0] - submitted, 3),  # pipeline submitted → first batch begun
                    pool_seconds=round(span[1] - span[0], 3),
                    pool_rate=round(rows / (span[1] - span[0]), 2),
                    worker_rate=round(rows / busy, 2),
                )
            yield [int(i) for i in batch["i"]], np.asarray(batch["vector"], dtype=np.float32)

    def _watch(self, gcs: str, cache: PartialCache | None, stop: threading.Event) -> None:
        """A daemon thread probing the GCS every WATCH_SECONDS; LOST_AFTER misses in a row end the process (see exit_on_loss)."""

        def run() -> None:
            misses = 0
            while not stop.wait(WATCH_SECONDS):
                misses = 0 if reachable(gcs) else misses + 1
                if misses < LOST_AFTER:
                    continue
                if cache:
                    cache.flush()
                if stop.is_set():
                    return
                import sys

                error = self._failure(ConnectionError(f"its GCS at {gcs} stopped answering"), cache)
                print(" ".join(f"qa: error: {error}".split()), file=sys.stderr, flush=True)
                os._exit(error.exit_code)

        threading.Thread(target=run, name="qa-ray-watchdog", daemon=True).start()

    def _start(self) -> None:
        """Join or start Ray (quietly); an unreachable address is one line before any waiting."""
        import ray

        if ray.is_initialized():
            quiet_data()
            return
        if self.address not in (None, "auto"):
            probe(self.address)
        if self.notify:
            self.notify(f"joining the Ray cluster at {self.address}" if self.address else f"starting a local Ray ({plural(self._local_cpus(), 'CPU')})")
        _quiet_env()
        try:
            with _c_stderr_silenced():
                self._init()
        except Exception as exc:  # noqa: BLE001 - ray.init raises ConnectionError, RuntimeError, ValueError …
            raise QAError(f"cannot {'start a local Ray' if self.address is None else f'join the Ray cluster at {self.address}'} "
                          f"({_root_message(exc)}); {_address_fix(self.address)}") from None
        self.started_ray = True
        quiet_data()

    def _init(self) -> None:
        import ray

        if self.address is None:
            # Ray runs workers at +15 niceness by default; a local build's workers get the priority
            # of this process, as a normal build's encoder has (a cluster keeps its own setting)
            os.environ.setdefault("RAY_worker_niceness", "0")
            ray.init(
                address="local",
                num_cpus=self._local_cpus(),
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
                object_store_memory=512 * 2**20,  # blocks are small (≤ 64 texts): no need for 30 % of RAM
            )
        else:
            ray.init(address=self.address, log_to_driver=False, logging_level=logging.ERROR)

    def _local_cpus(self) -> int:
        return self.workers * self.threads if self.workers else max(1, os.cpu_count() or 1)

    def _pool_size(self) -> int:
        """--workers, else the cluster's CPUs // threads; a pool the cluster cannot hold is one line, not a hang."""
        import ray

        cpus = int(ray.cluster_resources().get("CPU", 0))
        if not self.workers:
            return max(1, cpus // self.threads)
        if self.workers * self.threads > cpus:
            raise QAError(
                f"{self.where} has {plural(cpus, 'CPU')}; {plural(self.workers, 'worker')} × {plural(self.threads, 'thread')} need {self.workers * self.threads}: "
                f"use --workers {max(1, cpus // self.threads)} or fewer (or add nodes)"
            )
        return self.workers

    def _failure(self, exc: BaseException, cache: PartialCache | None) -> QAError:
        kept = ""
        if cache and cache.saved:
            kept = f"; {cache.saved:,} finished vectors are kept in {cache.folder} and reused"
        return QAError(
            f"the Ray build failed: {self.where} {_lost_or_failed(exc)} ({_root_message(exc)}); the index was not changed{kept}; "
            f"{_address_fix(self.address)}, then run the same command again"
        )


# ---------------------------------------------------------------- helpers


def probe(address: str) -> None:
    """Raise the one-line QAError when nothing listens at `address` (ray.init would wait 30 s to minutes)."""
    match = _ADDRESS.match(address)
    if not match:
        check_address(address)
        return
    why = _connect_error(match.group(2).strip("[]"), int(match.group(3)), CONNECT_TIMEOUT)
    if why is not None:
        raise QAError(f"cannot reach the Ray cluster at {address} ({why}); {_address_fix(address)}")


def batch_for(rows: int, workers: int) -> int:
    """Rows per Ray batch: DEFAULT_BATCH, or fewer so that every worker gets BATCHES_PER_WORKER batches (≥ 8 rows)."""
    return max(8, min(DEFAULT_BATCH, -(-rows // (workers * BATCHES_PER_WORKER))))


def reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> bool:
    """Does something accept TCP connections at host:port?"""
    host, _, port = address.rpartition(":")
    try:
        return _connect_error(host.strip("[]"), int(port), timeout) is None
    except ValueError:
        return False


def _connect_error(host: str, port: int, timeout: float) -> str | None:
    """Why a TCP connection to host:port fails ("timed out", "connection refused"), None if it opens."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__).lower()


def _address_fix(address: str | None) -> str:
    if address is None:
        return "see `ray status`, or build without --ray"
    return "check that it runs (`ray status` on the head node, started with `ray start --head`) and that the port is open, or leave out the address for a local Ray"


def _lost_or_failed(exc: BaseException) -> str:
    text = f"{type(exc).__name__} {exc}".lower()
    lost = ("connection", "gcs", "node died", "raylet", "unavailable", "system error", "shut down", "shutdown")
    return "went away mid-build" if isinstance(exc, ConnectionError) or any(w in text for w in lost) else "failed"


_ERROR_LINE = re.compile(r"^\s*(?:[A-Za-z_][\w]*\.)*([A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt)): (\S.*)$")
_WRAPPERS = ("RayTaskError", "UserCodeException", "RayActorError", "TaskError")


def _root_message(exc: BaseException) -> str:
    """The innermost cause of a (Ray-wrapped) error, as `Type: first line` (≤ 200 characters).

    Ray sends a worker's exception back as text inside RayTaskError/UserCodeException (the
    `from e` chain does not survive pickling), so the first `SomeError: message` line of the
    remote traceback that is not one of Ray's wrappers is the cause.
    """
    chain: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and node not in chain:
        chain.append(node)
        nxt = getattr(node, "cause", None) or node.__cause__
        node = nxt if isinstance(nxt, BaseException) else None
    for err in chain:
        for line in str(err).splitlines():
            m = _ERROR_LINE.match(line)
            if m and not any(w in m.group(1) for w in _WRAPPERS):
                return f"{m.group(1)}: {m.group(2).strip()}"[:200]
    root = chain[-1]
    lines = [ln.strip() for ln in str(root).splitlines() if ln.strip() and not ln.lstrip().startswith(("ray::", "Traceback", "File "))]
    text = f"{type(root).__name__}: {lines[0]}" if lines else type(root).__name__
    return text[:200]


def _quiet_env() -> None:
    """No Ray banners or C++ warnings in the user's terminal (errors still come back as exceptions; QA_DEBUG=1 shows them)."""
    if os.environ.get("QA_DEBUG"):
        return
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")


@contextlib.contextmanager
def _c_stderr_silenced() -> Iterator[None]:
    """File descriptor 2 points at /dev/null meanwhile: Ray's C++ core prints a banner there while it starts.

    Python's own writes (qa's progress bar) lose at most a few redraws; QA_DEBUG=1 leaves stderr alone.
    """
    if os.environ.get("QA_DEBUG"):
        yield
        return
    try:
        import sys

        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def ray_available() -> None:
    """One line when ray is not installed (it comes with the `scale` extra)."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise QAError("--ray needs Ray: pip install 'qa[scale]' (or pip install 'ray[data]')")
