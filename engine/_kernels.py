"""Numba kernels. Private: `engine.trainer` validates inputs and calls them.

Every kernel takes arrays and scalars only and runs a whole chunk of epochs per call, so Python never
loops per epoch or per sample. Parameters are one flat vector ``theta`` (see `engine.network.Layout`).

Per-sample rules (the reference notebook's, generalised):
    forward   z = W a_prev + b, a = act(z); output ŷ = sigmoid(z_out)
    output δ  mse: (ŷ - y)·ŷ(1 - ŷ)  (gradient of ½(y - ŷ)²);  bce: ŷ - y
    hidden δ  (Wᵀ δ_next)·act'(a), with act' from the activation: a(1 - a), 1 - a², [a > 0]
    gradient  ∂W = δ a_prevᵀ, ∂b = δ
A batch of m samples is forwarded with the parameters before its update, and the update uses the mean
gradient ``g = Σ ∂ / m``. Reported losses: mse (y - ŷ)², bce -y log ŷ - (1 - y) log(1 - ŷ);
the epoch loss is their mean over the samples, summed in visiting order.

Optimizer step for each parameter p with mean gradient g (t counts updates, from 1):
    sgd       p -= lr·g
    momentum  v = μ·v + g;  p -= lr·v
    adam      m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;  p -= lr·(m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + ε)

Training kernels return the number of epochs done: the chunk's length, or fewer when an epoch's loss is
not finite or below the target `stop_below` (that epoch is included).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .codes import BCE, MSE, OPT_ADAM, OPT_MOMENTUM, OPT_SGD, RELU, SIGMOID, TANH  # noqa: F401 (re-exported)

U = np.uint64  # index type: unsigned, so Numba skips negative-index wraparound

_EXP_LIMIT = 709.0  # exp(-z) overflows beyond ~709.78; below -709 sigmoid(z) equals exp(z) to the last bit


@njit(cache=True, nogil=True)
def sigmoid(z):
    """1 / (1 + exp(-z)), the notebook's formula; exp(z) where exp(-z) would overflow."""
    if z < -_EXP_LIMIT:
        return math.exp(z)
    return 1.0 / (1.0 + math.exp(-z))


@njit(cache=True, nogil=True)
def activate(z, kind):
    if kind == SIGMOID:
        return sigmoid(z)
    if kind == TANH:
        return math.tanh(z)
    return 0.0 if z <= 0.0 else z  # relu; NaN passes through


@njit(cache=True, nogil=True)
def activation_grad(a, kind):
    """act'(z) written with the activation a = act(z)."""
    if kind == SIGMOID:
        return a * (1.0 - a)
    if kind == TANH:
        return 1.0 - a * a
    return 1.0 if a > 0.0 else 0.0


@njit(cache=True, nogil=True)
def sample_loss(y_hat, z_out, y, loss_kind):
    """Reported loss of one sample: (y - ŷ)², or cross-entropy computed stably from the logit z_out."""
    if loss_kind == MSE:
        e = y - y_hat
        return e * e
    return max(z_out, 0.0) - z_out * y + math.log1p(math.exp(-abs(z_out)))


@njit(cache=True, nogil=True)
def output_delta(y_hat, y, loss_kind):
    """∂(per-sample loss)/∂z_out: (ŷ - y)·ŷ(1 - ŷ) for mse (of ½(y - ŷ)²), ŷ - y for bce."""
    if loss_kind == MSE:
        return (y_hat - y) * (y_hat * (1.0 - y_hat))
    return y_hat - y


