"""Text tables and CSV files for the compare and sweep commands."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

from .compare import Comparison, RunSummary, updates_per_epoch
from .config import TrainConfig
from .history import History
from .network import Params
from .sweep import OUTCOMES, GroupSummary, SweepResult


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


def compare_table(summaries: list[RunSummary], target_loss: float) -> str:
    header = ["run", f"epochs to {target_loss:g}", "updates", "gradient evals", "seconds", "final loss", "solved"]
    rows = [
        [
            s.label,
            _int(s.epochs_to_target),
            _int(s.updates_to_target),
            _int(s.gradient_evaluations_to_target),
            _seconds(s.seconds_to_target),
            "diverged" if s.diverged else f"{s.final_loss:.4g}",
            "yes" if s.solved else "no",
        ]
        for s in summaries
    ]
    return _table(header, rows)


def compare_csv(comparison: Comparison) -> str:
    """Every epoch of every run: run, label, epoch, updates, gradient_evaluations, seconds, loss."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["run", "label", "epoch", "updates", "gradient_evaluations", "seconds", "loss"])
    for i, (label, config) in enumerate(zip(comparison.labels, comparison.configs)):
        loss, seconds = comparison.loss(i), comparison.seconds(i)
        epochs = np.arange(1, len(loss) + 1)
        per_update = updates_per_epoch(config)
        for e, s, v in zip(epochs.tolist(), seconds.tolist(), loss.tolist()):
            writer.writerow([i + 1, label, e, e * per_update, e * 4, f"{s:.9f}", repr(v)])
    return out.getvalue()


def sweep_table(groups: list[GroupSummary]) -> str:
    header = [
        "learning rate",
        "hidden",
        "optimizer",
        "solved",
        "median epochs",
        "90th pct",
        *OUTCOMES[1:],
        "final loss (quartiles)",
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
                *(str(g.outcomes[name]) for name in OUTCOMES[1:]),
                "-" if math.isnan(q[1]) else f"{q[0]:.3g} / {q[1]:.3g} / {q[2]:.3g}",
            ]
        )
    return _table(header, rows)


def sweep_csv(result: SweepResult) -> str:
    """One row per run: seed, learning_rate, hidden, optimizer, solved, epochs_to_solve (empty when not), final_loss, outcome."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["seed", "learning_rate", "hidden", "optimizer", "solved", "epochs_to_solve", "final_loss", "outcome"])
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
            ]
        )
    return out.getvalue()


FIGURES = ("loss", "predictions", "decision-map", "weights", "window")


def history_csv(history: History) -> str:
    """Per epoch: epoch, loss, and the 4 predictions. Past the exact part, one min and one max row per bucket
    (column 'kind' says which)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = ["loss", "y_hat_00", "y_hat_01", "y_hat_10", "y_hat_11"][: history.n_series]
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
