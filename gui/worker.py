"""The training thread: owns the `Trainer` (in a `TrainingSession`), takes requests under a mutex, sends back snapshots.

Modelled on Qt's Mandelbrot threading example: the window writes requests (play, pause, step, reset,
settings) into fields guarded by a `QMutex` and wakes the thread with a `QWaitCondition`; the thread
takes the latest requests, trains in chunks (``nogil`` kernels, so the window stays responsive) and
emits immutable `Snapshot`s at most `MAX_SNAPSHOTS_PER_SECOND` times a second. Every epoch's loss and
predictions travel in some snapshot; none is dropped. An idle thread sleeps on the wait condition.
What the thread does with each request is gui/session.py's; the messages are gui/snapshot.py's.
"""

from __future__ import annotations

import math
import time
from typing import ClassVar

from PySide6.QtCore import QMutexLocker, Signal

from engine import TrainConfig, Trainer, warm_up
from engine.datasets import Dataset
from engine.history import History

from .session import (
    MAX_PENDING_EPOCHS,
    MAX_SNAPSHOTS_PER_SECOND,
    TrainingRequests,
    TrainingSession,
    announce_build,
)
from .snapshot import PAUSED, RUNNING, StopRules
from .threads import RequestThread
from .time_travel import copy_tree

MAX_IN_FLIGHT = 2  # snapshots sent but not yet taken in by the window: beyond this, epochs wait for the next one


