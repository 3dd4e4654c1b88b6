"""Sweeps on a Dask cluster (engine/cluster.py, `sweep --cluster/--workers`), against a local cluster started here:
2 worker processes of 1 thread on 127.0.0.1."""

import logging
import os
import signal
import socket
import sys
import time

import numpy as np
import pytest

import main
from engine import TrainConfig
from engine.cluster import INSTALL_HINT, ClusterError, check_address, cluster_blocks, reach, run_sweep_distributed
from engine.datasets import DataSpec, make_dataset
from engine.sweep import SweepSpec, run_sweep
from engine.sweep_stream import SweepFile

distributed = pytest.importorskip("distributed")

FIELDS = ("seed", "learning_rate", "hidden", "optimizer", "solved", "epochs_to_solve", "final_loss", "final_predictions",
          "outcome", "final_train_accuracy", "final_test_accuracy")  # fmt: skip
CLI = ["sweep", "--seeds", "60", "--learning-rate", "0.5,2", "--optimizer", "sgd,adam", "--epochs", "300"]


def local_cluster():
    return distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    )


@pytest.fixture(scope="module")
def cluster():
    """A local cluster and a client of it (the client's threads, and Dask's one offload thread, start here)."""
    with local_cluster() as local, distributed.Client(local, set_as_default=False) as client:
        client.submit(len, [1]).result()
        yield local, client


def assert_same_runs(a, b):
    assert len(a) == len(b) and a.complete and b.complete
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_runs_on_a_cluster_are_bit_identical_to_the_local_sweep(cluster):
    local, _client = cluster
    moons = make_dataset(DataSpec("moons", points=40, data_seed=3))
    for spec in (
        SweepSpec(TrainConfig(), tuple(range(5, 75)), (0.5, 2.0), (2, 3), ("sgd", "adam"), epochs=300),
        SweepSpec(
            TrainConfig(activation="tanh", mode="minibatch", batch_size=8),
            tuple(range(30)),
            (0.1,),
            (4,),
            ("momentum",),
            epochs=100,
            data=moons,
            target_accuracy=0.8,
        ),
    ):
        seen: list[tuple[int, int]] = []
        result = run_sweep_distributed(
            spec, local.scheduler_address, progress=lambda done, total, seen=seen: seen.append((done, total))
        )
        assert_same_runs(result, run_sweep(spec))
        assert seen[-1] == (spec.n_runs, spec.n_runs) and len(seen) == len(cluster_blocks(spec, 2))


def test_the_sweep_command_on_a_cluster_writes_the_local_sweep_s_file(cluster, tmp_path, capsys):
    local, _client = cluster
    here, there = tmp_path / "here.csv", tmp_path / "there.csv"
    assert main.main([*CLI, "--csv", str(here)]) == 0
    table = capsys.readouterr().out.split("\n", 1)[1]
    assert main.main([*CLI, "--csv", str(there), "--cluster", local.scheduler_address]) == 0
    assert capsys.readouterr().out.split("\n", 1)[1] == table
    assert there.read_text() == here.read_text()


def test_a_killed_worker_s_blocks_run_again_and_no_run_is_lost_or_doubled(tmp_path):
    """On a cluster of its own: the nanny's restart of the killed worker starts threads that live as long as the cluster."""
    spec = SweepSpec(TrainConfig(), tuple(range(160)), (0.5, 2.0), (2,), ("sgd",), epochs=4000)
    stream = SweepFile.open(tmp_path / "s.csv", spec)
    killed = []
    with local_cluster() as local, distributed.Client(local, set_as_default=False) as client:
        pids = client.run(os.getpid)

        def kill_a_busy_worker(block):
            stream.append(block)
            if not killed:
                busy = [worker for worker, tasks in client.processing().items() if tasks]
                assert busy  # blocks are in flight: the killed worker takes its tasks with it
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])

        result = run_sweep_distributed(spec, local.scheduler_address, on_block=kill_a_busy_worker)
    assert killed
    assert_same_runs(result, run_sweep(spec))
    keys = [tuple(line.split(",")[:4]) for line in (tmp_path / "s.csv").read_text().splitlines()[1:]]
    assert len(keys) == len(set(keys)) == spec.n_runs


def test_cancelling_a_cluster_sweep_keeps_the_finished_runs_and_drops_the_rest(cluster):
    local, client = cluster
    spec = SweepSpec(TrainConfig(), tuple(range(200)), (0.5, 2.0), (2,), ("sgd",), epochs=3000)
    blocks = []
    result = run_sweep_distributed(spec, local.scheduler_address, on_block=blocks.append, cancelled=lambda: len(blocks) >= 2)
    assert not result.complete and len(result) == sum(len(block) for block in blocks) < spec.n_runs
    assert len(blocks) >= 2
    whole = run_sweep(spec)
    rows = [
        int(np.flatnonzero((whole.seed == s) & (whole.learning_rate == lr))[0])
        for s, lr in zip(result.seed, result.learning_rate)
    ]
    np.testing.assert_array_equal(result.final_loss, whole.final_loss[rows])
    deadline = time.monotonic() + 10  # the scheduler forgets the cancelled tasks
    while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) > 0:
        assert time.monotonic() < deadline, "the sweep's tasks are still on the scheduler"


