"""The training thread's own state and work: `TrainingSession` trains in chunks, applies the requests the thread
takes (`TrainingRequests`), and builds the `Snapshot`s with the views' data (decision map, inspection).

Only the training thread touches a session. It talks back through its `SessionHost` (gui/worker.py's
`TrainingThread`): may a snapshot go now, has a request come that long work should make way for, stop a
Play, and the thread's `snapshot` and `progress` signals.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from engine import TrainConfig, Trainer, decision_grid
from engine.datasets import Dataset
from engine.diagnosis import RecentRows, diagnose_rows, history_rows
from engine.history import History, n_series_for
from engine.inspect import SampleTrace
from engine.network import Layout
from engine.timeline import DEFAULT_BUDGET, MIN_CAPACITY, RunTree, describe_change, keeps_past

from .grids import GRID_SIDE, HIDDEN_SIDE, Bounds, grid_for, view_bounds
from .inspector import place
from .snapshot import DIVERGED, PAUSED, READY, RUNNING, STOPPED, Snapshot, StopRules, TreeSummary
from .style import sample_label
from .threads import Requests
from .time_travel import config_at, copy_history, first_epochs, history_to, run_label, tree_summary

MAX_SNAPSHOTS_PER_SECOND = 40
CHUNK_SECONDS = 0.025  # every chunk (Play at any speed, Step N) is sized to take about this long, and at least 1 epoch:
MAX_CHUNK_EPOCHS = 1_000_000  # requests (Pause...) are taken between chunks, so a big network answers as a small one
PROMPT_SECONDS = 0.2  # a Step N expected to take longer than this says "Running" before its first chunk
FOLLOW_SECONDS = 0.05  # when not running, an inspection that took longer than this follows in a snapshot of its own,
# so that the state (Paused...) shows at once: a big network's (7 million weights) takes about half a second
MAP_SECONDS = 0.07  # while running, the decision map is recomputed at most this often, at the end of a chunk (about
# 25 ms): so every third chunk, over 10 a second (0.08 would make it every fourth, 100 ms apart)
GRID_AXIS, GRID_POINTS = decision_grid()  # XOR's maps: `grid_for(view_bounds(data), GRID_SIDE)` is this grid for XOR
HIDDEN_AXIS, HIDDEN_POINTS = decision_grid(HIDDEN_SIDE)  # hidden-unit maps: a coarser grid, one map per unit
MAX_HIDDEN_MAPS = 32
INSPECT_SECONDS = 0.2  # while running, the inspector, gradients and hidden-unit maps refresh at most this often
MAX_PENDING_EPOCHS = 1_000_000  # trained but not yet sent: beyond this, training waits for the window (bounded memory)
# A big network's views stay bounded: the decision map's grid is the finest (up to GRID_SIDE) whose map costs at most
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
DIAGNOSE_SECONDS = 3.0  # while running, what is happening (engine.diagnosis) is assessed at most this often, and
SCRUB_QUIET_SECONDS = 0.15  # a past epoch's diagnoses wait until the scrubbing has paused this long (a drag goes on)
DIAGNOSE_EXACT = 20_000  # epochs: the diagnoses read a run's first epochs from rows kept here; later ones are recomputed
DIAGNOSE_DUTY = 100  # waits this many times what the last assessment took (a long run's exact rows are copied: 0.1 s)


@dataclass
class TrainingRequests(Requests):
    """What the window asked the training thread for, as taken in one go under the mutex."""

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
    inspect_index: int | None = None  # the data's point (index into `Dataset.inputs`) the inspector follows (None: the
    # next sample to be visited)
    want_state: bool = False  # send the trainer's state (after flushing every trained epoch)
    load: tuple | None = None  # (TrainerState, TrainConfig, last loss, Dataset): continue from a saved experiment
    data: Dataset | None = None  # train on this data from now on (restarts)
    pause_pressed: bool = False  # Pause: also stops a Step N in progress
    scrub: int | None = None  # show this epoch of the current run (pauses): the newest replaces one not taken yet
    continue_from: int | None = None  # drop the current run's epochs after this one; training goes on from it
    branch: tuple | None = None  # (epoch, TrainConfig): a new run from the current run's epoch with these settings
    select_run: int | None = None  # make this run of the tree the current one (shown and trained)
    history: tuple | None = None  # (TreeSummary.generation, History): the window's copy of the current run's history

    def busy(self) -> bool:
        return self.running or self.busy_besides_running()

    def urgent(self) -> bool:
        """Something that should cut a slow-motion wait short: anything but "keep running"."""
        return not self.running or self.busy_besides_running()

    def busy_besides_running(self) -> bool:
        return (self.abort or bool(self.steps) or bool(self.sample_steps) or self.reset or self.config is not None
                or self.report or self.want_state or self.load is not None or self.data is not None
                or self.scrub is not None or self.continue_from is not None or self.branch is not None
                or self.select_run is not None)  # fmt: skip


class SessionHost(Protocol):
    """What a session needs of its thread (gui/worker.py's `TrainingThread`)."""

    snapshot: object  # Signal(Snapshot)
    progress: object  # Signal(str)

    def may_send(self, force: bool) -> bool:
        """Whether a snapshot may go now (counting it as sent): `force`, or fewer than MAX_IN_FLIGHT in flight."""

    def interrupted(self) -> bool:
        """Whether a request arrived that long work (a big network's map) should make way for."""

    def quiet_for(self, seconds: float) -> bool:
        """Wait up to `seconds` for such a request: True when none came."""

    def stop_running(self, generation: int) -> None:
        """Stop a Play, unless a newer one came since the Play `generation`."""


class TrainingSession:
    """The training thread's own state (only that thread touches it)."""

    def __init__(self, thread: SessionHost, config: TrainConfig | None, data: Dataset | None = None) -> None:
        self.thread = thread
        self.trainer = Trainer(config, data=data)
        self.pending: list[np.ndarray] = []  # blocks of history rows (`Chunk.rows()`) not sent yet
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
        # time travel: the tree of runs on show (None when this run's past cannot be recomputed), the past epoch shown
        # (None: the latest), the trainer that stands there, and what the next snapshot brings about the tree
        self.tree: RunTree | None = self.new_tree()
        self.scrubbed: int | None = None
        self.past: Trainer | None = None
        self.shown_row: np.ndarray | None = None
        self.held_config: TrainConfig | None = None  # the form's settings while a past epoch is shown (not applied yet)
        self.tree_changed = True
        self.new_history: History | None = None
        self.diagnoses: tuple | None = None
        self.diagnose_due = 0.0
        self.diagnosed_key: tuple | None = None  # the weights the last diagnoses were made for
        # The current run's history is the window's (a copy here would slow training): `run.history` of the current run
        # is as of the last switch, made whole when needed (`own_history`); `early` keeps its first DIAGNOSE_EXACT
        # epochs for the diagnoses, and `history_generation` counts the window's histories (restarts, switches).
        self.early = History(n_series_for(self.trainer.data))
        self.recent = RecentRows()  # the rows of the trainer's last OSCILLATION_EPOCHS + 1 epochs
        self.ended: tuple | None = None  # for the next snapshot: the run a restart replaced (Snapshot.ended)
        self.run_start = 0  # the epoch the run started from (0, or an opened experiment's)
        self.history_generation = 0

    # --- requests ---------------------------------------------------------------------------------
    def apply(self, req: TrainingRequests) -> None:
        if req.load is not None:
            state, config, last_loss, data, tree = req.load
            trainer = Trainer(config, data=data)
            trainer.restore(state)
            self.trainer = trainer
            self.seconds_per_epoch = None
            self.restart("Experiment opened", keep_history=True, tree=tree)
            self.last_loss = last_loss
            self.arm_rules()
        if self.held_config is not None and req.load is None and (req.reset or req.data is not None):
            self.trainer.set_config(self.held_config)  # the form's settings typed while a past epoch was shown
            self.held_config = None
        if req.data is not None:  # with the settings that come with it, if any
            config = self.trainer.config if req.config is None else req.config
            announce_build(self.thread, config)
            self.trainer = Trainer(config, data=req.data)
            self.seconds_per_epoch = None
            self.restart(f"New data ({describe_data(req.data)}): training restarted")
        elif req.config is not None and self.trainer.config.structural_change(req.config):
            announce_build(self.thread, req.config)
        if req.data is None and req.config is not None:
            structural = self.trainer.config.structural_change(req.config)
            if self.scrubbed is not None and not structural and not req.reset:
                self.held_config = req.config  # applies where training goes on: `continue_from`, `branch`, the latest
            elif self.trainer.set_config(req.config):
                self.seconds_per_epoch = None  # a new network: its epochs take another time
                self.restart("Network rebuilt (hidden layers, input features, activation, initialisation or seed "
                             "changed): training restarted")  # fmt: skip
            else:
                self.note_settings()
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
        if not req.reset and req.data is None and req.load is None:
            self.travel(req)
        if (req.play_pressed or req.steps or req.sample_steps) and self.scrubbed is not None:
            self.show_latest()  # the window asked where to go on from first; a bare Play goes on from the latest epoch
        if req.steps:
            if self.step_target is None:
                self.step_target = self.step_from = self.trainer.epoch
            self.step_target += req.steps

    # --- time travel ------------------------------------------------------------------------------
    def travel(self, req: TrainingRequests) -> None:
        """The time-travel requests, in the order the window can send them together: another run, a past epoch
        shown, the run cut back there, a branch from there."""
        try:
            if req.history is not None:
                self.own_history(*req.history)
            if req.select_run is not None:
                self.select_run(req.select_run)
            if req.scrub is not None:
                self.scrub(req.scrub)
            if req.continue_from is not None:
                self.continue_from(req.continue_from)
            if req.branch is not None:
                self.branch(*req.branch)
        except ValueError as err:  # an epoch outside the run, a branch that would be dropped...: said, nothing changes
            self.message = f"{str(err)[:1].upper()}{str(err)[1:]}"

    def new_tree(self) -> RunTree | None:
        """A new run's tree at the trainer's state, or None for a network too big to keep its past."""
        if not keeps_past(self.trainer.layout.n_params):
            return None
        return RunTree(self.trainer.config, self.trainer.data, start=self.trainer.state() if self.trainer.epoch else None)

    def no_past(self) -> str:
        """Why the current run's past cannot be shown."""
        if not keeps_past(self.trainer.layout.n_params):
            return (f"This network is too big to keep its past ({self.trainer.layout.n_params:,} parameters: time travel "
                    f"keeps {MIN_CAPACITY} checkpoints within {DEFAULT_BUDGET // 2**20} MB)")  # fmt: skip
        return "This run's past cannot be shown (its file does not record how it was trained)"

    def known_tree(self) -> RunTree | None:
        """The tree, its current run's past checked (a file that did not record it is recomputed once, here); a past
        that cannot be recomputed starts a tree at the latest state (earlier epochs cannot be shown)."""
        tree = self.tree
        if tree is None or tree.current_run.timeline.known is True:
            return tree
        run = tree.current_run
        self.thread.progress.emit(f"Checking this run's past: recomputing its {run.last_epoch:,} epochs…")
        try:
            known = run.timeline.verify()
        finally:
            self.thread.progress.emit("")
        if not known:
            head = run.timeline.head
            self.tree = None
            if head.partial is None:
                self.tree = RunTree(run.config, tree.data, start=head, history=run.history, label=run.label)
            self.tree_changed = True
            self.message = (f"This file does not record how its first {head.epoch:,} epochs were trained (its settings "
                            "changed during the run): they cannot be shown again")  # fmt: skip
        return self.tree

    def own_history(self, generation: int, history: History) -> None:
        """The window's copy of the current run's history (when it is of the run now current), made whole."""
        tree = self.tree
        if tree is None:
            return
        run = tree.current_run
        if generation == self.history_generation and history.n_series == run.history.n_series:
            run.history = history
        run.history = history_to(run.history, tree, run.id)

    def keep(self) -> None:
        """Record where the trainer is in the current run's timeline (after each chunk or sample step)."""
        tree = self.known_tree()
        if tree is not None:
            tree.current_run.timeline.record(self.trainer)

    def note_settings(self) -> None:
        """The trainer's settings changed (training settings only): the current run's next segment."""
        tree = self.known_tree()
        if tree is not None:
            tree.current_run.timeline.set_config(self.trainer.epoch, self.trainer.config)

    def cut(self, n: int) -> int:
        """Epochs for a chunk of at most `n` from the trainer's epoch: ending on the timeline's checkpoint grid
        (`Timeline.next_stop`) when a grid epoch is within reach, so that chunks leave checkpoints."""
        if self.tree is None:
            return n
        epoch, every = self.trainer.epoch, self.tree.current_run.timeline.every
        end = (epoch + n) // every * every
        return end - epoch if end > epoch else n

    def scrub(self, epoch: int) -> None:
        """Show the current run's state at `epoch`'s end (bit for bit a headless Trainer's there); the latest epoch shows
        the trainer itself. Training is paused (the request paused it)."""
        tree = self.known_tree()
        if tree is None:
            self.message = self.no_past()
            return
        run = tree.current_run
        epoch = max(0, min(int(epoch), run.last_epoch))
        if epoch >= run.last_epoch:  # the run as it is (a mid-epoch state after sample steps included)
            self.show_latest()
            return
        first = tree.runs()[0].timeline.first_epoch  # 0, unless a file did not record how its first epochs were trained
        if epoch < first:
            raise ValueError(f"epoch {epoch:,} is outside this run's known past: epochs {first:,} to {run.last_epoch:,} can "
                             "be shown (the file does not record how the earlier ones were trained)")  # fmt: skip
        row = tree.rows(run.id, epoch, epoch)[0] if epoch >= 1 else None  # first: state_at then goes on from there
        state = tree.state_at(run.id, epoch)
        if self.past is None:
            self.past = Trainer(self.trainer.config, data=self.trainer.data)
        self.past.set_config(config_at(tree, run.id, epoch))
        self.past.restore(state)
        self.scrubbed, self.shown_row = epoch, row
        self.step_target = None
        self.state = PAUSED
        self.message = f"Showing epoch {epoch:,} of {run.last_epoch:,}: Play asks whether to continue from here or branch"
        self.diagnose_due = 0.0

    def resting_state(self) -> str:
        """The state of the trainer standing still at its latest epoch: diverged, paused, or ready at epoch 0."""
        return DIVERGED if self.trainer.diverged else PAUSED if self.trainer.epoch else READY

    def show_latest(self) -> None:
        """Show the trainer (the current run's latest state) again, with the form's settings held meanwhile."""
        if self.scrubbed is None:
            return
        self.scrubbed, self.shown_row = None, None
        self.state = self.resting_state()
        self.message = f"Showing the latest epoch, {self.trainer.epoch:,}"
        self.apply_held()

    def apply_held(self) -> None:
        config, self.held_config = self.held_config, None
        if config is not None and config != self.trainer.config and not self.trainer.config.structural_change(config):
            self.trainer.set_config(config)
            self.note_settings()

    def switched(self, message: str) -> None:
        """The trainer now stands at the current run's latest state: the window gets the run's history and tree."""
        tree = self.tree
        run = tree.current_run
        self.trainer.set_config(run.config)
        self.trainer.restore(run.timeline.head)
        self.scrubbed, self.shown_row = None, None
        self.restarts += 1  # other weights, maybe at the same epoch and updates: the maps and diagnoses are made again
        self.pending, self.pending_epochs, self.step_target = [], 0, None
        self.new_history, self.tree_changed = copy_history(run.history), True
        self.early, self.history_generation = first_epochs(run.history, DIAGNOSE_EXACT), self.history_generation + 1
        self.recent = RecentRows()
        self.last_loss = float(run.history.last[0])
        self.state = self.resting_state()
        self.message = message  # (the request paused; a Play sent after it goes on from here)
        self.arm_rules()
        self.diagnose_due = 0.0

    def continue_from(self, epoch: int) -> None:
        """Drop the current run's epochs after `epoch` ("continue from here"): training goes on from there."""
        tree = self.known_tree()
        if tree is None:
            raise ValueError("this run's past cannot be recomputed, so it cannot continue from an earlier epoch")
        run = tree.current_run
        dropped = run.last_epoch - int(epoch)
        tree.truncate(run.id, int(epoch))
        self.switched(f"Continuing from epoch {int(epoch):,}: the {dropped:,} later epoch{'s' if dropped != 1 else ''} "
                      "were dropped")  # fmt: skip
        self.apply_held()

    def branch(self, epoch: int, config: TrainConfig | None) -> None:
        """A new run from the current run's exact state at `epoch`, trained with `config`'s training settings (None:
        the settings in force there); it becomes the current run."""
        tree = self.known_tree()
        if tree is None:
            raise ValueError("this run's past cannot be recomputed, so it cannot branch from an earlier epoch")
        run = tree.current_run
        before = config_at(tree, run.id, int(epoch))
        config = before if config is None else config
        self.held_config = None
        new = tree.branch(run.id, int(epoch), config, label=describe_change(before, config, int(epoch)))
        tree.current = new
        self.switched(f"Branched: {run_label(tree.current_run)}")

    def select_run(self, run_id: int) -> None:
        tree = self.known_tree()
        if tree is None or run_id == tree.current:
            return
        tree.current = run_id
        self.held_config = None
        self.switched(f"Showing {run_label(tree.current_run)}")

    def restart(self, message: str, keep_history: bool = False, reset: bool = False, tree: RunTree | None = None) -> None:
        old = getattr(self, "tree", None)
        if old is not None and old.current_run.last_epoch > self.run_start:  # the run replaced, as it ended, if it trained
            # (the window's run history logs it)
            rows = np.concatenate(self.pending) if self.pending else np.empty((0, old.current_run.history.n_series))
            self.ended = (old.current_run.timeline.head, old.current_run.config, old.data, rows, old)  # (the thread is
            # done with `old`: the window owns it from now on)
        self.pending, self.pending_epochs, self.restarted, self.message = [], 0, True, message
        self.was_reset, self.pending_grid = reset, None
        self.step_target = None
        self.restarts += 1
        self.keep_history = keep_history
        self.state, self.last_loss = READY, math.nan
        self.thread.stop_running(self.generation)
        self.arm_rules()
        self.tree = self.new_tree() if tree is None else tree  # a new run: a new tree
        history = None if self.tree is None else self.tree.current_run.history  # (an opened file's: a copy of it)
        self.early = History(n_series_for(self.trainer.data)) if history is None else first_epochs(history, DIAGNOSE_EXACT)
        self.recent = RecentRows()
        self.history_generation += 1
        self.run_start = self.trainer.epoch
        self.scrubbed = self.shown_row = self.past = self.held_config = self.new_history = None
        self.tree_changed, self.diagnoses, self.diagnose_due, self.diagnosed_key = True, None, 0.0, None

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
        rows = chunk.rows()
        self.pending.append(rows)
        early = self.early
        if early.n_epochs < DIAGNOSE_EXACT and early.n_epochs == self.trainer.epoch - len(rows):
            early.extend(rows[: DIAGNOSE_EXACT - early.n_epochs])
        self.recent.extend(self.trainer.epoch - len(rows) + 1, rows)  # the latest rows, for the diagnoses while running
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
            self.keep()
            if chunk is not None and chunk.diverged:
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
        if self.thread.may_send(True):  # nothing trained yet: the views stay as they are (no map, no inspection)
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
            chunk = self.timed_run(self.cut(min(self.chunk_size(), self.step_target - self.trainer.epoch)))
            self.record(chunk)
            self.keep()
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
        chunk = self.timed_run(self.cut(n), stop_below=rules.below_loss)
        self.record(chunk)
        self.keep()
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
    @property
    def shown(self) -> Trainer:
        """The trainer whose state the views show: the past epoch scrubbed to, or the latest."""
        return self.past if self.scrubbed is not None else self.trainer

    def inspection(self) -> tuple:
        return _inspection(self)

    def emit(self, force: bool) -> None:
        now = time.perf_counter()
        if now - self.rate_since >= 0.5:
            self.epochs_per_second = self.rate_epochs / (now - self.rate_since)
            self.rate_epochs, self.rate_since = 0, now
        if (not force and now - self.last_emit < 1.0 / MAX_SNAPSHOTS_PER_SECOND) or not self.thread.may_send(force):
            self.prepare_map(now)
            return  # too soon, or the window is behind: keep the epochs (and a map that fell due) for the next snapshot
        if self.state == READY and self.trainer.epoch:
            self.state = PAUSED
        running = self.state == RUNNING
        map_wanted = self.map_key != self.weights_key() and (not running or now >= self.map_due)
        grid, self.pending_grid = self.pending_grid, None
        if map_wanted and self.map_is_cheap():
            grid, map_wanted = self.decision_map(), False
        diagnose = not running or now >= self.diagnose_due
        diagnose = diagnose and self.diagnosed_key != self.weights_key()
        if diagnose and running:
            self.diagnose()  # with this snapshot; when paused, in one of its own after it (a scrub shows at once)
        inspection = (None, None, "", None)
        inspect = not running or now >= self.inspect_due
        follows = inspect and not running and self.inspect_seconds > FOLLOW_SECONDS  # a big network's: state first
        if inspect and not follows:
            inspection = self.timed_inspection()
        self.send(grid, *inspection)
        if follows and self.thread.may_send(True):
            self.send(None, *self.timed_inspection())
        quiet = diagnose and not running and self.thread.quiet_for(SCRUB_QUIET_SECONDS if self.scrubbed is not None else 0)
        if quiet and self.thread.may_send(True):
            self.diagnose()  # a drag's next scrub (any request) comes first: the diagnoses wait for the epoch it stops at
            self.send(None, None, None, "", None)
        if map_wanted:  # a big network's map: in pieces after the snapshot (a request cuts it short), then
            grid = self.decision_map()  # sent alone when paused, else with the next snapshot (at most 2 in flight)
            if grid is not None and not running and self.thread.may_send(True):
                self.send(grid, None, None, "", None)
            elif grid is not None:
                self.pending_grid = grid

    def diagnose(self) -> None:
        """What is happening in the current run at the epoch shown (`engine.diagnosis`), for the next snapshot: while
        running at most every DIAGNOSE_SECONDS (and DIAGNOSE_DUTY times what it took), else on every change."""
        start = time.perf_counter()
        tree, shown = self.tree, self.shown
        run_id = None if tree is None else tree.current

        def rows(first: int, last: int) -> np.ndarray:  # the latest epochs' rows are at hand; others are recomputed
            kept = self.recent.epochs()
            if self.scrubbed is None and len(kept) and kept[0] <= first and last <= kept[-1]:
                return self.recent.rows_of(np.arange(first, last + 1))
            if tree is None:
                raise ValueError("this run's past is not kept")
            return tree.rows(run_id, first, last)

        found = None  # nothing known of the epochs needed: say nothing new rather than something wrong
        try:
            if tree is not None:
                epochs, rows = history_rows(self.early, shown.epoch, rows=rows)
            else:  # no past kept: the rows at hand (past DIAGNOSE_EXACT epochs, the 90 % epoch of a plateau is unknown)
                if self.recent.tail is None and shown.epoch > self.early.n_epochs:
                    raise ValueError("no rows of the last epochs")
                epochs, rows = history_rows(self.early, shown.epoch, recent=self.recent)
            state_at = None if tree is None else lambda e: tree.state_at(run_id, e).theta
            found = tuple(diagnose_rows(shown.config, shown.data, shown.theta, epochs, rows, state_at=state_at))
        except ValueError:
            pass
        self.diagnoses, self.diagnosed_key = found, self.weights_key()
        self.diagnose_due = start + max(DIAGNOSE_SECONDS, DIAGNOSE_DUTY * (time.perf_counter() - start))

    def prepare_map(self, now: float) -> None:
        """While running, make the map that fell due even when no snapshot can go now: it goes with the next one, so
        maps keep their own pace (MAP_SECONDS) rather than the window's (a snapshot may wait for the window)."""
        due = self.state == RUNNING and self.pending_grid is None and now >= self.map_due
        if due and self.map_is_cheap() and self.map_key != self.weights_key():
            self.pending_grid = self.decision_map()

    def map_is_cheap(self) -> bool:
        """The map costs at most MAP_MACS multiply-adds: it is made whole, with its snapshot, not in pieces after it."""
        n_params = self.trainer.layout.n_params
        return n_params * map_side(n_params) ** 2 <= MAP_MACS

    def timed_inspection(self) -> tuple:
        start = time.perf_counter()
        inspection = self.inspection()
        self.inspect_seconds = time.perf_counter() - start
        self.inspect_due = start + max(INSPECT_SECONDS, DUTY * self.inspect_seconds)
        return inspection

    def weights_key(self) -> tuple:
        """Changes whenever the weights do."""
        shown = self.shown
        return self.restarts, shown.epoch, shown.updates, shown.sample_position, self.scrubbed is not None

    def decision_map(self) -> np.ndarray | None:
        """ŷ over the map's grid (`map_side` points a side), or None when a request cut the work short."""
        trainer, thread = self.shown, self.thread
        cost = trainer.layout.n_params
        side = map_side(cost)
        points = _grid(view_bounds(trainer.data), side).points  # the data's region: the view draws over the same one
        out = np.empty(len(points))
        piece = max(1, PIECE_MACS // cost)
        start = told = time.perf_counter()
        for first in range(0, len(points), piece):
            if first and thread.interrupted():
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
        trainer = self.shown
        head = self.trainer
        # one (k, n_series_for(data)) block of history rows (built here, off the GUI thread)
        if len(self.pending) == 1:
            rows = self.pending[0]  # a chunk's own rows: nothing else holds them
        elif self.pending:
            rows = np.concatenate(self.pending)
        else:
            rows = np.empty((0, n_series_for(trainer.data)))
        rows.flags.writeable = False
        k = len(rows)
        first = self.pending_first if k else head.epoch + 1
        tree = None
        if self.tree_changed:  # a tree whose past cannot be recomputed shows none
            generation = self.history_generation
            tree = tree_summary(self.tree, generation) if self.tree is not None else TreeSummary((), 0, generation)
        self.thread.snapshot.emit(
            Snapshot(
                state=self.state,
                config=head.config,
                first_epoch=first,
                rows=rows,
                epoch=trainer.epoch,
                updates=trainer.updates,
                params=trainer.params,
                restarted=self.restarted,
                grid_output=grid,
                epochs_per_second=self.epochs_per_second if self.state == RUNNING else 0.0,
                message=self.message,
                initial_params=head.initial_params if self.restarted else [],
                keep_history=self.keep_history,
                reset=self.was_reset,
                trace=trace,
                gradient=gradient,
                gradient_label=gradient_label,
                hidden_maps=hidden_maps,
                sample_position=trainer.sample_position,
                outputs=trainer.predict(trainer.inputs) if trainer.data.records_predictions else None,
                state_text=self.stop_text if self.state == STOPPED else "",
                data=head.data if self.restarted else None,
                scrubbed=self.scrubbed,
                shown_row=self.shown_row,
                history=self.new_history,
                tree=tree,
                diagnoses=self.diagnoses,
                ended=self.ended,
            )
        )
        self.pending, self.pending_epochs, self.restarted, self.message, self.keep_history = [], 0, False, "", False
        self.new_history, self.diagnoses, self.ended = None, None, None
        if tree is not None:
            self.tree_changed = False
        self.was_reset = False
        self.last_emit = now


def _inspection(session: TrainingSession) -> tuple:
    """(trace, gradient, gradient label, hidden maps) for a snapshot."""
    trainer = session.shown
    stepped, session.stepped_trace = session.stepped_trace, None
    if stepped is not None:
        trace = stepped
        gradient, label = stepped.grads, "∂L/∂W of the sample just stepped"
    else:
        trace = None if trainer.diverged else _inspect(trainer, session.inspect_index)
        data = trainer.data
        points = "inputs" if data.records_predictions else "training points"
        gradient, label = trainer.gradient(), f"∂L/∂W averaged over the {data.n_train:,} {points} at the current weights"
    hidden = None
    n_hidden = trainer.layout.n_units - 1
    if n_hidden:
        points = _grid(view_bounds(trainer.data), HIDDEN_SIDE).points
        acts = trainer.activations(points, units=min(n_hidden, MAX_HIDDEN_MAPS))  # only the layers they need
        hidden = np.ascontiguousarray(acts.T.reshape(-1, HIDDEN_SIDE, HIDDEN_SIDE))
    return trace, gradient, label, hidden


def _inspect(trainer: Trainer, index: int | None) -> SampleTrace:
    """The trace of the data's point `index` (into `Dataset.inputs`, as the Inspect tab's picker and the decision
    map name points) at the current weights: a training point with the update it alone would make, a test point
    only looked at; None (or an index the data does not have): the next sample the epoch will visit."""
    data = trainer.data
    if index is None or not 0 <= index < data.n:
        return trainer.inspect_sample(trainer.next_sample_index())
    if data.train[index]:
        return trainer.inspect_sample(int(np.count_nonzero(data.train[:index])))  # its place among the training points
    return trainer.inspect_point(data.inputs[index], float(data.targets[index]))


def describe_data(data: Dataset) -> str:
    """The status bar's words for `data`: "spiral, 500 points, 250 for training"."""
    if not data.n_test:
        return f"{data.spec.name}, {data.n:,} points"
    return f"{data.spec.name}, {data.n:,} points, {data.n_train:,} for training"


def map_side(cost: int) -> int:
    """Points per side of the decision map of a network with `cost` weights (about its multiply-adds per point):
    the most, up to GRID_SIDE, whose map costs at most MAP_MACS, and at least MIN_GRID; always 6k + 1, so that
    XOR's 0 and 1 lie on the grid."""
    side = math.isqrt(MAP_MACS // max(1, cost))
    return min(GRID_SIDE, max(MIN_GRID, (side - 1) // 6 * 6 + 1))


@functools.lru_cache(maxsize=8)
def _grid(bounds: Bounds, side: int):
    """`grid_for(bounds, side)`, made once per region and side (the points are read-only)."""
    grid = grid_for(bounds, side)
    grid.points.flags.writeable = False
    return grid


def announce_build(thread: SessionHost, config: TrainConfig | None) -> None:
    """Say in the status bar that a big network is being built (its initialisation takes a while)."""
    n = Layout.from_sizes((config or TrainConfig()).layer_sizes).n_params
    if n >= BIG_NETWORK:
        thread.progress.emit(f"Building the network ({n:,} weights)…")
