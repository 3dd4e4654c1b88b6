"""The training thread: owns the `Trainer`, takes requests under a mutex, sends back snapshots.

Modelled on Qt's Mandelbrot threading example: the window writes requests (play, pause, step, reset,
settings) into fields guarded by a `QMutex` and wakes the thread with a `QWaitCondition`; the thread
takes the latest requests, trains in chunks (``nogil`` kernels, so the window stays responsive) and
emits immutable `Snapshot`s at most `MAX_SNAPSHOTS_PER_SECOND` times a second. Every epoch's loss and
predictions travel in some snapshot; none is dropped. An idle thread sleeps on the wait condition.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from PySide6.QtCore import QMutexLocker, Signal

from engine import Params, TrainConfig, Trainer, decision_grid, warm_up
from engine.inspect import SampleTrace
from engine.network import Layout

from .inspector import place
from .style import sample_label
from .threads import RequestThread

MAX_SNAPSHOTS_PER_SECOND = 40
MAX_IN_FLIGHT = 2  # snapshots sent but not yet taken in by the window: beyond this, epochs wait for the next one
CHUNK_SECONDS = 0.025  # every chunk (Play at any speed, Step N) is sized to take about this long, and at least 1 epoch:
MAX_CHUNK_EPOCHS = 1_000_000  # requests (Pause...) are taken between chunks, so a big network answers as a small one
PROMPT_SECONDS = 0.2  # a Step N expected to take longer than this says "Running" before its first chunk
FOLLOW_SECONDS = 0.05  # when not running, an inspection that took longer than this follows in a snapshot of its own,
# so that the state (Paused...) shows at once: a big network's (7 million weights) takes about half a second
MAP_SECONDS = 0.1  # while running, the decision map is recomputed at most this often (the window draws it 10 times a second)
GRID_AXIS, GRID_POINTS = decision_grid()
HIDDEN_AXIS, HIDDEN_POINTS = decision_grid(41)  # hidden-unit maps: a coarser grid, one map per unit
MAX_HIDDEN_MAPS = 32
INSPECT_SECONDS = 0.2  # while running, the inspector, gradients and hidden-unit maps refresh at most this often
MAX_PENDING_EPOCHS = 1_000_000  # trained but not yet sent: beyond this, training waits for the window (bounded memory)
# A big network's views stay bounded: the decision map's grid is the finest (up to GRID_AXIS) whose map costs at most
# MAP_MACS multiply-adds (about 20 ms), never coarser than MIN_GRID; it is computed in pieces of PIECE_MACS, and a
# request (pause, reset, a new network, closing...) cuts it short. A map dearer than MAP_MACS does not hold up its
# snapshot: it follows in one of its own when paused, and with the next snapshot while running (so that never more
# than MAX_IN_FLIGHT are in flight). While running, a map or an inspection that took t seconds waits DUTY * t before
# the next, so that training keeps most of the time.
MAP_MACS = 20_000_000
PIECE_MACS = 2_000_000
MIN_GRID = 19
DUTY = 4
PROGRESS_SECONDS = 0.5  # a long map reports its progress this often (status bar)
BIG_NETWORK = 200_000  # parameters: building such a network is announced in the status bar

COMPILING, READY, RUNNING, PAUSED, DIVERGED, STOPPED = (
    "Compiling",
    "Ready",
    "Running",
    "Paused",
    "Diverged",
    "Stopped at target",  # the status bar says which rule: `Snapshot.state_text`
)


@dataclass(frozen=True)
class StopRules:
    """Pause when the epoch reaches `at_epoch`, or after the first epoch whose loss is below `below_loss`."""

    at_epoch: int | None = None
    below_loss: float | None = None


@dataclass(frozen=True)
class Snapshot:
    """One message from the training thread. Its arrays are copies that nothing else writes to.

    first_epoch: epoch number of rows[0]. rows: (k, 1 + n_samples), the loss and then the predictions of
    each epoch trained since the previous snapshot (k may be 0), as `History` stores them. epoch: epochs
    trained in all. restarted: the history starts again (reset, or a new network); initial_params is then set. params: the current
    ``[(W, b), ...]``. grid_output: (n, n) network output over the axis² of `decision_grid(n)` (`GRID_AXIS` unless
    the network is big), None when not recomputed.
    """

    state: str
    config: TrainConfig
    first_epoch: int
    rows: np.ndarray
    epoch: int
    updates: int
    params: Params
    restarted: bool = False
    grid_output: np.ndarray | None = None
    epochs_per_second: float = 0.0
    message: str = ""
    initial_params: Params = field(default_factory=list)
    keep_history: bool = False  # restarted from an opened experiment: the window already has its history
    reset: bool = False  # restarted by Reset (its message says why: "Reset to epoch 0", or what `reset` was given)
    trace: SampleTrace | None = None  # the inspector's sample (a step just made, or the followed input)
    gradient: Params | None = None  # what the gradient heatmaps show
    gradient_label: str = ""
    hidden_maps: np.ndarray | None = None  # (units, n, n) hidden activations over HIDDEN_AXIS²
    sample_position: int = 0  # samples of the current epoch done by sample steps
    outputs: np.ndarray | None = None  # (n_samples,) ŷ of each training input at `params` (rows hold ŷ before updates)
    state_text: str = ""  # what the status bar says for `state` when it says more ("Stopped: loss < 0.01")

    @property
    def loss(self) -> np.ndarray:
        """(k,) the loss of each new epoch."""
        return self.rows[:, 0]

    @property
    def predictions(self) -> np.ndarray:
        """(k, n_samples) each new epoch's predictions."""
        return self.rows[:, 1:]