@njit(cache=True, nogil=True)
def apply_update(theta, grad_sum, m, lr, optimizer, coef, opt_m, opt_v, opt_t):
    """One optimizer step with the mean gradient ``grad_sum / m``.

    theta, grad_sum, opt_m, opt_v: shape (n_params,). coef: (momentum, beta1, beta2, eps).
    opt_t: shape (1,), updates done so far (adam's t), incremented here.
    """
    opt_t[0] += 1
    if optimizer == OPT_SGD:
        for p in range(theta.size):
            theta[p] -= lr * (grad_sum[p] / m)
    elif optimizer == OPT_MOMENTUM:
        mu = coef[0]
        for p in range(theta.size):
            opt_m[p] = mu * opt_m[p] + grad_sum[p] / m
            theta[p] -= lr * opt_m[p]
    else:
        beta1, beta2, eps = coef[1], coef[2], coef[3]
        t = opt_t[0]
        correction1 = 1.0 - beta1**t
        correction2 = 1.0 - beta2**t
        for p in range(theta.size):
            g = grad_sum[p] / m
            opt_m[p] = beta1 * opt_m[p] + (1.0 - beta1) * g
            opt_v[p] = beta2 * opt_v[p] + (1.0 - beta2) * (g * g)
            theta[p] -= lr * (opt_m[p] / correction1) / (math.sqrt(opt_v[p] / correction2) + eps)


@njit(cache=True, nogil=True)
def train_one_hidden(
    theta, n_hidden, X, Y, orders, loss_out, pred_out,
    activation, loss_kind, batch_size, lr, optimizer, coef, opt_m, opt_v, opt_t, stop_below,
):  # fmt: skip
    """Train a network with exactly one hidden layer for ``loss_out.shape[0]`` epochs.

    theta: (n_params,) laid out W1 (h, d), b1 (h,), W2 (1, h), b2 (1,). X: (n, d). Y: (n,).
    orders: (n_epochs, n) visiting order per epoch, or shape (0, n) for dataset order.
    loss_out: (n_epochs,) epoch losses. pred_out: (n_epochs, n) each sample's ŷ, in dataset order,
    from the forward pass of its own update step. stop_below: end after the first epoch whose loss is
    below it (-inf: never).
    Returns the epochs done.

    Indices are unsigned (`U`) so that Numba emits no negative-index wraparound checks.
    """
    one = U(1)
    n, d = U(X.shape[0]), U(X.shape[1])
    h = U(n_hidden)
    bs = U(batch_size)
    ob1 = h * d
    ow2 = ob1 + h
    ob2 = ow2 + h
    n_epochs = U(loss_out.shape[0])
    shuffled = orders.shape[0] > 0
    direct = batch_size == 1 and optimizer == OPT_SGD
    v1 = np.empty(n_hidden)
    d1 = np.empty(n_hidden)
    grad = np.zeros(theta.size)
    for epoch in range(n_epochs):
        total = 0.0
        start = U(0)
        while start < n:
            m = min(bs, n - start)
            if not direct:
                grad[:] = 0.0
            for k in range(start, start + m):
                i = U(orders[epoch, k]) if shuffled else k
                # forward
                for j in range(h):
                    row = j * d
                    s = theta[row] * X[i, 0]
                    for c in range(one, d):
                        s += theta[row + c] * X[i, c]
                    v1[j] = activate(s + theta[ob1 + j], activation)
                s = theta[ow2] * v1[0]
                for j in range(one, h):
                    s += theta[ow2 + j] * v1[j]
                z2 = s + theta[ob2]
                y_hat = sigmoid(z2)
                y = Y[i]
                pred_out[epoch, i] = y_hat
                total += sample_loss(y_hat, z2, y, loss_kind)
                # backward
                d2 = output_delta(y_hat, y, loss_kind)
                if direct:  # one pass per hidden unit: its delta (from W2 before the update), then the updates
                    opt_t[0] += 1
                    for j in range(h):
                        w2j = theta[ow2 + j]
                        d1j = (w2j * d2) * activation_grad(v1[j], activation)
                        theta[ow2 + j] = w2j - lr * (d2 * v1[j])
                        row = j * d
                        for c in range(d):
                            theta[row + c] -= lr * (d1j * X[i, c])
                        theta[ob1 + j] -= lr * d1j
                    theta[ob2] -= lr * d2
                else:
                    for j in range(h):
                        d1[j] = (theta[ow2 + j] * d2) * activation_grad(v1[j], activation)
                    for j in range(h):
                        grad[ow2 + j] += d2 * v1[j]
                        row = j * d
                        for c in range(d):
                            grad[row + c] += d1[j] * X[i, c]
                        grad[ob1 + j] += d1[j]
                    grad[ob2] += d2
            if not direct:
                apply_update(theta, grad, float(m), lr, optimizer, coef, opt_m, opt_v, opt_t)
            start += m
        loss = total / float(n)
        loss_out[epoch] = loss
        if not math.isfinite(loss) or loss < stop_below:
            return np.int64(epoch) + 1
    return np.int64(n_epochs)


