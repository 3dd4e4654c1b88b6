"""Numba kernels. Private: `engine.trainer` validates inputs and calls them.

Every kernel takes arrays and scalars only and runs a whole chunk of epochs per call, so Python never
loops per epoch or per sample. Parameters are one flat vector ``theta`` (see `engine.network.Layout`).
Inputs are feature vectors (`engine.features.feature_matrix`): the first layer has one input per feature.
A config's settings arrive as the fields of `engine.kernel_args.KernelSettings`, in its order:
``activation, loss_kind, batch_size, lr, optimizer, coef, l2, l1``.

Per-sample rules (the reference notebook's, generalised):
    forward   z = W a_prev + b, a = act(z); output ŷ = sigmoid(z_out)
    output δ  mse: (ŷ - y)·ŷ(1 - ŷ)  (gradient of ½(y - ŷ)²);  bce: ŷ - y
    hidden δ  (Wᵀ δ_next)·act'(a), with act' from the activation: a(1 - a), 1 - a², [a > 0]
    gradient  ∂W = δ a_prevᵀ, ∂b = δ
A batch of m samples is forwarded with the parameters before its update, and the update uses the mean
gradient ``g = Σ ∂ / m``, plus, for each weight w (not the biases), the regularisers' ``λ2·w + λ1·sign(w)``
(sign(0) = 0) at the parameters before the update: the gradient of mean loss + (λ2/2)·Σw² + λ1·Σ|w|.
With λ1 = λ2 = 0 that term is skipped, not added as zero. Reported losses: mse (y - ŷ)², bce
-y log ŷ - (1 - y) log(1 - ŷ); the epoch loss is their mean over the samples, summed in visiting order
(the penalty is not part of any reported loss).

Optimizer step for each parameter p with gradient g (t counts updates, from 1):
    sgd       p -= lr·g
    momentum  v = μ·v + g;  p -= lr·v
    adam      m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;  p -= lr·(m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + ε)

One driver, `train`, runs the epochs and batches of every network. Its per-sample work is `_forward_sample`,
`_backward_sample` and `_accumulate` (any depth), or, for one hidden layer, a specialised routine written out in
the driver's loop: as a function it cost XOR 2-2-1 ~17% of its speed (Numba reference-counts the arrays passed
to each call, and ``inline="always"`` does not remove all of it; a wrapper around the deep calls cost ~19%).
Per-sample SGD updates the parameters during the backward pass ("direct"), without a gradient buffer.

Metrics at each epoch's final weights (`metrics_out` row: test loss, train accuracy, test accuracy): a point
is classified right when (ŷ ≥ 0.5) == (y ≥ 0.5). When predictions are recorded (`pred_out` has columns) the
train accuracy comes from them (the epoch's forward passes) instead of another pass over the training points.

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
def penalty_grad(w, l2, l1):
    """The regularisers' gradient at weight w: λ2·w + λ1·sign(w), sign(0) = 0."""
    s = 1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0)
    return l2 * w + l1 * s


@njit(cache=True, nogil=True)
def penalty(theta, sizes, w_off, b_off, l2, l1):
    """(λ2/2)·Σw² + λ1·Σ|w| over the weights (not the biases)."""
    sq = 0.0
    ab = 0.0
    for layer in range(w_off.shape[0]):
        for p in range(w_off[layer], b_off[layer]):
            w = theta[p]
            sq += w * w
            ab += abs(w)
    return 0.5 * l2 * sq + l1 * ab


@njit(cache=True, nogil=True)
def mean_gradient(grad, m, theta, w_off, b_off, l2, l1, regularised):
    """grad (the sum of m samples' gradients) -> the update's gradient, in place: grad / m, plus
    `penalty_grad` at theta for the weights when `regularised`."""
    for p in range(grad.size):
        grad[p] = grad[p] / m
    if regularised:
        for layer in range(w_off.shape[0]):
            for p in range(w_off[layer], b_off[layer]):
                grad[p] = grad[p] + penalty_grad(theta[p], l2, l1)