@dataclass
class _Requests:
    """What the window asked for, as taken in one go under the mutex."""

    abort: bool = False
    running: bool = False
    play_pressed: bool = False
    steps: int = 0
    reset: bool = False
    reset_message: str = ""  # the reset snapshot's message ("": "Reset to epoch 0")
    config: TrainConfig | None = None
    speed: float | None = None  # epochs per second; None: full speed
    rules: StopRules = field(default_factory=StopRules)
    rules_changed: bool = False
    report: bool = False  # send a snapshot even if nothing trained (e.g. a paused settings change)
    play_generation: int = 0  # counts Play requests: the worker's own stops never undo a newer Play
    sample_steps: int = 0  # train this many single samples (sgd mode)
    inspect_index: int | None = None  # the training input the inspector follows (None: the next to be visited)
    want_state: bool = False  # send the trainer's state (after flushing every trained epoch)
    load: tuple | None = None  # (TrainerState, TrainConfig, last loss): continue from a saved experiment
    pause_pressed: bool = False  # Pause: also stops a Step N in progress

    def busy(self) -> bool:
        return self.running or self.busy_besides_running()

    def urgent(self) -> bool:
        """Something that should cut a slow-motion wait short: anything but "keep running"."""
        return not self.running or self.busy_besides_running()

    def busy_besides_running(self) -> bool:
        return (self.abort or bool(self.steps) or bool(self.sample_steps) or self.reset or self.config is not None
                or self.report or self.want_state or self.load is not None)  # fmt: skip


