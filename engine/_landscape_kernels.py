"""Numba kernels of the loss landscape. Private: `engine.landscape` validates inputs and calls them.

The loss at a point of the plane θ = θ* + a·d1 + b·d2 is the mean reported training loss at the parameters
``theta[k] + a * d1[k] + b * d2[k]`` (in that order, per parameter), computed by `_training_loss` with
`engine._kernels._evaluate`'s arithmetic, so the loss at a = b = 0 is the one `Trainer.evaluate` reports, bit for bit.
Every kernel runs its points in parallel (`prange`), each thread with its own scratch (the point's parameters, two
layers' activations), allocated once per run of points, never per sample.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._kernels import U, _evaluate, _n_units, activate, sample_loss, sigmoid


@njit(cache=True, nogil=True)
def _training_loss(theta, sizes, w_off, b_off, X, Y, activation, loss_kind, cur, nxt):
    """`engine._kernels._evaluate`'s mean loss over the rows of X (n >= 1), bit for bit, computed layer by layer.

    Each sample's pre-activation is summed in `_forward_sample`'s order (W[j, 0]·a[0], then + W[j, c]·a[c] for c = 1 ..,
    then + b[j]), goes through the same activation, and the losses are summed in row order: the same numbers. Looping
    over the samples inside each unit (not the units inside each sample) keeps a unit's weights in registers and makes
    no call per sample: about 30% faster than `_evaluate` on spiral's (8, 8) network. cur, nxt: (max hidden units, n)
    scratch, one layer's activations each.
    """
    one = U(1)
    n = U(X.shape[0])
    n_layers = U(sizes.shape[0] - 1)
    total = 0.0
    for layer in range(n_layers):
        n_in = sizes[layer]
        n_out = sizes[layer + one]
        wo = w_off[layer]
        bo = b_off[layer]
        last = layer == n_layers - one
        for j in range(n_out):
            row = wo + j * n_in
            bias = theta[bo + j]
            w_first = theta[row]
            for i in range(n):
                if layer == 0:
                    s = w_first * X[i, 0]
                    for c in range(one, n_in):
                        s += theta[row + c] * X[i, c]
                else:
                    s = w_first * cur[0, i]
                    for c in range(one, n_in):
                        s += theta[row + c] * cur[c, i]
                z = s + bias
                if last:
                    total += sample_loss(sigmoid(z), z, Y[i], loss_kind)
                else:
                    nxt[j, i] = activate(z, activation)
        cur, nxt = nxt, cur
    return total / float(n)


@njit(cache=True, nogil=True)
def _max_hidden(sizes):
    """The widest hidden layer's units (1 without hidden layers), as an int64."""
    width = 1
    for layer in range(1, sizes.shape[0] - 1):
        width = max(width, np.int64(sizes[layer]))
    return width


@njit(cache=True, nogil=True, parallel=True)
def grid_rows(theta, d1, d2, a, b, row_lo, row_hi, runs, sizes, w_off, b_off, X, Y, activation, loss_kind, out):
    """out[j, i] = the loss at theta + a[i]·d1 + b[j]·d2 for the rows j in [row_lo, row_hi) and every column i.

    theta, d1, d2: (n_params,). a: (n_a,), b: (n_b,). out: (n_b, n_a); rows outside the range are left alone.
    sizes, w_off, b_off: the layout's uint64 kernel arguments. X: (n, k) training features, Y: (n,) targets.
    The block's points (row-major) are split into `runs` contiguous runs (a few per thread), each with its own scratch.
    """
    n_a = a.shape[0]
    first = row_lo * n_a
    total = (row_hi - row_lo) * n_a
    runs = max(1, min(total, runs))
    n_params = theta.shape[0]
    width = _max_hidden(sizes)
    n = X.shape[0]
    for r in prange(runs):
        point = np.empty(n_params)
        cur = np.empty((width, n))
        nxt = np.empty((width, n))
        for p in range(first + r * total // runs, first + (r + 1) * total // runs):
            j = p // n_a
            i = p - j * n_a
            ai = a[i]
            bj = b[j]
            for k in range(n_params):
                point[k] = theta[k] + ai * d1[k] + bj * d2[k]
            out[j, i] = _training_loss(point, sizes, w_off, b_off, X, Y, activation, loss_kind, cur, nxt)


@njit(cache=True, nogil=True, parallel=True)
def plane_points(theta, d1, d2, a, b, sizes, w_off, b_off, X, Y, activation, loss_kind, out):
    """out[p] = the loss at theta + a[p]·d1 + b[p]·d2 for each of the points p (a, b, out: (m,)), as `grid_rows`."""
    n_params = theta.shape[0]
    width = _max_hidden(sizes)
    n = X.shape[0]
    for p in prange(a.shape[0]):
        point = np.empty(n_params)
        cur = np.empty((width, n))
        nxt = np.empty((width, n))
        ap = a[p]
        bp = b[p]
        for k in range(n_params):
            point[k] = theta[k] + ap * d1[k] + bp * d2[k]
        out[p] = _training_loss(point, sizes, w_off, b_off, X, Y, activation, loss_kind, cur, nxt)


@njit(cache=True, nogil=True, parallel=True)
def losses_at(thetas, sizes, w_off, b_off, X, Y, activation, loss_kind, out):
    """out[p] = the loss at thetas[p] (thetas (m, n_params), out (m,)): `Trainer.evaluate`'s training loss, bit for bit."""
    n_units = _n_units(sizes)
    for p in prange(thetas.shape[0]):
        acts = np.empty(n_units)
        zs = np.empty(n_units)
        out[p] = _evaluate(thetas[p], sizes, w_off, b_off, X, Y, activation, loss_kind, acts, zs)[0]
