"""Text tables and CSV files for the compare and sweep commands."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

from .compare import Comparison, RunSummary, gradient_evaluations_per_epoch, updates_per_epoch
from .config import TrainConfig
from .datasets import Dataset, make_dataset
from .history import History, history_columns
from .network import Params
from .sweep import OUTCOMES, GroupSummary, SweepResult
from .trainer import METRIC_COLUMNS


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _int(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:,.1f} ms" if value < 1 else f"{value:,.2f} s"


def percent(fraction: float) -> str:
    """An accuracy for a table: 0.975 -> '97.5%', NaN (no test set) -> '-'."""
    return "-" if math.isnan(fraction) else f"{fraction:.1%}"


def compare_table(summaries: list[RunSummary], target_loss: float, data: Dataset | None = None) -> str:
    """One line per run. On data that records every output (XOR, the default) the last column says whether the run
    solved it; on other data the final train and test accuracy stand there instead."""
    accuracy = not (data or make_dataset()).records_predictions
    last = ["train acc", "test acc"] if accuracy else ["solved"]
    header = ["run", f"epochs to {target_loss:g}", "updates", "gradient evals", "seconds", "final loss", *last]
    rows = [
        [
            s.label,
            _int(s.epochs_to_target),
            _int(s.updates_to_target),
            _int(s.gradient_evaluations_to_target),
            _seconds(s.seconds_to_target),
            "diverged" if s.diverged else f"{s.final_loss:.4g}",
            *([percent(s.final_train_accuracy), percent(s.final_test_accuracy)] if accuracy else ["yes" if s.solved else "no"]),
        ]
        for s in summaries
    ]
    return _table(header, rows)


def compare_csv(comparison: Comparison) -> str:
    """Every epoch of every run: run, label, epoch, updates, gradient_evaluations, seconds, then the metrics (loss,
    test_loss, train_accuracy, test_accuracy; the test columns are nan without a test set)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["run", "label", "epoch", "updates", "gradient_evaluations", "seconds", *METRIC_COLUMNS])
    n = comparison.n_samples
    for i, (label, config) in enumerate(zip(comparison.labels, comparison.configs)):
        loss, seconds, metrics = comparison.loss(i), comparison.seconds(i), comparison.metrics(i)
        epochs = np.arange(1, len(loss) + 1)
        per_update, per_gradient = updates_per_epoch(config, n), gradient_evaluations_per_epoch(config, n)
        for e, s, v, m in zip(epochs.tolist(), seconds.tolist(), loss.tolist(), metrics.tolist()):
            writer.writerow([i + 1, label, e, e * per_update, e * per_gradient, f"{s:.9f}", repr(v), *map(repr, m)])
    return out.getvalue()


def sweep_table(groups: list[GroupSummary], data: Dataset | None = None) -> str:
    """One line per swept config. On data other than XOR (data that does not record every output) the median final
    train and test accuracy follow, and 'stuck at 0.5' (a state of the recorded outputs) is left out."""
    accuracy = not (data or make_dataset()).records_predictions
    outcomes = [name for name in OUTCOMES[1:] if not (accuracy and name == "stuck at 0.5")]
    header = [
        "learning rate",
        "hidden",
        "optimizer",
        "solved",
        "median epochs",
        "90th pct",
        *outcomes,
        "final loss (quartiles)",
        *(["train acc (median)", "test acc (median)"] if accuracy else []),
    ]
    rows = []
    for g in groups:
        solved = round(g.fraction_solved * g.runs)
        q = g.final_loss_quartiles
        rows.append(
            [
                f"{g.config.learning_rate:g}",
                str(g.config.hidden[0]),
                g.config.optimizer,
                f"{g.fraction_solved:.1%} ({solved}/{g.runs})",
                "-" if g.median_epochs is None else f"{g.median_epochs:,.0f}",
                "-" if g.p90_epochs is None else f"{g.p90_epochs:,.0f}",
                *(str(g.outcomes[name]) for name in outcomes),
                "-" if math.isnan(q[1]) else f"{q[0]:.3g} / {q[1]:.3g} / {q[2]:.3g}",
                *([percent(g.median_train_accuracy), percent(g.median_test_accuracy)] if accuracy else []),
            ]
        )
    return _table(header, rows)


def sweep_csv(result: SweepResult) -> str:
    """One row per run: seed, learning_rate, hidden, optimizer, solved, epochs_to_solve (empty when not), final_loss,
    outcome, train_accuracy, test_accuracy (the final ones; empty without a test set). Solved is by the sweep's
    `SweepSpec.solved_rule`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["seed", "learning_rate", "hidden", "optimizer", "solved", "epochs_to_solve", "final_loss", "outcome",
                     "train_accuracy", "test_accuracy"])  # fmt: skip
    for i in range(len(result)):
        writer.writerow(
            [
                int(result.seed[i]),
                repr(float(result.learning_rate[i])),
                int(result.hidden[i]),
                result.optimizer[i],
                "true" if result.solved[i] else "false",
                int(result.epochs_to_solve[i]) if result.solved[i] else "",
                repr(float(result.final_loss[i])),
                result.outcome[i],
                *(
                    "" if math.isnan(v) else repr(float(v))
                    for v in (_at(result.final_train_accuracy, i), _at(result.final_test_accuracy, i))
                ),
            ]
        )
    return out.getvalue()


def _at(values: np.ndarray, i: int) -> float:
    return float(values[i]) if i < len(values) else math.nan


FIGURES = ("loss", "predictions", "decision-map", "weights", "window")


def history_csv(history: History, data: Dataset | None = None) -> str:
    """Per epoch: epoch, kind, then `history_columns(data)` (data: XOR unless given): loss, test_loss,
    train_accuracy, test_accuracy (nan without a test set) and, for data that records them (XOR), each training
    point's prediction (y_hat_00 ...). Past the exact part, one min and one max row per bucket (column 'kind' says
    which)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = history_columns(data or make_dataset())
    if len(names) != history.n_series:
        raise ValueError(f"the history has {history.n_series} values per epoch, but this data has {len(names)}")
    writer.writerow(["epoch", "kind", *names])
    for i, row in enumerate(history.exact().tolist()):
        writer.writerow([i + 1, "exact", *map(repr, row)])
    first, last, mins, maxs = history.summary()
    for f, l_, mn, mx in zip(first.tolist(), last.tolist(), mins.tolist(), maxs.tolist()):
        writer.writerow([f"{f}-{l_}", "min", *map(repr, mn)])
        writer.writerow([f"{f}-{l_}", "max", *map(repr, mx)])
    return out.getvalue()


def params_csv(params: Params, config: TrainConfig) -> str:
    """layer, name (W or b), row, column, value: one line per parameter."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["layer", "name", "row", "column", "value"])
    for layer, (W, b) in enumerate(params, start=1):
        for name, matrix in (("W", W), ("b", b)):
            for (r, c), value in np.ndenumerate(matrix):
                writer.writerow([layer, name, r, c, repr(float(value))])
    return out.getvalue()


def params_json(params: Params, config: TrainConfig) -> str:
    from .files import finite_or_none

    record = {"config": config.to_dict(), "params": [{"W": finite_or_none(W), "b": finite_or_none(b)} for W, b in params]}
    return json.dumps(record, allow_nan=False, indent=1) + "\n"