@njit(cache=True, nogil=True)
def _forward_sample(theta, sizes, w_off, b_off, x, acts, zs, activation):
    """Forward one sample into `acts` and its pre-activations into `zs` (both (n_units,)), layer after
    layer; returns the output logit. sizes, w_off, b_off: unsigned (see `train_deep`).
    """
    one = U(1)
    n_layers = U(sizes.shape[0] - 1)
    prev = U(0)  # start of the previous layer's activations in acts (unused for the input layer)
    out = U(0)  # start of this layer's activations
    z = 0.0
    for layer in range(n_layers):
        n_in = sizes[layer]
        n_out = sizes[layer + one]
        wo = w_off[layer]
        bo = b_off[layer]
        last = layer == n_layers - one
        for j in range(n_out):
            row = wo + j * n_in
            if layer == 0:
                s = theta[row] * x[0]
                for c in range(one, n_in):
                    s += theta[row + c] * x[c]
            else:
                s = theta[row] * acts[prev]
                for c in range(one, n_in):
                    s += theta[row + c] * acts[prev + c]
            z = s + theta[bo + j]
            zs[out + j] = z
            acts[out + j] = sigmoid(z) if last else activate(z, activation)
        prev = out
        out += n_out
    return z


@njit(cache=True, nogil=True)
def _backward_sample(theta, sizes, w_off, acts, deltas, d_out, activation):
    """Fill `deltas` (n_units,) from the output delta down to the first hidden layer."""
    one = U(1)
    n_layers = U(sizes.shape[0] - 1)
    n_units = U(deltas.shape[0])
    deltas[n_units - one] = d_out
    hi = n_units - one  # start of the layer above in acts/deltas
    for step in range(one, n_layers):
        layer = n_layers - step
        n_in = sizes[layer]
        n_out = sizes[layer + one]
        lo = hi - n_in
        wo = w_off[layer]
        for c in range(n_in):
            e = theta[wo + c] * deltas[hi]
            for j in range(one, n_out):
                e += theta[wo + j * n_in + c] * deltas[hi + j]
            deltas[lo + c] = e * activation_grad(acts[lo + c], activation)
        hi = lo


@njit(cache=True, nogil=True)
def _accumulate(grad, sizes, w_off, b_off, x, acts, deltas, scale, direct):
    """grad -= scale·(δ a_prevᵀ, δ) when `direct` (then `grad` is theta), else grad += (δ a_prevᵀ, δ)."""
    one = U(1)
    n_layers = U(sizes.shape[0] - 1)
    unit = U(0)
    prev = U(0)
    for layer in range(n_layers):
        n_in = sizes[layer]
        n_out = sizes[layer + one]
        wo = w_off[layer]
        bo = b_off[layer]
        for j in range(n_out):
            dj = deltas[unit + j]
            row = wo + j * n_in
            for c in range(n_in):
                a = x[c] if layer == 0 else acts[prev + c]
                if direct:
                    grad[row + c] -= scale * (dj * a)
                else:
                    grad[row + c] += dj * a
            if direct:
                grad[bo + j] -= scale * dj
            else:
                grad[bo + j] += dj
        if layer > 0:
            prev += n_in
        unit += n_out