@njit(cache=True, nogil=True)
def apply_update(theta, g, lr, optimizer, coef, opt_m, opt_v, opt_t):
    """One optimizer step with the update's gradient g (see `mean_gradient`); one branch per kernel step.

    theta, g, opt_m, opt_v: shape (n_params,). coef: (momentum, beta1, beta2, eps).
    opt_t: shape (1,), updates done so far (adam's t), incremented here.
    """
    opt_t[0] += 1
    if optimizer == OPT_SGD:
        for p in range(theta.size):
            theta[p] -= lr * g[p]
    elif optimizer == OPT_MOMENTUM:
        mu = coef[0]
        for p in range(theta.size):
            opt_m[p] = mu * opt_m[p] + g[p]
            theta[p] -= lr * opt_m[p]
    elif optimizer == OPT_ADAM:
        beta1, beta2, eps = coef[1], coef[2], coef[3]
        t = opt_t[0]
        correction1 = 1.0 - beta1**t
        correction2 = 1.0 - beta2**t
        for p in range(theta.size):
            gp = g[p]
            opt_m[p] = beta1 * opt_m[p] + (1.0 - beta1) * gp
            opt_v[p] = beta2 * opt_v[p] + (1.0 - beta2) * (gp * gp)
            theta[p] -= lr * (opt_m[p] / correction1) / (math.sqrt(opt_v[p] / correction2) + eps)
    else:
        raise ValueError("unknown optimizer code")