def test_ctrl_c_cancels_a_cluster_sweep_and_keeps_the_finished_rows(cluster, tmp_path, capsys, monkeypatch):
    local, _client = cluster

    class Bar:
        def __init__(self, total, unit):
            self.n = 0

        def update(self, k):
            self.n += k
            signal.raise_signal(signal.SIGINT)  # pressed as the first block finished

        def close(self):
            pass

    monkeypatch.setattr(main, "progress_bar", Bar)
    path = tmp_path / "s.csv"
    assert main.main([*CLI, "--epochs", "3000", "--csv", str(path), "--cluster", local.scheduler_address]) == 130
    out, err = capsys.readouterr()
    assert err.startswith("interrupted after ") and err.endswith(f" of 240 runs; saving them to {path}\n")
    assert ", interrupted (seeds 0..59;" in out
    done = int(err.split()[2])
    rows = path.read_text().splitlines()[1:]
    settings = [("0.5", "sgd"), ("0.5", "adam"), ("2.0", "sgd"), ("2.0", "adam")]
    keys = [(settings.index((row.split(",")[1], row.split(",")[3])), int(row.split(",")[0])) for row in rows]
    assert len(rows) == done < 240 and keys == sorted(keys)  # in the sweep's order
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_resume_on_a_local_cluster_of_its_own(tmp_path, capsys, monkeypatch):
    """An in-process sweep interrupted, resumed by --workers 2 (a cluster started and closed for it): the file of the
    sweep run at once."""
    whole, part = tmp_path / "whole.csv", tmp_path / "part.csv"
    assert main.main([*CLI, "--csv", str(whole)]) == 0
    assert main.main([*CLI, "--seeds", "25", "--csv", str(part)]) == 0  # the first 25 seeds of each setting
    assert main.main([*CLI, "--csv", str(part), "--resume", "--workers", "2"]) == 0
    assert part.read_text() == whole.read_text()
    assert "240 runs (100 of them from" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("address", "needle"),
    [
        ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1: nothing listens there (connection refused)"),
        ("127.0.0.1:1", "at tcp://127.0.0.1:1: nothing listens there"),
        ("tcp://no-such-host.invalid:8786", "the host 'no-such-host.invalid' is unknown"),
        ("http://example.org:80", "'http://example.org:80' is not a Dask scheduler address (the scheme 'http' is not one of"),
        ("tcp://127.0.0.1", "'tcp://127.0.0.1' is not a Dask scheduler address (missing port number"),
        ("tcp://127.0.0.1:99999", "a port outside 1-65535"),
        ("", "'' is not a Dask scheduler address"),
    ],
)
def test_a_bad_or_unreachable_scheduler_is_one_line_within_seconds_and_keeps_the_csv(tmp_path, capsys, address, needle):
    path = tmp_path / "s.csv"
    path.write_text("an earlier sweep's rows\n")
    start = time.monotonic()
    assert main.main(["sweep", "--seeds", "3", "--csv", str(path), "--cluster", address]) == 2
    assert time.monotonic() - start < 10
    err = capsys.readouterr().err
    assert err.startswith("error: --cluster: ") and needle in err and err.count("\n") == 1
    assert path.read_text() == "an earlier sweep's rows\n"


def test_a_port_that_answers_but_not_as_a_scheduler():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = check_address(f"tcp://127.0.0.1:{server.getsockname()[1]}")
        with pytest.raises(ClusterError, match=r"answers, but not as a Dask scheduler"):
            reach(address, timeout=0.5)


def test_without_dask_the_cluster_options_say_how_to_install_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ClusterError, match=INSTALL_HINT.replace(".", r"\.").replace("[", r"\[")):
        run_sweep_distributed(SweepSpec(TrainConfig(), (1,), (0.1,), (2,), ("sgd",), epochs=1), n_workers=1)
    assert main.main(["sweep", "--seeds", "3", "--workers", "2"]) == 2
    assert capsys.readouterr().err == f"error: --workers: {INSTALL_HINT}\n"


def test_blocks_spread_over_the_workers():
    spec = SweepSpec(TrainConfig(), tuple(range(200)), (0.1,), (8,), ("sgd",), epochs=1)
    assert [len(seeds) for _index, seeds in cluster_blocks(spec, 2)] == [16] * 11 + [8] * 3  # 2 x 7 tasks
    spec = SweepSpec(TrainConfig(), tuple(range(1000)), (0.1,), (2,), ("sgd",), epochs=1)
    sizes = [len(seeds) for _index, seeds in cluster_blocks(spec, 2)]
    assert sum(sizes) == 1000 and max(sizes) <= 64 and len(sizes) >= 8
    skip = frozenset((0, seed) for seed in range(990))
    assert cluster_blocks(spec, 2, skip) == [(0, tuple(range(990, 998))), (0, (998, 999))]


def test_a_scheduler_without_workers_is_one_clear_error(monkeypatch):
    monkeypatch.setattr("engine.cluster.CONNECT_TIMEOUT_S", 0.5)
    spec = SweepSpec(TrainConfig(), (1, 2), (0.1,), (2,), ("sgd",), epochs=10)
    with (
        distributed.LocalCluster(
            n_workers=0, host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR
        ) as alone,
        pytest.raises(
            ClusterError, match=r"the Dask scheduler at tcp://127\.0\.0\.1:\d+ has no workers: start one with 'dask worker"
        ),
    ):
        run_sweep_distributed(spec, alone.scheduler_address)