@njit(cache=True, nogil=True)
def train_deep(
    theta, sizes, w_off, b_off, X, Y, orders, loss_out, pred_out,
    activation, loss_kind, batch_size, lr, optimizer, coef, opt_m, opt_v, opt_t, stop_below,
):  # fmt: skip
    """Train a network of any depth for ``loss_out.shape[0]`` epochs; arguments as `train_one_hidden`.

    sizes: (n_layers + 1,) units per layer, input first; w_off, b_off: (n_layers,) offsets into theta;
    all three uint64.
    """
    n = U(X.shape[0])
    bs = U(batch_size)
    n_units = 0
    for layer in range(1, sizes.shape[0]):
        n_units += sizes[layer]
    acts = np.empty(n_units)
    zs = np.empty(n_units)
    deltas = np.empty(n_units)
    out_unit = U(n_units - 1)
    grad = np.zeros(theta.size)
    n_epochs = U(loss_out.shape[0])
    shuffled = orders.shape[0] > 0
    direct = batch_size == 1 and optimizer == OPT_SGD
    for epoch in range(n_epochs):
        total = 0.0
        start = U(0)
        while start < n:
            m = min(bs, n - start)
            if not direct:
                grad[:] = 0.0
            for k in range(start, start + m):
                i = U(orders[epoch, k]) if shuffled else k
                x = X[i]
                z_out = _forward_sample(theta, sizes, w_off, b_off, x, acts, zs, activation)
                y_hat = acts[out_unit]
                y = Y[i]
                pred_out[epoch, i] = y_hat
                total += sample_loss(y_hat, z_out, y, loss_kind)
                _backward_sample(theta, sizes, w_off, acts, deltas, output_delta(y_hat, y, loss_kind), activation)
                if direct:
                    opt_t[0] += 1
                    _accumulate(theta, sizes, w_off, b_off, x, acts, deltas, lr, True)
                else:
                    _accumulate(grad, sizes, w_off, b_off, x, acts, deltas, lr, False)
            if not direct:
                apply_update(theta, grad, float(m), lr, optimizer, coef, opt_m, opt_v, opt_t)
            start += m
        loss = total / float(n)
        loss_out[epoch] = loss
        if not math.isfinite(loss) or loss < stop_below:
            return np.int64(epoch) + 1
    return np.int64(n_epochs)


@njit(cache=True, nogil=True)
def forward_all(theta, sizes, w_off, b_off, X, activation, out):
    """Every unit's activation for every row of X. X: (m, d). out: (m, n_units), output unit last."""
    zs = np.empty(out.shape[1])
    for r in range(X.shape[0]):
        _forward_sample(theta, sizes, w_off, b_off, X[r], out[r], zs, activation)


@njit(cache=True, nogil=True)
def block_min_max(src_min, src_max, factor, out_min, out_max):
    """out_min[b] = min of src_min[b*factor : (b+1)*factor] (per column); the same with max.

    src_min, src_max: (n, k); out_min, out_max: (m, k) with m * factor <= n.
    """
    m, k = out_min.shape
    for b in range(m):
        start = b * factor
        for c in range(k):
            lo = src_min[start, c]
            hi = src_max[start, c]
            for r in range(start + 1, start + factor):
                v = src_min[r, c]
                if v < lo or v != v:  # NaN wins, as with np.minimum
                    lo = v
                w = src_max[r, c]
                if w > hi or w != w:
                    hi = w
            out_min[b, c] = lo
            out_max[b, c] = hi


@njit(cache=True, nogil=True, parallel=True)
def sweep_one_hidden(
    thetas, n_hidden, X, Y, activation, loss_kind, batch_size, lr, optimizer, coef,
    n_epochs, chunk, margin, check_epoch, final_loss, solved_epoch, final_predictions, check_loss,
):  # fmt: skip
    """Train many one-hidden-layer networks in parallel (one per row of `thetas`), each for `n_epochs`.

    thetas: (runs, n_params), trained in place. Each run calls `train_one_hidden` on chunks of `chunk`
    epochs, so it is bit-identical to `Trainer.run`. final_loss: (runs,) the last epoch's loss (NaN-ish
    if it diverged). solved_epoch: (runs,) the first epoch whose recorded outputs are all within
    `margin` of their targets, or 0. final_predictions: (runs, n) the last epoch's recorded outputs.
    check_loss: (runs,) the loss of epoch `check_epoch` (1-based; NaN if not reached), to tell a plateau
    from a run still learning.
    """
    runs = thetas.shape[0]
    n = X.shape[0]
    for r in prange(runs):
        theta = thetas[r]
        opt_m = np.zeros(theta.size)
        opt_v = np.zeros(theta.size)
        opt_t = np.zeros(1, dtype=np.int64)
        orders = np.empty((0, n), dtype=np.int64)
        loss_buf = np.empty(chunk)
        pred_buf = np.empty((chunk, n))
        done = 0
        solved_epoch[r] = 0
        final_loss[r] = np.nan
        check_loss[r] = np.nan
        while done < n_epochs:
            k = min(chunk, n_epochs - done)
            ran = train_one_hidden(
                theta, n_hidden, X, Y, orders, loss_buf[:k], pred_buf[:k],
                activation, loss_kind, batch_size, lr, optimizer, coef, opt_m, opt_v, opt_t, -np.inf,
            )  # fmt: skip
            if solved_epoch[r] == 0:
                for e in range(ran):
                    ok = True
                    for i in range(n):
                        if not abs(pred_buf[e, i] - Y[i]) < margin:
                            ok = False
                            break
                    if ok:
                        solved_epoch[r] = done + e + 1
                        break
            if done < check_epoch <= done + ran:
                check_loss[r] = loss_buf[check_epoch - done - 1]
            if ran > 0:
                final_loss[r] = loss_buf[ran - 1]
                for i in range(n):
                    final_predictions[r, i] = pred_buf[ran - 1, i]
            done += ran
            if ran < k:  # diverged
                break