@njit(cache=True, nogil=True)
def _forward_sample(theta, sizes, w_off, b_off, X, r, acts, zs, activation):
    """Forward sample X[r] into `acts` and its pre-activations into `zs` (both (n_units,)), layer after
    layer; returns the output logit (the sample is passed as X and r: a row view would cost reference counts).
    sizes, w_off, b_off: unsigned (see `train`).
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
                s = theta[row] * X[r, 0]
                for c in range(one, n_in):
                    s += theta[row + c] * X[r, c]
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
def _accumulate(grad, sizes, w_off, b_off, X, r, acts, deltas, scale, direct, l2, l1, regularised):
    """grad -= scale·(δ a_prevᵀ + penalty_grad(w) when regularised, δ) when `direct` (then `grad` is theta),
    else grad += (δ a_prevᵀ, δ)."""
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
                a = X[r, c] if layer == 0 else acts[prev + c]
                if direct:
                    if regularised:
                        w = grad[row + c]
                        grad[row + c] = w - scale * (dj * a + penalty_grad(w, l2, l1))
                    else:
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
def _n_units(sizes):
    n = 0
    for layer in range(1, sizes.shape[0]):
        n += sizes[layer]
    return n


@njit(cache=True, nogil=True)
def _evaluate(theta, sizes, w_off, b_off, X, Y, activation, loss_kind, acts, zs):
    """(mean reported loss, accuracy) over the rows of X at theta; (NaN, NaN) for no rows."""
    n = U(X.shape[0])  # unsigned, as in `train`: no negative-index checks in the forward pass
    if n == 0:
        return np.nan, np.nan
    out = U(acts.shape[0] - 1)
    total = 0.0
    right = 0
    for i in range(n):
        z_out = _forward_sample(theta, sizes, w_off, b_off, X, i, acts, zs, activation)
        y_hat = acts[out]
        y = Y[i]
        total += sample_loss(y_hat, z_out, y, loss_kind)
        right += (y_hat >= 0.5) == (y >= 0.5)
    return total / float(n), float(right) / float(n)


@njit(cache=True, nogil=True)
def evaluate(theta, sizes, w_off, b_off, X, Y, activation, loss_kind):
    """(mean reported loss, accuracy) over the points X (m, k features), Y (m,) at theta; NaNs when m = 0."""
    n_units = _n_units(sizes)
    return _evaluate(theta, sizes, w_off, b_off, X, Y, activation, loss_kind, np.empty(n_units), np.empty(n_units))


@njit(cache=True, nogil=True)
def recorded_accuracy(predictions, Y):
    """Fraction of the points whose recorded ŷ (predictions (n,)) is on the side of 0.5 of its target."""
    right = 0
    for i in range(Y.shape[0]):
        if (predictions[i] >= 0.5) == (Y[i] >= 0.5):
            right += 1
    return float(right) / float(Y.shape[0])


@njit(cache=True, nogil=True)
def train(
    theta, sizes, w_off, b_off, X, Y, orders, loss_out, pred_out, X_test, Y_test, metrics_out,
    activation, loss_kind, batch_size, lr, optimizer, coef, l2, l1, opt_m, opt_v, opt_t, stop_below,
):  # fmt: skip
    """Train a network for ``loss_out.shape[0]`` epochs: the one epoch and batch driver.

    theta: (n_params,); sizes: (n_layers + 1,) units per layer, features first; w_off, b_off: (n_layers,)
    offsets into theta; all three uint64. X: (n, k) training features. Y: (n,). orders: (n_epochs, n)
    visiting order per epoch, or shape (0, n) for dataset order. loss_out: (n_epochs,) epoch losses.
    pred_out: (n_epochs, n) each sample's ŷ, in dataset order, from the forward pass of its own update step;
    (n_epochs, 0) to record none. X_test: (n_test, k), Y_test: (n_test,) test points (n_test may be 0).
    metrics_out: (n_epochs, 3) test loss, train accuracy, test accuracy at each epoch's final weights (NaN
    without test points), or (0, 3) to compute none. stop_below: end after the first epoch whose loss is
    below it (-inf: never). Returns the epochs done.

    Indices are unsigned (`U`) so that Numba emits no negative-index wraparound checks.
    """
    n = U(X.shape[0])
    bs = U(batch_size)
    n_units = _n_units(sizes)
    acts = np.empty(n_units)
    zs = np.empty(n_units)
    deltas = np.empty(n_units)
    grad = np.zeros(theta.size)
    one_hidden = sizes.shape[0] == 3
    one = U(1)
    d, h = U(sizes[0]), U(sizes[1])  # one hidden layer: its offsets in theta, and its scratch
    ob1 = h * d
    ow2 = ob1 + h
    ob2 = ow2 + h
    v1 = acts
    d1 = deltas
    out_unit = U(n_units - 1)
    n_epochs = U(loss_out.shape[0])
    shuffled = orders.shape[0] > 0
    record = pred_out.shape[1] > 0
    metrics = metrics_out.shape[0] > 0
    direct = batch_size == 1 and optimizer == OPT_SGD
    regularised = l2 != 0.0 or l1 != 0.0
    for epoch in range(n_epochs):
        total = 0.0
        right = 0
        start = U(0)
        while start < n:
            m = min(bs, n - start)
            if not direct:
                grad[:] = 0.0
            for k in range(start, start + m):
                i = U(orders[epoch, k]) if shuffled else k
                y = Y[i]
                if one_hidden:  # W1 (h, d), b1 (h,), W2 (1, h), b2 (1,); written out here, not called: see above
                    for j in range(h):
                        row = j * d
                        s = theta[row] * X[i, 0]
                        for c in range(one, d):
                            s += theta[row + c] * X[i, c]
                        v1[j] = activate(s + theta[ob1 + j], activation)
                    s = theta[ow2] * v1[0]
                    for j in range(one, h):
                        s += theta[ow2 + j] * v1[j]
                    z_out = s + theta[ob2]
                    y_hat = sigmoid(z_out)
                    d2 = output_delta(y_hat, y, loss_kind)
                    if direct:  # one pass per hidden unit: its delta (from W2 before the update), then the updates
                        for j in range(h):
                            w2j = theta[ow2 + j]
                            d1j = (w2j * d2) * activation_grad(v1[j], activation)
                            row = j * d
                            if regularised:
                                theta[ow2 + j] = w2j - lr * (d2 * v1[j] + penalty_grad(w2j, l2, l1))
                                for c in range(d):
                                    w = theta[row + c]
                                    theta[row + c] = w - lr * (d1j * X[i, c] + penalty_grad(w, l2, l1))
                            else:
                                theta[ow2 + j] = w2j - lr * (d2 * v1[j])
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
                else:  # any depth
                    z_out = _forward_sample(theta, sizes, w_off, b_off, X, i, acts, zs, activation)
                    y_hat = acts[out_unit]
                    _backward_sample(theta, sizes, w_off, acts, deltas, output_delta(y_hat, y, loss_kind), activation)
                    if direct:
                        _accumulate(theta, sizes, w_off, b_off, X, i, acts, deltas, lr, True, l2, l1, regularised)
                    else:
                        _accumulate(grad, sizes, w_off, b_off, X, i, acts, deltas, lr, False, l2, l1, regularised)
                if record:
                    pred_out[epoch, i] = y_hat
                    right += (y_hat >= 0.5) == (y >= 0.5)  # the train accuracy of the recorded predictions
                total += sample_loss(y_hat, z_out, y, loss_kind)
            if direct:
                opt_t[0] += m
            else:
                mean_gradient(grad, float(m), theta, w_off, b_off, l2, l1, regularised)
                apply_update(theta, grad, lr, optimizer, coef, opt_m, opt_v, opt_t)
            start += m
        loss = total / float(n)
        loss_out[epoch] = loss
        if metrics:  # no calls where none are needed (XOR): each costs reference counts
            test_loss = test_accuracy = np.nan
            if X_test.shape[0] > 0:
                test_loss, test_accuracy = _evaluate(theta, sizes, w_off, b_off, X_test, Y_test, activation, loss_kind, acts, zs)
            if record:  # counted as the predictions were recorded (as `recorded_accuracy`)
                train_accuracy = float(right) / float(n)
            else:
                train_accuracy = _evaluate(theta, sizes, w_off, b_off, X, Y, activation, loss_kind, acts, zs)[1]
            metrics_out[epoch, 0] = test_loss
            metrics_out[epoch, 1] = train_accuracy
            metrics_out[epoch, 2] = test_accuracy
        if not math.isfinite(loss) or loss < stop_below:
            return np.int64(epoch) + 1
    return np.int64(n_epochs)


@njit(cache=True, nogil=True)
def forward_all(theta, sizes, w_off, b_off, X, activation, out):
    """Every unit's activation for every row of X. X: (m, k features). out: (m, n_units), output unit last."""
    zs = np.empty(out.shape[1])
    for r in range(X.shape[0]):
        _forward_sample(theta, sizes, w_off, b_off, X, r, out[r], zs, activation)


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
def sweep(
    thetas, sizes, w_off, b_off, X, Y, X_test, Y_test,
    activation, loss_kind, batch_size, lr, optimizer, coef, l2, l1,
    n_epochs, chunk, margin, target_accuracy, check_epoch,
    final_loss, solved_epoch, final_predictions, check_loss, final_metrics, target_epoch,
):  # fmt: skip
    """Train many networks in parallel (one per row of `thetas`), each for `n_epochs`, in dataset order.

    thetas: (runs, n_params), trained in place. Each run calls `train` on chunks of `chunk` epochs, so it
    is bit-identical to `Trainer.run`. Per run: final_loss (runs,) the last epoch's loss (not finite if it
    diverged); final_predictions (runs, n) the last epoch's recorded outputs, or (runs, 0) to record none;
    solved_epoch (runs,) the first epoch whose recorded outputs are all within `margin` of their targets
    (0: never, or nothing recorded); final_metrics (runs, 3) the last epoch's test loss, train accuracy and
    test accuracy; target_epoch (runs,) the first epoch whose test accuracy (the train accuracy when there
    are no test points) is >= target_accuracy, or 0; check_loss (runs,) the loss of epoch `check_epoch`
    (1-based; NaN if not reached), to tell a plateau from a run still learning.
    """
    runs = thetas.shape[0]
    n = X.shape[0]
    n_pred = final_predictions.shape[1]
    column = 2 if X_test.shape[0] > 0 else 1
    for r in prange(runs):
        theta = thetas[r]
        opt_m = np.zeros(theta.size)
        opt_v = np.zeros(theta.size)
        opt_t = np.zeros(1, dtype=np.int64)
        orders = np.empty((0, n), dtype=np.int64)
        loss_buf = np.empty(chunk)
        pred_buf = np.empty((chunk, n_pred))
        metrics_buf = np.empty((chunk, 3))
        done = 0
        solved_epoch[r] = 0
        target_epoch[r] = 0
        final_loss[r] = np.nan
        check_loss[r] = np.nan
        for c in range(3):
            final_metrics[r, c] = np.nan
        while done < n_epochs:
            k = min(chunk, n_epochs - done)
            ran = train(
                theta, sizes, w_off, b_off, X, Y, orders, loss_buf[:k], pred_buf[:k], X_test, Y_test, metrics_buf[:k],
                activation, loss_kind, batch_size, lr, optimizer, coef, l2, l1, opt_m, opt_v, opt_t, -np.inf,
            )  # fmt: skip
            if solved_epoch[r] == 0 and n_pred > 0:
                for e in range(ran):
                    ok = True
                    for i in range(n_pred):
                        if not abs(pred_buf[e, i] - Y[i]) < margin:
                            ok = False
                            break
                    if ok:
                        solved_epoch[r] = done + e + 1
                        break
            if target_epoch[r] == 0:
                for e in range(ran):
                    if metrics_buf[e, column] >= target_accuracy:
                        target_epoch[r] = done + e + 1
                        break
            if done < check_epoch <= done + ran:
                check_loss[r] = loss_buf[check_epoch - done - 1]
            if ran > 0:
                final_loss[r] = loss_buf[ran - 1]
                for i in range(n_pred):
                    final_predictions[r, i] = pred_buf[ran - 1, i]
                for c in range(3):
                    final_metrics[r, c] = metrics_buf[ran - 1, c]
            done += ran
            if ran < k:  # diverged
                break


