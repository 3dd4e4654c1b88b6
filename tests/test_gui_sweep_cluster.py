"""The Sweep tab on a Dask cluster: "Run on" a cluster address, the same progress and Cancel, and one message when the
cluster cannot be used. Against a local cluster started here (one worker process of one thread on 127.0.0.1)."""

import gc
import html
import logging

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine import TrainConfig, Trainer
from engine.cluster import INSTALL_HINT, ClusterError
from engine.sweep import run_sweep
from gui import sweep_thread
from gui.sweep_view import RUN_HERE, RUN_ON_CLUSTER, SweepView
from tests.gui_helpers import TIMEOUT_MS

distributed = pytest.importorskip("distributed")

FIELDS = ("seed", "learning_rate", "hidden", "optimizer", "solved", "epochs_to_solve", "final_loss", "final_predictions",
          "outcome", "final_train_accuracy", "final_test_accuracy")  # fmt: skip
ERROR_MS = 10_000  # an unusable address is reported within this (the bar)


@pytest.fixture(scope="module")
def cluster():
    """A local cluster and a client of it (Dask's threads that live as long as the process start here, before the
    tests' leftover-thread check looks)."""
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        ) as local,
        distributed.Client(local, set_as_default=False) as client,
    ):
        client.submit(len, [1]).result()
        yield local, client


@pytest.fixture
def view(qtbot):
    # Free earlier tests' Qt objects here, on the GUI thread: a garbage collection that Dask's IO-loop thread runs
    # would destroy them on that thread, which deadlocks against the GUI thread's next QObject::connect.
    gc.collect()
    view = SweepView(TrainConfig())
    qtbot.addWidget(view)
    view.show()
    yield view
    view.shutdown()


def on_cluster(view: SweepView, address: str, seeds: int = 24, epochs: int = 300) -> None:
    view.seeds_spin.setValue(seeds)
    view.lr_edit.setText("0.5, 2")
    view.hidden_edit.setText("2, 3")
    view.epochs_spin.setValue(epochs)
    view.run_on_combo.setCurrentText(RUN_ON_CLUSTER)
    view.cluster_address_edit.setText(address)


def scheduler_tasks(client) -> int:
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def test_the_sweep_tab_runs_on_a_cluster_bit_identical_to_this_computer_and_remembers_the_address(qtbot, cluster, view):
    local, _client = cluster
    assert view.run_on_combo.currentText() == RUN_HERE and not view.cluster_address_edit.isVisible()
    on_cluster(view, local.scheduler_address)
    assert view.cluster_address_edit.isVisible() and view.cluster_address_edit.placeholderText() == "tcp://host:8786"
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert not view.run_button.isEnabled() and view.cancel_button.isEnabled()
    assert local.scheduler_address in view.message.text()
    qtbot.waitUntil(lambda: view.result is not None, timeout=TIMEOUT_MS)
    result, here = view.result, run_sweep(view.spec())
    assert result.complete and len(result) == len(here) == 96 and view.progress.value() == 96
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(result, name), getattr(here, name), err_msg=name)
    assert view.run_button.isEnabled() and not view.cancel_button.isEnabled()
    assert f"96 runs in {result.seconds:.1f} s on {local.scheduler_address};" in view.message.text()
    # the address is remembered for the next session's tab
    again = SweepView(TrainConfig())
    qtbot.addWidget(again)
    assert again.cluster_address_edit.text() == local.scheduler_address
    again.shutdown()


def test_cancel_cancels_the_cluster_s_outstanding_tasks_and_keeps_the_finished_runs(qtbot, cluster, view):
    local, client = cluster
    on_cluster(view, local.scheduler_address, seeds=64, epochs=400_000)  # 256 runs: 4 tasks of 64 runs, about 1 s each
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=TIMEOUT_MS)
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.result is not None, timeout=TIMEOUT_MS)
    result = view.result
    assert not result.complete and 0 < len(result) < 256 and "cancelled" in view.message.text()
    qtbot.waitUntil(lambda: scheduler_tasks(client) == 0, timeout=TIMEOUT_MS)  # nothing left queued on the cluster
    runs = set(zip(result.seed, result.learning_rate, result.hidden, strict=True))
    assert len(runs) == len(result)  # no run twice
    chunk = Trainer(result.config_of(0)).run(400_000)  # a kept run is that run's training
    assert chunk.loss[-1] == result.final_loss[0]


def test_closing_the_tab_mid_sweep_stops_it_and_leaves_nothing_on_the_cluster(qtbot, cluster, view):
    local, client = cluster
    on_cluster(view, local.scheduler_address, seeds=64, epochs=400_000)
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=TIMEOUT_MS)
    view.shutdown()  # as the window does when it closes
    assert not view.thread.isRunning() and view.result is None
    qtbot.waitUntil(lambda: scheduler_tasks(client) == 0, timeout=TIMEOUT_MS)


@pytest.mark.parametrize(
    ("address", "says"),
    [
        (
            "tcp://127.0.0.1:1",
            "Scheduler: cannot reach the Dask scheduler at tcp://127.0.0.1:1",
        ),  # nothing listens: refused at once
        ("http://127.0.0.1:8786", "is not a Dask scheduler address"),
        ("tcp://127.0.0.1:99999", "is not a Dask scheduler address"),
        ("tcp://:8786", "is not a Dask scheduler address"),
    ],
)
def test_an_address_the_cluster_cannot_be_reached_at_is_one_message_and_run_works_again(qtbot, view, address, says):
    on_cluster(view, address, seeds=4, epochs=10)
    with qtbot.waitSignal(view.thread.failed, timeout=ERROR_MS):
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
        assert not view.run_button.isEnabled()  # the address is checked and reached on the sweep's thread, not here
    text = html.unescape(view.message.text())
    assert says in text and text.count("\n") == 0 and "Traceback" not in text, text
    assert view.run_button.isEnabled() and not view.cancel_button.isEnabled() and view.result is None
    view.run_on_combo.setCurrentText(RUN_HERE)  # the same tab then sweeps on this computer
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.result is not None, timeout=TIMEOUT_MS)
    assert view.result.complete and len(view.result) == 16


def test_an_empty_address_is_refused_at_once(qtbot, view):
    on_cluster(view, "  ")
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert "Scheduler: give the Dask scheduler's address" in html.unescape(view.message.text())
    assert view.run_button.isEnabled() and not view.thread.isRunning()


@pytest.mark.parametrize(
    ("failure", "says"),
    [
        (ClusterError(INSTALL_HINT), f"Scheduler: {INSTALL_HINT}"),
        (ModuleNotFoundError("No module named 'engine'"), "the sweep failed on the cluster: ModuleNotFoundError: No module"),
    ],
)
def test_any_failure_of_a_sweep_on_a_cluster_is_one_message(qtbot, view, monkeypatch, failure, says):
    """Dask missing here, or a worker without this project installed (its task's error comes back to the client)."""

    def fail(*_args, **_kwargs):
        raise failure

    monkeypatch.setattr(sweep_thread, "run_sweep_distributed", fail)
    on_cluster(view, "tcp://127.0.0.1:8786", seeds=4, epochs=10)
    with qtbot.waitSignal(view.thread.failed, timeout=ERROR_MS):
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert says in html.unescape(view.message.text()) and view.run_button.isEnabled() and view.result is None
