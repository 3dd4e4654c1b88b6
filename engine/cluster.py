"""Sweeps on a Dask cluster (`dask.distributed`): each block of runs is one task, `run_block` in a worker process.

A run's numbers do not depend on its block or on where it ran, so a distributed sweep's rows are bit-identical to the
in-process sweep's. The client keeps a block's rows only once its task has finished: a task whose worker dies is run
again elsewhere by Dask, and its rows arrive once. Dask is an optional dependency (``pip install -e .[cluster]``): it is
imported inside the functions here, so the engine imports without it.

Each worker process trains one block at a time (a lock), on its share of its machine's cores (the cores divided by the
worker processes on that machine: Numba's threads), so any worker layout uses each core once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

from .parallel import PARALLEL_LOCK
from .sweep import BATCH_RUNS, SweepBlock, SweepResult, SweepSpec, collect, run_block, sweep_blocks

CONNECT_TIMEOUT_S = 4.0  # each of: reaching the address, the scheduler's answer (an unreachable one: an error in < 10 s)
POLL_S = 0.2  # how often the client looks at cancelled() while it waits for tasks (the delay of Ctrl+C and Cancel)
BLOCKS_PER_WORKER = 8  # at least this many tasks per worker process, so that uneven loads even out
BLOCK_UNIT = 8  # task sizes are multiples of this many runs (the lockstep kernel's groups), but the last of a setting
SCHEMES = ("tcp", "tls", "ws", "wss")
INSTALL_HINT = "Dask is not installed: pip install -e .[cluster]"


class ClusterError(ValueError):
    """The cluster cannot run the sweep: a bad or unreachable address, Dask missing, a block that kept killing its
    workers. The message is one sentence for the user."""


def require_dask():
    try:
        import distributed
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    return distributed


def check_address(address: str) -> str:
    """The scheduler address in full ('HOST:8786' -> 'tcp://HOST:8786'); `ClusterError` for one that is not an address."""
    require_dask()
    from distributed.comm import parse_address, parse_host_port

    hint = "a Dask scheduler's address looks like tcp://HOST:8786"
    try:
        scheme, location = parse_address(address.strip())
        if scheme not in SCHEMES:
            raise ValueError(f"the scheme {scheme!r} is not one of {', '.join(SCHEMES)}")
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as err:
        raise ClusterError(f"{address!r} is not a Dask scheduler address ({err}); {hint}") from None
    if not host or not 0 < int(port) < 65536:
        raise ClusterError(f"{address!r} is not a Dask scheduler address (no host, or a port outside 1-65535); {hint}")
    return f"{scheme}://{location}"


def reach(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Check, within about 2 x `timeout` seconds, that a Dask scheduler answers at `address` (a `check_address` result);
    `ClusterError` saying why not. Leaves no thread behind (a failed `distributed.Client` would)."""
    from distributed.comm import parse_address, parse_host_port

    host, port = parse_host_port(parse_address(address)[1])
    where = f"the Dask scheduler at {address}"
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except socket.gaierror:
        raise ClusterError(f"cannot reach {where}: the host {host!r} is unknown") from None
    except ConnectionRefusedError:
        raise ClusterError(f"cannot reach {where}: nothing listens there (connection refused)") from None
    except TimeoutError:
        raise ClusterError(f"cannot reach {where}: no answer within {timeout:g} s") from None
    except OSError as err:
        raise ClusterError(f"cannot reach {where}: {err.strerror or err}") from None
    try:
        answer = asyncio.run(_identity(address, timeout))
    except Exception:  # anything a server that is not a scheduler answers (or not)
        answer = None
    if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
        raise ClusterError(f"{address} answers, but not as a Dask scheduler (is it the scheduler's port, 8786 by default?)")


async def _identity(address: str, timeout: float) -> dict:
    from distributed.core import rpc
    from distributed.security import Security

    async with rpc(address, timeout=timeout, connection_args=Security().get_connection_args("client")) as scheduler:
        return await asyncio.wait_for(scheduler.identity(), timeout)