@njit(cache=True, nogil=True)
def batch_gradient(theta, sizes, w_off, b_off, X, Y, activation, loss_kind, l2, l1, grad):
    """The gradient a full-batch update takes at theta, into grad (n_params,): the mean over the rows of X (n, k)
    with targets Y (n,) of (δ a_prevᵀ, δ), summed in row order as `train` sums a batch, plus the regularisers' term."""
    n_units = _n_units(sizes)
    acts = np.empty(n_units)
    zs = np.empty(n_units)
    deltas = np.empty(n_units)
    grad[:] = 0.0
    for r in range(X.shape[0]):
        _forward_sample(theta, sizes, w_off, b_off, X, r, acts, zs, activation)
        y_hat = acts[n_units - 1]
        _backward_sample(theta, sizes, w_off, acts, deltas, output_delta(y_hat, Y[r], loss_kind), activation)
        _accumulate(grad, sizes, w_off, b_off, X, r, acts, deltas, 1.0, False, l2, l1, False)
    mean_gradient(grad, float(X.shape[0]), theta, w_off, b_off, l2, l1, l2 != 0.0 or l1 != 0.0)


@njit(cache=True, nogil=True)
def sample_step(
    theta, sizes, w_off, b_off, x, y, activation, loss_kind, lr, optimizer, coef, l2, l1, opt_m, opt_v, opt_t, apply,
    acts, zs, deltas, grad,
):  # fmt: skip
    """One sample's forward pass, backward pass and (when `apply`) update, keeping every quantity.

    x: (k,) the sample's features. acts, zs, deltas: (n_units,) activations, pre-activations and deltas,
    hidden layers then output. grad: (n_params,) the gradient this sample's update uses: (δ a_prevᵀ, δ) plus
    the regularisers' term on the weights at theta before the update. The update is the one `train` makes
    for a batch of one sample, with the same arithmetic, so steps match it bit for bit.
    Returns the sample's reported loss.
    """
    n_units = deltas.shape[0]
    regularised = l2 != 0.0 or l1 != 0.0
    X = x.reshape((1, x.size))
    z_out = _forward_sample(theta, sizes, w_off, b_off, X, 0, acts, zs, activation)
    y_hat = acts[n_units - 1]
    loss = sample_loss(y_hat, z_out, y, loss_kind)
    _backward_sample(theta, sizes, w_off, acts, deltas, output_delta(y_hat, y, loss_kind), activation)
    grad[:] = 0.0
    _accumulate(grad, sizes, w_off, b_off, X, 0, acts, deltas, lr, False, l2, l1, regularised)
    mean_gradient(grad, 1.0, theta, w_off, b_off, l2, l1, regularised)  # at theta before the update
    if apply:
        if optimizer == OPT_SGD:  # as `train`'s direct path does it
            opt_t[0] += 1
            _accumulate(theta, sizes, w_off, b_off, X, 0, acts, deltas, lr, True, l2, l1, regularised)
        else:
            apply_update(theta, grad, lr, optimizer, coef, opt_m, opt_v, opt_t)
    return loss


