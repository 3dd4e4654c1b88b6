"""The training thread's tree of runs (`engine.timeline.RunTree`) as the window sees it: what a snapshot says about it
(`tree_summary`), what a branch is called (`describe_change`), and the copies that leave the thread (`copy_tree`,
`copy_history`). Qt-free; only the training thread calls these on its tree.
"""

from __future__ import annotations

import numpy as np

from engine import TrainConfig
from engine.experiment import CHECKPOINT_FILE_BYTES
from engine.history import History
from engine.timeline import DEFAULT_BUDGET, Run, RunTree, Scratch, Timeline, history_until

from .snapshot import RunSummary, TreeSummary

RECOMPUTE_PIECE = 1_000_000  # epochs of history rows recomputed at a time (bounded memory)
OVERLAY_POINTS = 400  # points of each run's loss curve in a tree summary (the loss plot's overlay)


def copy_history(history: History) -> History:
    """An independent copy of `history` (for the other thread)."""
    return History.from_state(history.state(), n_series=history.n_series)


def first_epochs(history: History, n: int) -> History:
    """A new history of the first `n` epochs of `history`'s exact part."""
    out = History(history.n_series)
    out.extend(history.exact()[:n])
    return out


def history_to(history: History, tree: RunTree, run_id: int) -> History:
    """`history` (run `run_id`'s, as of some time) made to end at the run's latest epoch: later epochs dropped, missing
    ones recomputed exactly from the run's checkpoints."""
    last, n = tree.run(run_id).last_epoch, history.n_epochs
    if n > last:
        return history_until(history, last, lambda first, end: tree.rows(run_id, first, end))
    for first in range(n + 1, last + 1, RECOMPUTE_PIECE):
        history.extend(tree.rows(run_id, first, min(last, first + RECOMPUTE_PIECE - 1)))
    return history


def config_at(tree: RunTree, run_id: int, epoch: int) -> TrainConfig:
    """The settings that train the epoch after `epoch` on run `run_id`'s path (an ancestor's before it branched)."""
    run = tree.run(run_id)
    while epoch < run.timeline.first_epoch and run.parent is not None:
        run = tree.run(run.parent)
    return run.timeline.config_at(epoch)


def run_label(run: Run) -> str:
    return run.label or ("first run" if run.parent is None else f"branch {run.id}")


def tree_summary(tree: RunTree, generation: int = 0) -> TreeSummary:
    """Every run with its loss curve from its branch point (a few hundred points, read-only arrays; none for the current
    run, whose history the window holds)."""
    runs = []
    for run in tree.runs():
        x = y = np.empty(0)
        if run.id != tree.current:
            view = run.history.view(max(1, run.branch_epoch), np.inf, max_points=OVERLAY_POINTS)
            x, y = np.ascontiguousarray(view.x), np.ascontiguousarray(view.y[:, 0])
        x.flags.writeable = y.flags.writeable = False
        runs.append(RunSummary(run.id, run.parent, run.branch_epoch, run_label(run), run.last_epoch, run.id, x, y))
    return TreeSummary(tuple(runs), tree.current, generation)


def copy_tree(tree: RunTree) -> RunTree:
    """An independent copy of `tree` (its checkpoints thinned to what a file keeps), for saving on another thread."""
    runs = tree.runs()
    share = CHECKPOINT_FILE_BYTES // len(runs)
    scratch = Scratch(tree.data)
    copies = []
    for run in runs:
        timeline = run.timeline
        head = timeline.head
        every, floats, ints, rng = timeline.checkpoints(share)
        known = timeline.known
        if known is not True:  # an unchecked (or unknown) past is one segment from the start
            floats, ints, rng = floats[:1], ints[:1], rng[:1]
        copy = Timeline.from_checkpoints(list(timeline.segments), tree.data, head.initial_theta, every, floats, ints, rng,
                                         head, known=known, scratch=scratch)  # fmt: skip
        history = copy_history(run.history) if run.id != tree.current else History(run.history.n_series)  # the window's
        copies.append(Run(run.id, run.parent, run.branch_epoch, run.label, copy, history))
    return RunTree.from_runs(copies, tree.current, DEFAULT_BUDGET)
