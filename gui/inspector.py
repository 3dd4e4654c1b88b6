"""The forward and backward pass of one sample, written as the notebook writes it, with the numbers.

`trace_html` turns an `engine.inspect.SampleTrace` into HTML for a QTextBrowser: each symbol beside its
value, matrices as small tables with their shapes (a big one summarised by its corner, norm, minimum and
maximum), each gradient beside its finite-difference estimate and their relative difference.
"""

from __future__ import annotations

import functools
import html
import itertools
import math

import numpy as np

from engine.features import is_identity
from engine.inspect import SampleTrace
from engine.optimizers import OPTIMIZERS, REGULARISED_GRADIENT

from .style import sample_label, unit_names

MAX_WRITTEN = 8  # a matrix with at most this many rows and columns is written out whole
SUMMARY_SHOWN = 4  # of a larger one, at most the first this many rows and columns (see `matrix`)
MAX_CELLS = 1200  # table cells in the text of one trace, about (see `written_limit`)
SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
DERIVATIVE = {"sigmoid": "σ′(z) = v(1 − v)", "tanh": "tanh′(z) = 1 − v²", "relu": "relu′(z) = 1 if z > 0 else 0"}
ACT = {"sigmoid": "σ", "tanh": "tanh", "relu": "relu"}

CSS = """
<style>
body { font-family: sans-serif; font-size: 10pt; }
h3 { margin: 10px 0 4px 0; color: #1f4e9c; }
table.m { border-collapse: collapse; margin: 2px 0 6px 0; }
td.v { font-family: monospace; text-align: right; padding: 1px 6px; border: 1px solid #dee2e6; white-space: nowrap; }
td.h { color: #868e96; border: none; text-align: center; }
.eq { font-family: serif; font-size: 11pt; }
.note { color: #868e96; }
.ok { color: #2b8a3e; } .bad { color: #c92a2a; }
td.wrap { vertical-align: top; padding-right: 14px; border: none; }
</style>
"""


def fmt(value: float) -> str:
    if not np.isfinite(value):
        return html.escape(str(value))
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.6f}".rstrip("0").rstrip(".") if abs(value) >= 1 else f"{value:.6g}"
    return f"{value:.4e}"


def sup(layer: int) -> str:
    return f"⁽{str(layer).translate(SUP)}⁾"


def matrix(values: np.ndarray, rows: list[str] | None = None, cols: list[str] | None = None, title: str = "",
           limit: int = MAX_WRITTEN, stats: dict | None = None) -> str:  # fmt: skip
    """A small table with row and column names and the shape. A matrix with more than `limit` rows or
    columns is summarised: its first few rows and columns (at most SUMMARY_SHOWN), "…" and "⋮" for the rest,
    and its norm, minimum and maximum."""
    values = np.atleast_2d(values)
    r, c = values.shape
    cut_r, cut_c = r > limit, c > limit
    nr, nc = _written(r, limit), _written(c, limit)
    out = [f"<div class='note'>{html.escape(title)} ({r:,}×{c:,})</div><table class='m'>"]
    if cols is not None or cut_c:
        heads = "".join(f"<td class='h'>{html.escape(n)}</td>" for n in (cols or [""] * nc)[:nc])
        out.append("<tr><td class='h'></td>" + heads + ("<td class='h'>…</td>" if cut_c else "") + "</tr>")
    for i in range(nr):  # cells of class v, not "table.m td": Qt matches class selectors much faster
        name = f"<td class='h'>{html.escape(rows[i])}</td>" if rows is not None else ""
        out.append("<tr>" + name + "".join(f"<td class='v'>{fmt(v)}</td>" for v in values[i, :nc]) + "</tr>")
    if cut_r:
        out.append(f"<tr><td class='h' colspan='{nc + (rows is not None)}'>⋮</td></tr>")
    out.append("</table>")
    if cut_r or cut_c:
        norm, low, high = _stats(values, {} if stats is None else stats)
        out.append(f"<div class='note'>first {nr}×{nc} shown; norm {fmt(norm)}, min {fmt(low)}, max {fmt(high)}</div>")
    return "".join(out)