@contextlib.contextmanager
def connect(address: str | None = None, n_workers: int | None = None) -> Iterator:
    """A `distributed.Client` of the scheduler at `address`, or of a local cluster of `n_workers` processes (one
    thread each) started here; closed (and the local cluster with it) on leaving."""
    distributed = require_dask()
    cluster = None
    if address is None:
        with _sigint_ignored():  # inherited by the worker processes: Ctrl+C in a terminal stops the sweep, not them
            cluster = distributed.LocalCluster(
                n_workers=n_workers or 1,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # any free port: the default 8787 may be taken (a warning)
                silence_logs=logging.ERROR,
            )
        address = cluster.scheduler_address
    else:
        address = check_address(address)
        reach(address)
    try:
        try:
            client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, ValueError) as err:
            raise ClusterError(f"cannot connect to the Dask scheduler at {address}: {err}") from None
        try:
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored meanwhile (in the main thread only: elsewhere signals are not ours to set). Processes started
    meanwhile inherit it: a terminal's Ctrl+C, sent to every process of the foreground group, then reaches only this
    one, which cancels the tasks and closes the cluster in order."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def cluster_blocks(
    spec: SweepSpec, workers: int, skip: frozenset[tuple[int, int]] = frozenset()
) -> list[tuple[int, tuple[int, ...]]]:
    """The tasks of a sweep on `workers` worker processes: (config index, seeds) blocks of at most BATCH_RUNS runs,
    at least BLOCKS_PER_WORKER per worker where the runs allow, in multiples of BLOCK_UNIT runs, each setting's runs in
    a multiple of `workers` near-equal blocks, the larger first (so that the workers finish together)."""
    per_config = sweep_blocks(spec, block_runs=len(spec.seeds), skip=skip)  # one block per setting: its runs to do
    remaining = sum(len(seeds) for _index, seeds in per_config)
    workers = max(1, workers)
    size = math.ceil(remaining / (BLOCKS_PER_WORKER * workers) / BLOCK_UNIT) * BLOCK_UNIT
    size = max(BLOCK_UNIT, min(BATCH_RUNS, size))
    out = []
    for index, seeds in per_config:
        units = math.ceil(len(seeds) / BLOCK_UNIT)
        pieces = min(units, math.ceil(len(seeds) / size / workers) * workers)  # a multiple of the workers: even loads
        lo = 0
        for piece in range(pieces):  # near-equal pieces of whole units
            n_units = units // pieces + (piece < units % pieces)
            out.append((index, seeds[lo : lo + n_units * BLOCK_UNIT]))
            lo += n_units * BLOCK_UNIT
    return sorted(out, key=lambda block: -len(block[1]))


def run_sweep_distributed(
    spec: SweepSpec,
    address: str | None = None,
    n_workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    on_block: Callable[[SweepBlock], None] | None = None,
    skip: frozenset[tuple[int, int]] = frozenset(),
) -> SweepResult:
    """`sweep.run_sweep` on a Dask cluster: the scheduler at `address` (e.g. 'tcp://HOST:8786'), or a local cluster of
    `n_workers` processes started and closed here. Same arguments and result as `run_sweep`: on_block(block) and
    progress(done, total) are called here as blocks finish (in any order); when cancelled() turns true the outstanding
    tasks are cancelled and the finished runs returned (complete=False). Raises `ClusterError` (one sentence) when the
    cluster cannot be reached or used."""
    start = time.perf_counter()
    distributed = require_dask()
    with connect(address, n_workers) as client:
        nthreads = client.nthreads()
        if not nthreads:  # a scheduler on its own: wait a little for a worker (an adaptive cluster starts one)
            try:
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
            except TimeoutError:
                raise ClusterError(f"the Dask scheduler at {client.scheduler.address} has no workers: start one with "
                                   f"'dask worker {client.scheduler.address}'") from None  # fmt: skip
            nthreads = client.nthreads()
        hosts = Counter(_host(worker) for worker in nthreads)
        blocks = cluster_blocks(spec, len(nthreads), skip)
        total = spec.n_runs
        done = total - sum(len(seeds) for _index, seeds in blocks)
        spec_future = client.submit(_same, spec, pure=False)  # one copy, sent once; Dask recomputes it if its worker dies
        pending = {client.submit(_run_block_task, spec_future, index, seeds, dict(hosts), pure=False) for index, seeds in blocks}
        results: list[SweepBlock] = []
        try:
            while pending and not (cancelled is not None and cancelled()):
                try:
                    with client.as_current():  # the client distributed.wait uses
                        finished = distributed.wait(pending, timeout=POLL_S, return_when="FIRST_COMPLETED").done
                except TimeoutError:
                    continue
                for future in finished:
                    pending.discard(future)
                    block = _result(distributed, future)
                    results.append(block)
                    done += len(block)
                    if on_block is not None:
                        on_block(block)
                    if progress is not None:
                        progress(done, total)
        finally:
            if pending:
                client.cancel(list(pending))
    return collect(spec, results, time.perf_counter() - start, complete=done == total)


def _result(distributed, future) -> SweepBlock:
    try:
        return future.result()
    except distributed.KilledWorker as err:
        raise ClusterError(f"a block of runs ended every worker that took it ({err}); the sweep stops") from None
    except distributed.client.FutureCancelledError:
        raise ClusterError("the cluster dropped the sweep's tasks (did its scheduler restart?)") from None


def _host(worker_address: str) -> str:
    from distributed.comm import get_address_host

    return get_address_host(worker_address)


def _same(value):
    return value


def _run_block_task(spec: SweepSpec, config_index: int, seeds: tuple[int, ...], processes_on_host: dict[str, int]) -> SweepBlock:
    """One task, in a worker process: the block on this process's share of its machine's cores."""
    import numba
    from distributed import get_worker

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    share = max(1, cores // processes_on_host.get(_host(get_worker().address), 1))
    with PARALLEL_LOCK:  # one block at a time per worker process (a worker may have several threads)
        numba.set_num_threads(min(share, numba.config.NUMBA_NUM_THREADS))
        return run_block(spec, config_index, seeds)