class TrainingThread(RequestThread[TrainingRequests]):
    """Runs training off the GUI thread. The control methods may be called from any thread."""

    snapshot = Signal(object)  # Snapshot
    state_ready = Signal(object)  # TrainerState, after a snapshot with every epoch it includes
    tree_ready = Signal(object)  # RunTree (a copy the window owns) or None, just before each `state_ready`
    progress = Signal(str)  # what a long piece of work is doing ("" when it is done), for the status bar
    ONE_SHOT: ClassVar[dict] = {"play_pressed": False, "reset": False, "rules_changed": False, "report": False, "steps": 0,
                                "config": None, "want_state": False, "load": None, "sample_steps": 0,
                                "pause_pressed": False, "reset_message": "", "data": None, "scrub": None,
                                "continue_from": None, "branch": None, "select_run": None, "history": None}  # fmt: skip

    def __init__(self, config: TrainConfig, parent=None, data: Dataset | None = None) -> None:
        super().__init__(TrainingRequests(config=config), parent)
        self.start_data = data  # what training starts on (None: XOR); `set_data` changes it later
        self.final_trainer: Trainer | None = None  # the trainer as the thread left it (read after it ended)
        self.final_tree = None  # and its tree of runs (engine.timeline.RunTree or None)
        self.final_generation = -1  # and which of the window's histories was the current run's (TreeSummary.generation)
        self._in_flight = 0  # guarded by _mutex

    @property
    def in_flight(self) -> int:
        """Snapshots sent that the window has not taken in yet (`snapshot_taken`)."""
        with QMutexLocker(self._mutex):
            return self._in_flight

    def snapshot_taken(self) -> None:
        """The window took in a snapshot (back-pressure: a window that falls behind gets fewer, larger ones)."""
        with QMutexLocker(self._mutex):
            self._in_flight = max(0, self._in_flight - 1)
            self._wake.wakeAll()  # a thread waiting for the window to catch up

    def take_first_config(self) -> TrainConfig | None:
        """The config the thread starts with (taken once, at the start of `run`)."""
        with QMutexLocker(self._mutex):
            config, self._req.config = self._req.config, None
            return config

    def wait_for_window(self, emit_at: float, timeout_ms: int = 100) -> None:
        """Wait (at most `timeout_ms`) until another snapshot may go: fewer than MAX_IN_FLIGHT in flight and
        `emit_at` (a perf_counter time: the rate limit's next slot) reached. A request cuts the wait short."""
        with QMutexLocker(self._mutex):
            if self._interrupting():
                return
            if self._in_flight < MAX_IN_FLIGHT:
                timeout_ms = min(timeout_ms, math.ceil((emit_at - time.perf_counter()) * 1000))
            if timeout_ms > 0:
                self._wake.wait(self._mutex, timeout_ms)

    def _sleep_until(self, due: float) -> None:
        """Wait until `due` (a perf_counter time) unless a request that needs attention arrives first; the window
        taking a snapshot in (which also wakes this thread) does not cut the wait short."""
        with QMutexLocker(self._mutex):
            while not self._req.urgent():
                wait_ms = math.ceil((due - time.perf_counter()) * 1000)
                if wait_ms <= 0:
                    return
                self._wake.wait(self._mutex, wait_ms)

    def interrupted(self) -> bool:
        """A request arrived that long work (a big network's map) should make way for."""
        with QMutexLocker(self._mutex):
            return self._interrupting()

    def _interrupting(self) -> bool:  # under _mutex
        req = self._req
        return req.busy_besides_running() or req.play_pressed or req.pause_pressed

    def quiet_for(self, seconds: float) -> bool:
        """Wait up to `seconds` for a request that needs attention (a drag's next scrub...): True if none came."""
        with QMutexLocker(self._mutex):
            due = time.perf_counter() + seconds
            while not self._interrupting():
                wait_ms = math.ceil((due - time.perf_counter()) * 1000)
                if wait_ms <= 0:
                    return True
                self._wake.wait(self._mutex, wait_ms)
            return False

    def may_send(self, force: bool) -> bool:
        """Whether a snapshot may go now, counting it as in flight: `force`, or fewer than MAX_IN_FLIGHT in flight."""
        with QMutexLocker(self._mutex):
            if not force and self._in_flight >= MAX_IN_FLIGHT:
                return False
            self._in_flight += 1
            return True

    def request_state(self) -> None:
        """Ask for the trainer's state; `state_ready` follows the snapshot that brings the window up to date."""
        self._request(want_state=True)

    def load(self, state, config: TrainConfig, last_loss: float, data: Dataset | None = None, tree=None) -> None:
        """Pause, then continue from a saved experiment's `state` on its `data` (None: XOR); the window restores
        its history itself. tree: the experiment's `RunTree` (its current run at `state`; the thread owns it from
        now on), None: a new one from epoch 0 (`state` at epoch 0)."""
        self._request(load=(state, config, last_loss, data, tree), running=False, steps=0, reset=False, config=None,
                      data=None, inspect_index=None, scrub=None, continue_from=None, branch=None, select_run=None,
                      history=None)  # fmt: skip

    # --- time travel (gui/session.py does them, in this order when they come together) -------------------------
    # The current run's history lives in the window only (a second copy here would slow training): the requests that
    # cut, branch or leave the current run bring a copy of it (`history`, which the thread owns from then on).
    def scrub(self, epoch: int) -> None:
        """Pause and show the current run's exact state at `epoch` (the latest epoch: the run as it is); the newest
        scrub replaces one not taken yet (a drag sends many)."""
        self._request(scrub=int(epoch), running=False, steps=0, pause_pressed=True, report=True)

    def continue_from(self, epoch: int, history: History) -> None:
        """Drop the current run's epochs after `epoch`; training goes on from there (send Play or Step after it)."""
        self._request(continue_from=int(epoch), history=history, running=False, steps=0, report=True)

    def branch(self, epoch: int, history: History, config: TrainConfig | None = None) -> None:
        """A new run of the tree from the current run's `epoch`, with `config`'s training settings (None: those in
        force there); it becomes the current run."""
        self._request(branch=(int(epoch), config), history=history, running=False, steps=0, report=True)

    def select_run(self, run_id: int, history: History) -> None:
        """Make run `run_id` of the tree the current one: shown at its latest epoch, trained by Play."""
        self._request(select_run=int(run_id), history=history, running=False, steps=0, report=True)

    def play(self) -> None:
        with QMutexLocker(self._mutex):
            self._req.running = self._req.play_pressed = True
            self._req.steps = 0  # the latest of Play and Step wins
            self._req.play_generation += 1
            self._wake.wakeAll()

    def stop_running(self, generation: int) -> None:
        """The worker stops itself (restart, stop rule, divergence) unless Play was pressed again since."""
        with QMutexLocker(self._mutex):
            if self._req.play_generation == generation:
                self._req.running = False

    def pause(self) -> None:
        """Pause a run or a Step N in progress."""
        self._request(running=False, report=True, pause_pressed=True, steps=0)

    def step(self, n_epochs: int = 1) -> None:
        """Pause, then train exactly `n_epochs` more epochs, in chunks as Play does (`pause` stops it early)."""
        if n_epochs <= 0:
            return
        with QMutexLocker(self._mutex):
            self._req.running = self._req.play_pressed = False
            self._req.pause_pressed = False
            self._req.steps += int(n_epochs)
            self._wake.wakeAll()

    def reset(self, message: str | None = None) -> None:
        """Back to epoch 0 with the same initial weights; the reset snapshot says `message` (None: "Reset to epoch 0")."""
        self._request(reset=True, reset_message=message or "", running=False, steps=0, sample_steps=0)

    def step_samples(self, n_samples: int = 1) -> None:
        """Pause, then train `n_samples` single samples (sgd mode)."""
        with QMutexLocker(self._mutex):
            self._req.running = False
            self._req.sample_steps += int(n_samples)
            self._wake.wakeAll()

    def set_inspect_index(self, index: int | None) -> None:
        """Which training input the inspector follows (None: the next one to be visited)."""
        self._request(inspect_index=index, report=True)

    def set_data(self, data: Dataset) -> None:
        """Train on `data` from now on: training restarts (paused, at epoch 0, from the same initial weights) and
        the restart's snapshot carries `data`. The inspector goes back to following the next sample."""
        self._request(data=data, inspect_index=None, report=True)

    def replay(self, config: TrainConfig, message: str, data: Dataset | None = None) -> None:
        """Back to epoch 0 with `config` (and on `data`, when given) in ONE request, so that one restart's snapshot
        says `message` (a sweep's run loaded: no "New data" or "Network rebuilt" snapshot comes after it)."""
        fields = {"config": config, "reset": True, "reset_message": message, "running": False, "steps": 0, "sample_steps": 0}
        if data is not None:
            fields.update(data=data, inspect_index=None)
        self._request(**fields)

    def set_config(self, config: TrainConfig) -> None:
        """From the next chunk: learning rate and optimisation settings live, a new structure restarts."""
        self._request(config=config, report=True)

    def run_settings(self) -> tuple[float | None, StopRules]:
        """The speed (epochs per second, None: full speed) and stop rules training follows, as last set."""
        with QMutexLocker(self._mutex):
            return self._req.speed, self._req.rules

    def set_speed(self, epochs_per_second: float | None) -> None:
        self._request(speed=epochs_per_second)

    def set_stop_rules(self, rules: StopRules) -> None:
        self._request(rules=rules, rules_changed=True)

    # --- the thread ------------------------------------------------------------------------------
    def run(self) -> None:
        warm_up()
        config = self.take_first_config()
        announce_build(self, config)
        session = TrainingSession(self, config, self.start_data)
        try:
            self._serve(session)
        finally:
            self.final_trainer, self.final_tree = session.trainer, session.tree
            self.final_generation = session.history_generation

    def _serve(self, session: TrainingSession) -> None:
        """Take requests and train until aborted: one chunk (or sample step) per turn, a snapshot after each."""
        session.emit(force=True)
        while True:
            req = self._take(block=session.state != RUNNING and session.step_target is None)
            if req.abort:
                return
            session.generation = req.play_generation
            session.apply(req)
            session.inspect_index = req.inspect_index
            if req.sample_steps:
                session.step_target = None
                session.step_samples(req.sample_steps)
            elif (session.step_target is not None or req.running) and session.pending_epochs >= MAX_PENDING_EPOCHS:
                # the window is behind: train no further until it takes a snapshot and the next one may go
                self.wait_for_window(session.last_emit + 1.0 / MAX_SNAPSHOTS_PER_SECOND)
            elif session.step_target is not None:
                session.say_running(session.step_target - session.trainer.epoch)
                session.run_steps()
            elif req.running:
                session.say_running(None)
                session.run_chunk(req.speed)
            elif session.state == RUNNING:  # paused
                session.state = PAUSED
            session.emit(force=session.state != RUNNING or req.report or req.want_state)
            if req.want_state:
                self.tree_ready.emit(copy_tree(session.tree) if session.tree is not None else None)
                self.state_ready.emit(session.trainer.state())
            if req.running and session.state == RUNNING and req.speed is not None and session.step_target is None:
                self._sleep_until(session.next_due)