def _stats(values: np.ndarray, known: dict) -> tuple[float, float, float]:
    """Norm, minimum and maximum of `values`, kept in `known` for the same array written again (W before the
    update is W of the forward pass): a big one's take milliseconds."""
    array, found = known.get(id(values), (None, None))
    if array is not values:  # `known` holds each array, so no other takes its id
        found = _norm(values), float(values.min()), float(values.max())
        known[id(values)] = (values, found)
    return found


def _norm(values: np.ndarray) -> float:
    """The Euclidean norm without overflow for entries near the float limit (a diverging run's weights): scaled by
    the largest magnitude first; inf or nan when an entry is."""
    largest = float(np.abs(values).max()) if values.size else 0.0  # nan when an entry is
    if not math.isfinite(largest) or largest == 0.0:
        return largest
    return largest * float(np.sqrt(np.sum(np.square(values / largest))))  # Python floats: inf past the limit, no warning


def _written(n: int, limit: int) -> int:
    """How many of a matrix's n rows (or columns) `matrix` writes out."""
    return n if n <= limit else min(limit, SUMMARY_SHOWN)


def _cells(r: int, c: int, limit: int) -> int:
    """Table cells `matrix` writes for an r×c matrix (with row names, and column names unless c is 1)."""
    nr, nc = _written(r, limit), _written(c, limit)
    header = nc + 1 + (c > limit) if c > 1 else 0
    return header + nr * (nc + 1) + (r > limit)


def written_limit(sizes: tuple[int, ...], finite_differences: bool) -> int:
    """The largest limit for `matrix` (MAX_WRITTEN, or fewer rows and columns for a big or deep network) at
    which `trace_html` writes at most about MAX_CELLS table cells: Qt lays out each in ~50-100 µs, and the
    text must not hold up the window."""
    for limit in (MAX_WRITTEN, 4, 3, 2):
        cells = 0
        for n_in, n_out in itertools.pairwise(sizes):
            # W, ∂W and the update's three (and finite differences'); b, z, v, δ and its two factors, ∂b, the update's
            # three (and finite differences'); the input
            cells += (5 + finite_differences) * _cells(n_out, n_in, limit)
            cells += (10 + finite_differences) * _cells(n_out, 1, limit) + _cells(n_in, 1, limit)
        if cells <= MAX_CELLS:
            return limit
    return limit


def side_by_side(*blocks: str) -> str:
    return "<table><tr>" + "".join(f"<td class='wrap'>{b}</td>" for b in blocks) + "</tr></table>"


def progress(epoch: int, samples_done: int, n_samples: int) -> str:
    """Where training stands, in the words every label of the Inspect tab uses: "after epoch 3" or
    "after sample 1 of 4 of epoch 4" (epoch 4 in progress; n_samples training points), "initial (epoch 0)"
    before any training."""
    if samples_done:
        return f"after sample {samples_done} of {n_samples} of epoch {epoch + 1:,}"
    return f"after epoch {epoch:,}" if epoch else "initial (epoch 0)"


def place_at(epoch: int, samples_done: int, n_samples: int) -> str:
    """'sample 2 of 4 of epoch 4': the sample trained next where training stands `progress(epoch, samples_done)`."""
    return f"sample {samples_done + 1} of {n_samples} of epoch {epoch + 1:,}"


def place(trace: SampleTrace, n_samples: int) -> str:
    """`place_at` for a stepped (or next) sample: its position in its epoch's order."""
    return place_at(trace.epoch, trace.samples_done, n_samples)


def weights_after(trace: SampleTrace, n_samples: int) -> str:
    """`progress` at the weights after the trace's update."""
    return progress(*trace.after, n_samples)