class TrainingThread(RequestThread):
    """Runs training off the GUI thread. The control methods may be called from any thread."""

    snapshot = Signal(object)  # Snapshot
    state_ready = Signal(object)  # TrainerState, after a snapshot with every epoch it includes
    progress = Signal(str)  # what a long piece of work is doing ("" when it is done), for the status bar
    ONE_SHOT: ClassVar[dict] = {"play_pressed": False, "reset": False, "rules_changed": False, "report": False, "steps": 0,
                                "config": None, "want_state": False, "load": None, "sample_steps": 0,
                                "pause_pressed": False, "reset_message": ""}  # fmt: skip

    def __init__(self, config: TrainConfig, parent=None) -> None:
        super().__init__(_Requests(config=config), parent)
        self.final_trainer: Trainer | None = None  # the trainer as the thread left it (read after it ended)
        self._in_flight = 0  # guarded by _mutex

    def snapshot_taken(self) -> None:
        """The window took in a snapshot (back-pressure: a window that falls behind gets fewer, larger ones)."""
        with QMutexLocker(self._mutex):
            self._in_flight = max(0, self._in_flight - 1)
            self._wake.wakeAll()  # a thread waiting for the window to catch up

    def _wait_for_window(self, emit_at: float, timeout_ms: int = 100) -> None:
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

    def _interrupted(self) -> bool:
        """A request arrived that long work (a big network's map) should make way for."""
        with QMutexLocker(self._mutex):
            return self._interrupting()

    def _interrupting(self) -> bool:  # under _mutex
        req = self._req
        return req.busy_besides_running() or req.play_pressed or req.pause_pressed

    def _may_send(self, force: bool) -> bool:
        with QMutexLocker(self._mutex):
            if not force and self._in_flight >= MAX_IN_FLIGHT:
                return False
            self._in_flight += 1
            return True

    def request_state(self) -> None:
        """Ask for the trainer's state; `state_ready` follows the snapshot that brings the window up to date."""
        self._request(want_state=True)

    def load(self, state, config: TrainConfig, last_loss: float) -> None:
        """Pause, then continue from a saved experiment's `state` (the window restores its history itself)."""
        self._request(load=(state, config, last_loss), running=False, steps=0, reset=False, config=None)

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

    def set_config(self, config: TrainConfig) -> None:
        """From the next chunk: learning rate and optimisation settings live, a new structure restarts."""
        self._request(config=config, report=True)

    def set_speed(self, epochs_per_second: float | None) -> None:
        self._request(speed=epochs_per_second)

    def set_stop_rules(self, rules: StopRules) -> None:
        self._request(rules=rules, rules_changed=True)

    # --- the thread ------------------------------------------------------------------------------
    def run(self) -> None:
        warm_up()
        with QMutexLocker(self._mutex):
            config, self._req.config = self._req.config, None
        _announce_build(self, config)
        session = _Session(self, config)
        try:
            session.loop()
        finally:
            self.final_trainer = session.trainer