@njit(cache=True, nogil=True)
def sample_objective(theta, sizes, w_off, b_off, x, y, activation, loss_kind, acts, zs):
    """What one sample's update descends, without the regularisers: ½(y - ŷ)² for mse, the cross-entropy for bce."""
    z_out = _forward_sample(theta, sizes, w_off, b_off, x.reshape((1, x.size)), 0, acts, zs, activation)
    y_hat = acts[acts.shape[0] - 1]
    if loss_kind == MSE:
        e = y - y_hat
        return 0.5 * (e * e)
    return sample_loss(y_hat, z_out, y, loss_kind)


@njit(cache=True, nogil=True)
def finite_difference_gradient(theta, sizes, w_off, b_off, x, y, activation, loss_kind, l2, l1, h, out):
    """Finite differences of the regularised sample objective, `sample_objective` + (λ2/2)·Σw² + λ1·Σ|w|, for
    every parameter (out (n_params,)), with the fourth-order central stencil (8(f(+s) - f(-s)) - (f(+2s) - f(-2s)))
    / 12s, s = h max(1, |θ|). Of the penalty only the varied weight's own term is evaluated (the others are
    constant and would only add rounding). theta is restored. L1 has a kink at w = 0: weights within 2s of 0
    do not get its derivative."""
    n_units = _n_units(sizes)
    acts = np.empty(n_units)
    zs = np.empty(n_units)
    is_weight = np.zeros(theta.size, dtype=np.bool_)
    for layer in range(w_off.shape[0]):
        for p in range(w_off[layer], b_off[layer]):
            is_weight[p] = True
    values = np.empty(4)
    for p in range(theta.size):
        keep = theta[p]
        step = h * max(1.0, abs(keep))
        for k in range(4):
            w = keep + (1.0, -1.0, 2.0, -2.0)[k] * step
            theta[p] = w
            f = sample_objective(theta, sizes, w_off, b_off, x, y, activation, loss_kind, acts, zs)
            if is_weight[p]:
                f += 0.5 * l2 * (w * w) + l1 * abs(w)
            values[k] = f
        theta[p] = keep
        out[p] = (8.0 * (values[0] - values[1]) - (values[2] - values[3])) / (12.0 * step)