def trace_heading(trace: SampleTrace, n_samples: int) -> tuple[str, str]:
    """(title, detail): which sample, which weights, whether the update was made."""
    label = sample_label(trace.x, trace.y)
    now = progress(trace.epoch, trace.samples_done, n_samples)
    if trace.applied:
        title = f"{place(trace, n_samples).capitalize()}: {label}, just trained (Step sample)"
        detail = (f"The update below was made. Weights before it: {now}. "
                  f"Weights after it: {weights_after(trace, n_samples)}.")  # fmt: skip
    elif trace.next_up:
        title = f"{place(trace, n_samples).capitalize()}: {label}, the next sample to be trained"
        detail = f"Weights: {now}. The update below is what Step sample will make; it has not been made yet."
    else:
        title = f"Input {label}"
        detail = f"Weights: {now}. The update below is what one update on this input alone would make; it is not made"
        batch = trace.config.batch_size_for(n_samples)
        if trace.index is None:
            detail += " (not a training sample: training never updates on it)."
        elif batch > 1:
            detail += f" (mode {trace.config.mode} updates on {batch} samples at a time)."
        else:
            detail += f" (Step sample trains another input next, as {place(trace, n_samples)})."
    return title, detail


def trace_html(trace: SampleTrace) -> str:
    cfg = trace.config
    sizes = cfg.layer_sizes
    names = unit_names(sizes, cfg.features)
    n_layers = len(sizes) - 1
    title, detail = trace_heading(trace, trace.n_samples)
    m = functools.partial(matrix, limit=written_limit(sizes, trace.fd_grads is not None), stats={})
    parts = [CSS, f"<p><b>{html.escape(title)}</b><br>{html.escape(detail)}</p>"]

    # forward
    parts.append("<h3>Forward pass</h3>")
    a_prev, prev_name = trace.x, "x"
    if not is_identity(cfg.features):  # the network is fed the point's features
        parts.append(f"<p class='eq'>the point (x₁, x₂) = ({fmt(trace.x[0])}, {fmt(trace.x[1])}) enters as its features "
                     f"x = ({html.escape(', '.join(names[0]))})</p>")  # fmt: skip
        a_prev = trace.features_in
    for layer in range(n_layers):
        W, b = trace.params_before[layer]
        out_names, in_names = names[layer + 1], names[layer]
        l_ = sup(layer + 1)
        is_out = layer == n_layers - 1
        act_sym = "σ" if is_out else ACT[cfg.activation]
        a_name = "ŷ" if is_out else f"v{l_}"
        parts.append(f"<p class='eq'>z{l_} = W{l_} {prev_name} + b{l_},&nbsp;&nbsp; {a_name} = {act_sym}(z{l_})</p>")
        parts.append(
            side_by_side(
                m(W, out_names, in_names, f"W{l_}"),
                m(a_prev.reshape(-1, 1), in_names, None, prev_name),
                m(b, out_names, None, f"b{l_}"),
                m(trace.z[layer].reshape(-1, 1), out_names, None, f"z{l_}"),
                m(trace.a[layer].reshape(-1, 1), out_names, None, a_name),
            )
        )
        a_prev, prev_name = trace.a[layer], a_name

    # loss
    parts.append("<h3>Loss</h3>")
    if cfg.loss == "mse":
        parts.append(
            f"<p class='eq'>loss = (y − ŷ)² = ({trace.y:g} − {fmt(trace.y_hat)})² = <b>{fmt(trace.loss)}</b>"
            f"<br>the update descends L = ½(y − ŷ)² = {fmt(trace.objective)}</p>"
        )
    else:
        parts.append(f"<p class='eq'>L = −[y log ŷ + (1 − y) log(1 − ŷ)] = <b>{fmt(trace.loss)}</b> (from the logit, stably)</p>")

    # backward
    parts.append("<h3>Backward pass</h3>")
    d_out = trace.delta[-1][0]
    l_out = sup(n_layers)
    if cfg.loss == "mse":
        parts.append(
            f"<p class='eq'>δ{l_out} = (ŷ − y) · ŷ(1 − ŷ) = ({fmt(trace.y_hat)} − {trace.y:g}) · {fmt(trace.y_hat)}·(1 − "
            f"{fmt(trace.y_hat)}) = <b>{fmt(d_out)}</b></p>"
        )
    else:
        parts.append(f"<p class='eq'>δ{l_out} = ŷ − y = {fmt(trace.y_hat)} − {trace.y:g} = <b>{fmt(d_out)}</b></p>")
    for layer in range(n_layers - 2, -1, -1):
        l_, l_next = sup(layer + 1), sup(layer + 2)
        W_next = trace.params_before[layer + 1][0]
        back = W_next.T @ trace.delta[layer + 1]
        v = trace.a[layer]
        deriv = {"sigmoid": v * (1 - v), "tanh": 1 - v * v, "relu": (v > 0).astype(float)}[cfg.activation]
        parts.append(f"<p class='eq'>δ{l_} = (W{l_next}ᵀ δ{l_next}) ⊙ {DERIVATIVE[cfg.activation]}</p>")
        parts.append(
            side_by_side(
                m(back.reshape(-1, 1), names[layer + 1], None, f"W{l_next}ᵀ δ{l_next}"),
                m(deriv.reshape(-1, 1), names[layer + 1], None, "derivative"),
                m(trace.delta[layer].reshape(-1, 1), names[layer + 1], None, f"δ{l_}"),
            )
        )

    # gradients against finite differences
    parts.append("<h3>Gradients, checked by finite differences</h3>")
    worst = 0.0
    for layer in range(n_layers):
        l_ = sup(layer + 1)
        prev = "x" if layer == 0 else f"v{sup(layer)}"
        gW, gb = trace.grads[layer]
        rows, cols = names[layer + 1], names[layer]
        blocks = [m(gW, rows, cols, f"∂L/∂W{l_} = δ{l_} {prev}ᵀ"), m(gb, rows, None, f"∂L/∂b{l_} = δ{l_}")]
        if trace.fd_grads is not None:
            fW, fb = trace.fd_grads[layer]
            rel = max(float(trace.relative_difference(layer, 0).max()), float(trace.relative_difference(layer, 1).max()))
            worst = max(worst, rel)
            blocks += [m(fW, rows, cols, "finite differences, W"), m(fb, rows, None, "b")]
        parts.append(side_by_side(*blocks))
        if trace.fd_grads is not None:
            parts.append(f"<p class='note'>layer {layer + 1}: largest relative difference "
                         f"<span class='{'ok' if rel < 1e-6 else 'bad'}'>{rel:.1e}</span></p>")  # fmt: skip
    if trace.fd_grads is None:
        parts.append("<p class='note'>Finite differences are skipped for networks this large.</p>")
    elif worst >= 1e-6:
        parts.append(
            "<p class='note'>A large difference means the loss is not smooth here: a relu input at exactly 0 (a kink),"
            " or a saturated unit.</p>"
        )
    else:
        parts.append(f"<p class='note'>Backpropagation agrees with finite differences to {worst:.1e} (relative).</p>")

    # update
    parts.append("<h3>Update</h3>")
    optimizer = OPTIMIZERS[cfg.optimizer]
    values = "".join(f", {name} = {getattr(cfg, name):g}" for name in optimizer.uses)
    parts.append(f"<p class='eq'>{html.escape(cfg.optimizer)}, lr = {cfg.learning_rate:g}{values}:&nbsp;&nbsp; "
                 f"{html.escape(optimizer.formula)}<br>g = ∂L/∂p</p>")  # fmt: skip
    if cfg.l1 or cfg.l2:
        parts.append(f"<p class='eq'>λ2 = {cfg.l2:g}, λ1 = {cfg.l1:g}:&nbsp;&nbsp; {html.escape(REGULARISED_GRADIENT)}</p>")
    for layer in range(n_layers):
        l_ = sup(layer + 1)
        rows, cols = names[layer + 1], names[layer]
        (W0, b0), (W1, b1) = trace.params_before[layer], trace.params_after[layer]
        parts.append(
            side_by_side(
                m(W0, rows, cols, f"W{l_} before"),
                m(W1 - W0, rows, cols, "step"),
                m(W1, rows, cols, f"W{l_} after"),
            )
        )
        parts.append(side_by_side(m(b0, rows, None, f"b{l_} before"), m(b1 - b0, rows, None, "step"), m(b1, rows, None, "after")))
    return "".join(parts)