class _Session:
    """The training thread's own state (only that thread touches it)."""

    def __init__(self, thread: TrainingThread, config: TrainConfig | None) -> None:
        self.thread = thread
        self.trainer = Trainer(config)
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []
        self.pending_first = 1
        self.restarted = True
        self.message = ""
        self.state = READY
        self.last_loss = math.nan
        self.keep_history = False
        self.was_reset = False  # the next snapshot is a Reset's
        self.pending_grid: np.ndarray | None = None  # a big network's map computed while running: goes with the next snapshot
        self.generation = 0
        self.inspect_index: int | None = None
        self.stepped_trace: SampleTrace | None = None  # set by a sample step, shown once
        self.rules = StopRules()
        self.active_rules = StopRules()
        self.seconds_per_epoch: float | None = None  # as the last chunk took; None: not yet measured for this network
        self.stop_text = ""  # the status bar's words for STOPPED: which rule fired
        self.next_due = 0.0
        self.last_emit = -math.inf
        self.rate_epochs = 0
        self.rate_since = time.perf_counter()
        self.epochs_per_second = 0.0
        self.pending_epochs = 0
        self.step_target: int | None = None  # a Step N in progress trains up to this epoch
        self.step_from = 0
        self.restarts = 0  # counts restarts: with the epoch and updates, says when the weights changed
        self.map_key: tuple | None = None  # the weights the window's decision map was computed from
        self.map_due = 0.0  # while running, the next map is not computed before this
        self.inspect_due = 0.0
        self.inspect_seconds = 0.0  # the last inspection took this long

    def loop(self) -> None:
        thread = self.thread
        self.emit(force=True)
        while True:
            req = thread._take(block=self.state != RUNNING and self.step_target is None)
            if req.abort:
                return
            self.generation = req.play_generation
            self.apply(req)
            self.inspect_index = req.inspect_index
            if req.sample_steps:
                self.step_target = None
                self.step_samples(req.sample_steps)
            elif (self.step_target is not None or req.running) and self.pending_epochs >= MAX_PENDING_EPOCHS:
                # the window is behind: train no further until it takes a snapshot and the next one may go
                thread._wait_for_window(self.last_emit + 1.0 / MAX_SNAPSHOTS_PER_SECOND)
            elif self.step_target is not None:
                self.say_running(self.step_target - self.trainer.epoch)
                self.run_steps()
            elif req.running:
                self.say_running(None)
                self.run_chunk(req.speed)
            elif self.state == RUNNING:  # paused
                self.state = PAUSED
            self.emit(force=self.state != RUNNING or req.report or req.want_state)
            if req.want_state:
                self.thread.state_ready.emit(self.trainer.state())
            if req.running and self.state == RUNNING and req.speed is not None and self.step_target is None:
                thread._sleep_until(self.next_due)

    # --- requests ---------------------------------------------------------------------------------
    def apply(self, req: _Requests) -> None:
        if req.load is not None:
            state, config, last_loss = req.load
            trainer = Trainer(config)
            trainer.restore(state)
            self.trainer = trainer
            self.seconds_per_epoch = None
            self.restart("Experiment opened", keep_history=True)
            self.last_loss = last_loss
            self.arm_rules()
        if req.config is not None and self.trainer.config.structural_change(req.config):
            _announce_build(self.thread, req.config)
        if req.config is not None and self.trainer.set_config(req.config):
            self.seconds_per_epoch = None  # a new network: its epochs take another time
            self.restart("Network rebuilt (hidden layers, activation, initialisation or seed changed): training restarted")
        if req.reset:
            self.trainer.reset()
            self.restart(req.reset_message or "Reset to epoch 0", reset=True)
        if req.rules_changed or req.play_pressed:
            self.rules = req.rules
            self.arm_rules()
        if req.play_pressed:
            self.next_due = time.perf_counter()
            self.step_target = None
        if req.pause_pressed and self.step_target is not None:
            n, done = self.step_target - self.step_from, self.trainer.epoch - self.step_from
            self.step_target, self.state = None, PAUSED
            self.message = f"Paused at epoch {self.trainer.epoch:,}, after {done:,} of the {n:,} epochs of Step N"
        if req.steps:
            if self.step_target is None:
                self.step_target = self.step_from = self.trainer.epoch
            self.step_target += req.steps

    def restart(self, message: str, keep_history: bool = False, reset: bool = False) -> None:
        self.pending, self.pending_epochs, self.restarted, self.message = [], 0, True, message
        self.was_reset, self.pending_grid = reset, None
        self.step_target = None
        self.restarts += 1
        self.keep_history = keep_history
        self.state, self.last_loss = READY, math.nan
        self.thread.stop_running(self.generation)
        self.arm_rules()

    def arm_rules(self) -> None:
        """Rules that the present state already meets are set aside, so Play after a stop keeps going."""
        at_epoch = self.rules.at_epoch if self.rules.at_epoch is not None and self.rules.at_epoch > self.trainer.epoch else None
        below = self.rules.below_loss
        if below is not None and self.last_loss < below:
            below = None
        self.active_rules = StopRules(at_epoch, below)

    # --- training ---------------------------------------------------------------------------------
    def record(self, chunk) -> None:
        if not len(chunk):
            return
        if not self.pending:
            self.pending_first = int(chunk.epochs[0])
        self.pending.append((chunk.loss, chunk.predictions))
        self.pending_epochs += len(chunk)
        self.last_loss = float(chunk.loss[-1])
        self.rate_epochs += len(chunk)

    def step_samples(self, n_samples: int) -> None:
        if self.trainer.diverged:
            self.check_divergence()
            return
        if not self.trainer.can_step_samples:
            self.state, self.message = PAUSED if self.trainer.epoch else READY, "Sample steps need mode sgd"
            return
        for _ in range(n_samples):
            trace, chunk = self.trainer.step_sample()
            self.stepped_trace = trace
            if chunk is not None:
                self.record(chunk)
                if chunk.diverged:
                    break
        t = self.stepped_trace
        self.state = PAUSED
        # the Inspect tab's words: "Stepped sample 1 of 4 of epoch 4: (1,0) → 1, ŷ was 0.7130"
        self.message = f"Stepped {place(t, self.trainer.n_samples)}: {sample_label(t.x, t.y)}, ŷ was {t.y_hat:.4f}"
        self.check_divergence()

    def say_running(self, epochs: int | None) -> None:
        """Before the first chunk of a Play (epochs None) or of a Step N of `epochs` expected to take longer than
        PROMPT_SECONDS, send a snapshot that says "Running": a big network's first chunk may take a while."""
        if self.state == RUNNING or self.trainer.diverged:
            return
        if epochs is not None:
            if self.seconds_per_epoch is None or epochs * self.seconds_per_epoch <= PROMPT_SECONDS:
                return
            done = self.trainer.epoch - self.step_from
            n = self.step_target - self.step_from
            self.message = f"Step N: {done:,} of {n:,} epochs ({done / n:.0%}); Pause stops"
        else:
            self.message = ""
        self.state = RUNNING
        if self.thread._may_send(True):  # nothing trained yet: the views stay as they are (no map, no inspection)
            self.send(None, None, None, "", None)

    def chunk_size(self) -> int:
        """Epochs for the next chunk: about CHUNK_SECONDS at the last chunk's seconds per epoch, at least 1 (and 1 while
        not measured yet), so that a request waits at most about a chunk (or one epoch of a very big network)."""
        if self.seconds_per_epoch is None:
            return 1
        return int(min(MAX_CHUNK_EPOCHS, max(1, CHUNK_SECONDS / max(self.seconds_per_epoch, 1e-9))))

    def timed_run(self, n: int, stop_below: float | None = None):
        """`Trainer.run`, measuring the seconds per epoch that size the next chunk (`chunk_size`)."""
        start = time.perf_counter()
        chunk = self.trainer.run(n, stop_below=stop_below)
        if len(chunk):
            self.seconds_per_epoch = (time.perf_counter() - start) / len(chunk)
        return chunk

    def run_steps(self) -> None:
        """One chunk of a Step N (`chunk_size`, no stop rules): requests are taken between chunks."""
        n = self.step_target - self.step_from
        if not self.trainer.diverged:
            chunk = self.timed_run(min(self.chunk_size(), self.step_target - self.trainer.epoch))
            self.record(chunk)
        if self.trainer.epoch >= self.step_target or self.trainer.diverged:
            self.step_target, self.state = None, PAUSED
            self.message = f"Stepped {n:,} epoch{'s' if n != 1 else ''}"
        else:
            done = self.trainer.epoch - self.step_from
            self.state = RUNNING
            self.message = f"Step N: {done:,} of {n:,} epochs ({done / n:.0%}); Pause stops"
        self.check_divergence()

    def run_chunk(self, speed: float | None) -> None:
        if self.trainer.diverged:
            self.check_divergence()
            return
        n = self.chunk_size()  # full speed: about CHUNK_SECONDS; a set speed: its share of a snapshot, within that
        if speed is not None:
            n = min(n, max(1, round(speed / MAX_SNAPSHOTS_PER_SECOND)) if speed > MAX_SNAPSHOTS_PER_SECOND else 1)
        rules = self.active_rules
        if rules.at_epoch is not None:
            n = min(n, rules.at_epoch - self.trainer.epoch)
        start = time.perf_counter()
        chunk = self.timed_run(n, stop_below=rules.below_loss)
        self.record(chunk)
        if speed is not None:
            self.next_due = max(self.next_due, start) + len(chunk) / speed
        self.state, self.message = RUNNING, ""
        if chunk.reached_target:
            self.stop_at(f"Stopped at epoch {self.trainer.epoch:,}: loss {self.last_loss:.4g} < {rules.below_loss:g}",
                         f"Stopped: loss < {rules.below_loss:g}")  # fmt: skip
        elif rules.at_epoch is not None and self.trainer.epoch >= rules.at_epoch:
            self.stop_at(f"Stopped at epoch {self.trainer.epoch:,} (stop rule)", f"Stopped at epoch {self.trainer.epoch:,}")
        self.check_divergence()

    def stop_at(self, message: str, state_text: str) -> None:
        self.state, self.message, self.stop_text = STOPPED, message, state_text
        self.thread.stop_running(self.generation)
        self.active_rules = StopRules()

    def check_divergence(self) -> None:
        if self.trainer.diverged:
            self.state = DIVERGED
            self.message = (
                f"Diverged at epoch {self.trainer.epoch:,}: the loss became {self.last_loss}. "
                f"Try a smaller learning rate than {self.trainer.config.learning_rate:g}, then Reset."
            )
            self.thread.stop_running(self.generation)

    # --- reporting --------------------------------------------------------------------------------
    def inspection(self) -> tuple:
        return _inspection(self)

    def emit(self, force: bool) -> None:
        now = time.perf_counter()
        if now - self.rate_since >= 0.5:
            self.epochs_per_second = self.rate_epochs / (now - self.rate_since)
            self.rate_epochs, self.rate_since = 0, now
        if not force and now - self.last_emit < 1.0 / MAX_SNAPSHOTS_PER_SECOND:
            return
        if not self.thread._may_send(force):
            return  # the window is behind: keep the epochs for the next snapshot
        if self.state == READY and self.trainer.epoch:
            self.state = PAUSED
        running = self.state == RUNNING
        map_wanted = self.map_key != self.weights_key() and (not running or now >= self.map_due)
        grid, self.pending_grid = self.pending_grid, None
        if map_wanted and self.trainer.layout.n_params * map_side(self.trainer.layout.n_params) ** 2 <= MAP_MACS:
            grid, map_wanted = self.decision_map(), False
        inspection = (None, None, "", None)
        inspect = not running or now >= self.inspect_due
        follows = inspect and not running and self.inspect_seconds > FOLLOW_SECONDS  # a big network's: state first
        if inspect and not follows:
            inspection = self.timed_inspection()
        self.send(grid, *inspection)
        if follows and self.thread._may_send(True):
            self.send(None, *self.timed_inspection())
        if map_wanted:  # a big network's map: in pieces after the snapshot (a request cuts it short), then
            grid = self.decision_map()  # sent alone when paused, else with the next snapshot (at most 2 in flight)
            if grid is not None and not running and self.thread._may_send(True):
                self.send(grid, None, None, "", None)
            elif grid is not None:
                self.pending_grid = grid

    def timed_inspection(self) -> tuple:
        start = time.perf_counter()
        inspection = self.inspection()
        self.inspect_seconds = time.perf_counter() - start
        self.inspect_due = start + max(INSPECT_SECONDS, DUTY * self.inspect_seconds)
        return inspection

    def weights_key(self) -> tuple:
        """Changes whenever the weights do."""
        return self.restarts, self.trainer.epoch, self.trainer.updates, self.trainer.sample_position

    def decision_map(self) -> np.ndarray | None:
        """ŷ over the map's grid (`map_side` points a side), or None when a request cut the work short."""
        trainer, thread = self.trainer, self.thread
        cost = trainer.layout.n_params
        side = map_side(cost)
        points = _grid(side)[1]
        out = np.empty(len(points))
        piece = max(1, PIECE_MACS // cost)
        start = told = time.perf_counter()
        for first in range(0, len(points), piece):
            if first and thread._interrupted():
                break
            out[first : first + piece] = trainer.predict(points[first : first + piece])
            if time.perf_counter() - told >= PROGRESS_SECONDS:
                told = time.perf_counter()
                done = min(len(points), first + piece) / len(points)
                thread.progress.emit(f"Computing the decision map ({side}×{side} points, {cost:,} weights): {done:.0%}…")
        else:
            first = len(points)
        if told != start:
            thread.progress.emit("")
        if first < len(points):
            return None
        self.map_key = self.weights_key()
        self.map_due = start + max(MAP_SECONDS, DUTY * (time.perf_counter() - start))
        return out.reshape(side, side)

    def send(self, grid, trace, gradient, gradient_label: str, hidden_maps) -> None:
        """Emit a snapshot with every pending epoch, these views and the state."""
        now = time.perf_counter()
        # one (k, 1 + n_samples) block of history rows: loss, then predictions (built here, off the GUI thread)
        k = sum(len(p[0]) for p in self.pending)
        rows = np.empty((k, 1 + self.trainer.n_samples))
        at = 0
        for loss_part, preds_part in self.pending:
            rows[at : at + len(loss_part), 0] = loss_part
            rows[at : at + len(loss_part), 1:] = preds_part
            at += len(loss_part)
        rows.flags.writeable = False
        first = self.pending_first if k else self.trainer.epoch + 1
        trainer = self.trainer
        self.thread.snapshot.emit(
            Snapshot(
                state=self.state,
                config=trainer.config,
                first_epoch=first,
                rows=rows,
                epoch=trainer.epoch,
                updates=trainer.updates,
                params=trainer.params,
                restarted=self.restarted,
                grid_output=grid,
                epochs_per_second=self.epochs_per_second if self.state == RUNNING else 0.0,
                message=self.message,
                initial_params=trainer.initial_params if self.restarted else [],
                keep_history=self.keep_history,
                reset=self.was_reset,
                trace=trace,
                gradient=gradient,
                gradient_label=gradient_label,
                hidden_maps=hidden_maps,
                sample_position=trainer.sample_position,
                outputs=trainer.predict(trainer.inputs),
                state_text=self.stop_text if self.state == STOPPED else "",
            )
        )
        self.pending, self.pending_epochs, self.restarted, self.message, self.keep_history = [], 0, False, "", False
        self.was_reset = False
        self.last_emit = now


def _inspection(session: _Session) -> tuple:
    """(trace, gradient, gradient label, hidden maps) for a snapshot."""
    trainer = session.trainer
    stepped, session.stepped_trace = session.stepped_trace, None
    if stepped is not None:
        trace = stepped
        gradient, label = stepped.grads, "∂L/∂W of the sample just stepped"
    else:
        index = session.inspect_index
        if index is None:  # the next sample the epoch will visit
            index = trainer.next_sample_index()
        trace = trainer.inspect_sample(index) if not trainer.diverged else None
        gradient, label = trainer.gradient(), "∂L/∂W averaged over the 4 inputs at the current weights"
    hidden = None
    n_hidden = trainer.layout.n_units - 1
    if n_hidden:
        acts = trainer.activations(HIDDEN_POINTS, units=min(n_hidden, MAX_HIDDEN_MAPS))  # only the layers they need
        side = len(HIDDEN_AXIS)
        hidden = np.ascontiguousarray(acts.T.reshape(-1, side, side))
    return trace, gradient, label, hidden


def map_side(cost: int) -> int:
    """Points per side of the decision map of a network with `cost` weights (about its multiply-adds per point):
    the most, up to GRID_AXIS's, whose map costs at most MAP_MACS, and at least MIN_GRID; always 6k + 1, so that
    0 and 1 lie on the grid."""
    side = math.isqrt(MAP_MACS // max(1, cost))
    return min(len(GRID_AXIS), max(MIN_GRID, (side - 1) // 6 * 6 + 1))


@functools.lru_cache(maxsize=8)
def _grid(side: int) -> tuple[np.ndarray, np.ndarray]:
    return (GRID_AXIS, GRID_POINTS) if side == len(GRID_AXIS) else decision_grid(side)


def _announce_build(thread: TrainingThread, config: TrainConfig | None) -> None:
    """Say in the status bar that a big network is being built (its initialisation takes a while)."""
    n = Layout.from_sizes((config or TrainConfig()).layer_sizes).n_params
    if n >= BIG_NETWORK:
        thread.progress.emit(f"Building the network ({n:,} weights)…")