@njit(cache=True, nogil=True)
def sample_step(
    theta, sizes, w_off, b_off, x, y, activation, loss_kind, lr, optimizer, coef, opt_m, opt_v, opt_t, apply,
    acts, zs, deltas, grad,
):  # fmt: skip
    """One sample's forward pass, backward pass and (when `apply`) update, keeping every quantity.

    acts, zs, deltas: (n_units,) activations, pre-activations and deltas, hidden layers then output.
    grad: (n_params,) this sample's gradient (δ a_prevᵀ, δ). The update is the one the training kernels
    make for a batch of one sample, with the same arithmetic, so steps match them bit for bit.
    Returns the sample's reported loss.
    """
    n_units = deltas.shape[0]
    z_out = _forward_sample(theta, sizes, w_off, b_off, x, acts, zs, activation)
    y_hat = acts[n_units - 1]
    loss = sample_loss(y_hat, z_out, y, loss_kind)
    _backward_sample(theta, sizes, w_off, acts, deltas, output_delta(y_hat, y, loss_kind), activation)
    grad[:] = 0.0
    _accumulate(grad, sizes, w_off, b_off, x, acts, deltas, lr, False)
    if apply:
        if optimizer == OPT_SGD:
            opt_t[0] += 1
            _accumulate(theta, sizes, w_off, b_off, x, acts, deltas, lr, True)
        else:
            apply_update(theta, grad, 1.0, lr, optimizer, coef, opt_m, opt_v, opt_t)
    return loss


@njit(cache=True, nogil=True)
def sample_objective(theta, sizes, w_off, b_off, x, y, activation, loss_kind, acts, zs):
    """What one sample's update descends: ½(y - ŷ)² for mse, the cross-entropy for bce."""
    z_out = _forward_sample(theta, sizes, w_off, b_off, x, acts, zs, activation)
    y_hat = acts[acts.shape[0] - 1]
    if loss_kind == MSE:
        e = y - y_hat
        return 0.5 * (e * e)
    return sample_loss(y_hat, z_out, y, loss_kind)


@njit(cache=True, nogil=True)
def finite_difference_gradient(theta, sizes, w_off, b_off, x, y, activation, loss_kind, h, out):
    """Finite differences of `sample_objective` for every parameter (out (n_params,)), with the fourth-order
    central stencil (8(f(+s) - f(-s)) - (f(+2s) - f(-2s))) / 12s, s = h max(1, |θ|). theta is restored."""
    n_units = 0
    for layer in range(1, sizes.shape[0]):
        n_units += sizes[layer]
    acts = np.empty(n_units)
    zs = np.empty(n_units)
    for p in range(theta.size):
        keep = theta[p]
        step = h * max(1.0, abs(keep))
        values = np.empty(4)
        for k in range(4):
            theta[p] = keep + (1.0, -1.0, 2.0, -2.0)[k] * step
            values[k] = sample_objective(theta, sizes, w_off, b_off, x, y, activation, loss_kind, acts, zs)
        theta[p] = keep
        out[p] = (8.0 * (values[0] - values[1]) - (values[2] - values[3])) / (12.0 * step)
