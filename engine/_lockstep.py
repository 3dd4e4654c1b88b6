"""The lockstep sweep kernel: many runs of one config (one hidden layer), trained side by side. Private: `engine.sweep`
calls it.

One run's arithmetic is a long chain of dependent operations (each sample's forward pass needs the previous update),
whose latency the CPU cannot hide. Runs of a sweep are independent: here a group of `lanes` runs is interleaved in the
innermost loops (every quantity is an array (..., lanes), one column per run: "structure of arrays"), so that the CPU
overlaps their chains (their `exp` calls, divisions, updates) and vectorises the plain arithmetic across runs, and
`prange` spreads the groups over the cores. On XOR 2-2-1 (one thread) the throughput per run grows with the lanes up
to about 32-64 (4: 1.2x the one-run kernel `_kernels.sweep`, 8: 1.6x, 16: 2.1x, 32: 2.5x, 64: 2.6x); `lanes_for`
picks the lanes of a block. The lanes are a runtime number on purpose: with a constant count LLVM unrolls the short
lane loops instead of vectorising them (32 constant lanes measured 10 % slower than 32 runtime lanes).

Every run does exactly the arithmetic of `engine._kernels.train`'s one-hidden-layer path, in the same order (the same
`sigmoid`, `activate`, `activation_grad`, `output_delta`, `sample_loss`, `penalty_grad`; the same order of additions
for the epoch loss, a batch's gradient and the metrics; no fastmath, so no reassociation and no fused multiply-adds),
so each run is bit-identical to ``Trainer(config with its seed).run(epochs)``: the lanes only change which runs'
operations sit next to each other. A lane whose epoch loss is not finite stops there (its results are that epoch's,
as `Trainer.run` stops); its lock-mates go on, and a group whose lanes have all stopped ends.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from ._kernels import U, activate, activation_grad, output_delta, penalty_grad, sample_loss, sigmoid
from .codes import OPT_ADAM, OPT_MOMENTUM, OPT_SGD

MAX_LANES = 64  # runs per group at most: XOR's throughput per run stops growing there (see above)


def lanes_for(runs: int, threads: int | None = None) -> int:
    """Lanes per group for a block of `runs` runs on `threads` threads (Numba's current count by default): equal groups,
    at least one per thread, at most MAX_LANES runs each."""
    if runs < 1:
        return 1
    threads = numba.get_num_threads() if threads is None else threads
    per_thread = -(-runs // max(1, threads))
    groups_each = -(-per_thread // MAX_LANES)
    return max(1, -(-per_thread // groups_each))


@njit(cache=True, nogil=True)
def _forward(th, d, h, X, i, activation, v1, s, z_out, y_hat):
    """Sample X[i] through every lane's network: hidden activations into v1 (h, lanes), the output logit and ŷ into
    z_out, y_hat (lanes,); s (lanes,) is scratch. Per lane the sums of `_kernels.train`, in its order."""
    lanes = U(s.shape[0])
    one = U(1)
    ob1 = h * d
    ow2 = ob1 + h
    ob2 = ow2 + h
    for j in range(h):
        row = j * d
        x0 = X[i, 0]
        for lane in range(lanes):
            s[lane] = th[row, lane] * x0
        for c in range(one, d):
            xc = X[i, c]
            for lane in range(lanes):
                s[lane] += th[row + c, lane] * xc
        for lane in range(lanes):
            v1[j, lane] = activate(s[lane] + th[ob1 + j, lane], activation)
    for lane in range(lanes):
        s[lane] = th[ow2, lane] * v1[0, lane]
    for j in range(one, h):
        for lane in range(lanes):
            s[lane] += th[ow2 + j, lane] * v1[j, lane]
    for lane in range(lanes):
        z = s[lane] + th[ob2, lane]
        z_out[lane] = z
        y_hat[lane] = sigmoid(z)


@njit(cache=True, nogil=True)
def _evaluate(th, d, h, X, Y, activation, loss_kind, v1, s, z_out, y_hat, loss_out, accuracy_out):
    """Per lane, `_kernels._evaluate`: the mean reported loss and the accuracy over the rows of X (NaN for none)."""
    lanes = U(s.shape[0])
    n = U(X.shape[0])
    if n == 0:
        for lane in range(lanes):
            loss_out[lane] = np.nan
            accuracy_out[lane] = np.nan
        return
    total = np.zeros(lanes)
    right = np.zeros(lanes, dtype=np.int64)
    for i in range(n):
        _forward(th, d, h, X, i, activation, v1, s, z_out, y_hat)
        y = Y[i]
        for lane in range(lanes):
            total[lane] += sample_loss(y_hat[lane], z_out[lane], y, loss_kind)
            right[lane] += (y_hat[lane] >= 0.5) == (y >= 0.5)
    for lane in range(lanes):
        loss_out[lane] = total[lane] / float(n)
        accuracy_out[lane] = float(right[lane]) / float(n)


@njit(cache=True, nogil=True)
def _train_group(
    thetas, lo, hi, group_lanes, d, h, X, Y, X_test, Y_test,
    activation, loss_kind, batch_size, lr, optimizer, coef, l2, l1,
    n_epochs, margin, target_accuracy, check_epoch,
    final_loss, solved_epoch, final_predictions, check_loss, final_metrics, target_epoch,
):  # fmt: skip
    """Train runs lo..hi-1 (at most `group_lanes`) of `sweep` in lockstep; lanes past hi - lo repeat run lo and are
    ignored."""
    n = U(X.shape[0])
    n_params = U(thetas.shape[1])
    ob1 = h * d
    ow2 = ob1 + h
    ob2 = ow2 + h
    count = hi - lo
    lanes = U(group_lanes)  # unsigned, as every index here: no negative-index checks (see `_kernels.train`)
    th = np.empty((n_params, lanes))
    for k in range(group_lanes):
        r = lo + k if k < count else lo
        for p in range(n_params):
            th[p, k] = thetas[r, p]
    opt_m = np.zeros((n_params, lanes))
    opt_v = np.zeros((n_params, lanes))
    opt_t = np.zeros(1, dtype=np.int64)
    grad = np.zeros((n_params, lanes))
    v1 = np.empty((h, lanes))
    d1 = np.empty((h, lanes))
    s = np.empty(lanes)
    z_out = np.empty(lanes)
    y_hat = np.empty(lanes)
    d2 = np.empty(lanes)
    total = np.empty(lanes)
    right = np.empty(lanes, dtype=np.int64)
    loss = np.full(lanes, np.nan)  # NaN until an epoch ran, as `_kernels.sweep` leaves its outputs
    metrics = np.full((3, lanes), np.nan)  # test loss, train accuracy, test accuracy
    scratch = np.empty(lanes)
    n_pred = U(final_predictions.shape[1])
    record = n_pred > 0
    preds = np.full((n_pred, lanes), np.nan)
    solved = np.zeros(lanes, dtype=np.int64)
    target = np.zeros(lanes, dtype=np.int64)
    checked = np.full(lanes, np.nan)
    ok = np.empty(lanes, dtype=np.bool_)
    live = np.zeros(lanes, dtype=np.bool_)
    for lane in range(count):
        live[lane] = True
    running = count
    bs = U(batch_size)
    direct = batch_size == 1 and optimizer == OPT_SGD
    regularised = l2 != 0.0 or l1 != 0.0
    column = 2 if X_test.shape[0] > 0 else 1
    for epoch in range(n_epochs):
        for lane in range(lanes):
            total[lane] = 0.0
            right[lane] = 0
        start = U(0)
        while start < n:
            m = min(bs, n - start)
            if not direct:
                grad[:] = 0.0
            for i in range(start, start + m):
                y = Y[i]
                _forward(th, d, h, X, i, activation, v1, s, z_out, y_hat)
                for lane in range(lanes):
                    d2[lane] = output_delta(y_hat[lane], y, loss_kind)
                if direct:  # per hidden unit: its delta (from W2 before the update), then the updates
                    for j in range(h):
                        row = j * d
                        for lane in range(lanes):
                            w2j = th[ow2 + j, lane]
                            d1[j, lane] = (w2j * d2[lane]) * activation_grad(v1[j, lane], activation)
                            if regularised:
                                th[ow2 + j, lane] = w2j - lr * (d2[lane] * v1[j, lane] + penalty_grad(w2j, l2, l1))
                            else:
                                th[ow2 + j, lane] = w2j - lr * (d2[lane] * v1[j, lane])
                        for c in range(d):
                            xc = X[i, c]
                            if regularised:
                                for lane in range(lanes):
                                    w = th[row + c, lane]
                                    th[row + c, lane] = w - lr * (d1[j, lane] * xc + penalty_grad(w, l2, l1))
                            else:
                                for lane in range(lanes):
                                    th[row + c, lane] -= lr * (d1[j, lane] * xc)
                        for lane in range(lanes):
                            th[ob1 + j, lane] -= lr * d1[j, lane]
                    for lane in range(lanes):
                        th[ob2, lane] -= lr * d2[lane]
                else:
                    for j in range(h):
                        for lane in range(lanes):
                            d1[j, lane] = (th[ow2 + j, lane] * d2[lane]) * activation_grad(v1[j, lane], activation)
                    for j in range(h):
                        for lane in range(lanes):
                            grad[ow2 + j, lane] += d2[lane] * v1[j, lane]
                        row = j * d
                        for c in range(d):
                            xc = X[i, c]
                            for lane in range(lanes):
                                grad[row + c, lane] += d1[j, lane] * xc
                        for lane in range(lanes):
                            grad[ob1 + j, lane] += d1[j, lane]
                    for lane in range(lanes):
                        grad[ob2, lane] += d2[lane]
                if record:
                    for lane in range(lanes):
                        preds[i, lane] = y_hat[lane]
                        right[lane] += (y_hat[lane] >= 0.5) == (y >= 0.5)
                for lane in range(lanes):
                    total[lane] += sample_loss(y_hat[lane], z_out[lane], y, loss_kind)
            if direct:
                opt_t[0] += m
            else:
                _mean_gradient(grad, float(m), th, ob1, ow2, ob2, l2, l1, regularised)
                _apply_update(th, grad, lr, optimizer, coef, opt_m, opt_v, opt_t)
            start += m
        # the epoch's records, as `train` writes them, and `_kernels.sweep`'s bookkeeping of them
        for lane in range(lanes):
            loss[lane] = total[lane] / float(n)
        _evaluate(th, d, h, X_test, Y_test, activation, loss_kind, v1, s, z_out, y_hat, metrics[0], metrics[2])
        if record:
            for lane in range(lanes):
                metrics[1, lane] = float(right[lane]) / float(n)
        else:
            _evaluate(th, d, h, X, Y, activation, loss_kind, v1, s, z_out, y_hat, scratch, metrics[1])
        done = epoch + 1
        if record:
            for lane in range(lanes):
                ok[lane] = True
            for i in range(n_pred):
                yi = Y[i]
                for lane in range(lanes):
                    ok[lane] &= abs(preds[i, lane] - yi) < margin
            for lane in range(lanes):
                if ok[lane] and solved[lane] == 0:
                    solved[lane] = done
        for lane in range(lanes):
            if target[lane] == 0 and metrics[column, lane] >= target_accuracy:
                target[lane] = done
        if done == check_epoch:
            for lane in range(lanes):
                checked[lane] = loss[lane]
        for lane in range(count):
            if live[lane] and not math.isfinite(loss[lane]):  # diverged: this epoch is the run's last
                _finish(lane, lo + lane, th, loss, preds, metrics, solved, target, checked, thetas,
                        final_loss, solved_epoch, final_predictions, check_loss, final_metrics, target_epoch)  # fmt: skip
                live[lane] = False
                running -= 1
                for p in range(n_params):  # finite numbers from here on: the lane's work is ignored
                    th[p, lane] = 0.0
                    opt_m[p, lane] = 0.0
                    opt_v[p, lane] = 0.0
        if running == 0:
            break
    for lane in range(count):
        if live[lane]:
            _finish(lane, lo + lane, th, loss, preds, metrics, solved, target, checked, thetas,
                    final_loss, solved_epoch, final_predictions, check_loss, final_metrics, target_epoch)  # fmt: skip


@njit(cache=True, nogil=True)
def _finish(lane, r, th, loss, preds, metrics, solved, target, checked, thetas,
            final_loss, solved_epoch, final_predictions, check_loss, final_metrics, target_epoch):  # fmt: skip
    """Lane `lane`'s results (of its last epoch) into run r's rows of `sweep`'s outputs."""
    for p in range(thetas.shape[1]):
        thetas[r, p] = th[p, lane]
    final_loss[r] = loss[lane]
    for i in range(final_predictions.shape[1]):
        final_predictions[r, i] = preds[i, lane]
    for c in range(3):
        final_metrics[r, c] = metrics[c, lane]
    solved_epoch[r] = solved[lane]
    target_epoch[r] = target[lane]
    check_loss[r] = checked[lane]


@njit(cache=True, nogil=True)
def _mean_gradient(grad, m, th, ob1, ow2, ob2, l2, l1, regularised):
    """Per lane, `_kernels.mean_gradient` for one hidden layer (weights: [0, ob1) and [ow2, ob2))."""
    lanes = U(grad.shape[1])
    for p in range(grad.shape[0]):
        for lane in range(lanes):
            grad[p, lane] = grad[p, lane] / m
    if regularised:
        for p in range(ob1):
            for lane in range(lanes):
                grad[p, lane] = grad[p, lane] + penalty_grad(th[p, lane], l2, l1)
        for p in range(ow2, ob2):
            for lane in range(lanes):
                grad[p, lane] = grad[p, lane] + penalty_grad(th[p, lane], l2, l1)


@njit(cache=True, nogil=True)
def _apply_update(th, g, lr, optimizer, coef, opt_m, opt_v, opt_t):
    """Per lane, `_kernels.apply_update` (the lanes share the step count)."""
    opt_t[0] += 1
    n_params = g.shape[0]
    lanes = U(g.shape[1])
    if optimizer == OPT_SGD:
        for p in range(n_params):
            for lane in range(lanes):
                th[p, lane] -= lr * g[p, lane]
    elif optimizer == OPT_MOMENTUM:
        mu = coef[0]
        for p in range(n_params):
            for lane in range(lanes):
                opt_m[p, lane] = mu * opt_m[p, lane] + g[p, lane]
                th[p, lane] -= lr * opt_m[p, lane]
    elif optimizer == OPT_ADAM:
        beta1, beta2, eps = coef[1], coef[2], coef[3]
        t = opt_t[0]
        correction1 = 1.0 - beta1**t
        correction2 = 1.0 - beta2**t
        for p in range(n_params):
            for lane in range(lanes):
                gp = g[p, lane]
                opt_m[p, lane] = beta1 * opt_m[p, lane] + (1.0 - beta1) * gp
                opt_v[p, lane] = beta2 * opt_v[p, lane] + (1.0 - beta2) * (gp * gp)
                th[p, lane] -= lr * (opt_m[p, lane] / correction1) / (math.sqrt(opt_v[p, lane] / correction2) + eps)
    else:
        raise ValueError("unknown optimizer code")


@njit(cache=True, nogil=True, parallel=True)
def sweep(
    thetas, sizes, w_off, b_off, X, Y, X_test, Y_test,
    activation, loss_kind, batch_size, lr, optimizer, coef, l2, l1,
    n_epochs, lanes, margin, target_accuracy, check_epoch,
    final_loss, solved_epoch, final_predictions, check_loss, final_metrics, target_epoch,
):  # fmt: skip
    """`_kernels.sweep` for networks of one hidden layer, `lanes` runs at a time in lockstep (see `lanes_for`), the
    groups in parallel: the same arguments (`lanes` in the place of its `chunk`) and the same outputs. thetas
    (runs, n_params) end as each run's final parameters (a diverged run's: after its last epoch)."""
    if sizes.shape[0] != 3:
        raise ValueError("the lockstep kernel trains networks of one hidden layer")
    if lanes < 1:
        raise ValueError("lanes must be at least 1")
    d, h = U(sizes[0]), U(sizes[1])
    runs = thetas.shape[0]
    groups = (runs + lanes - 1) // lanes
    for g in prange(groups):
        lo = g * lanes
        _train_group(
            thetas, lo, min(runs, lo + lanes), lanes, d, h, X, Y, X_test, Y_test,
            activation, loss_kind, batch_size, lr, optimizer, coef, l2, l1,
            n_epochs, margin, target_accuracy, check_epoch,
            final_loss, solved_epoch, final_predictions, check_loss, final_metrics, target_epoch,
        )  # fmt: skip
