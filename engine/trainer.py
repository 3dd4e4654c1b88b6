"""`Trainer`: owns one network's parameters and optimizer state and trains it chunk by chunk."""

from __future__ import annotations

import dataclasses
import itertools
import numbers
from dataclasses import dataclass

import numpy as np

from .codes import ACTIVATION_CODES, LOSS_CODES, OPTIMIZER_CODES
from .config import TrainConfig
from .inspect import FD_STEP, MAX_FD_PARAMS, SampleTrace
from .network import Layout, Params, initial_theta

XOR_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_TARGETS = np.array([0.0, 1.0, 1.0, 0.0])
for _arr in (XOR_INPUTS, XOR_TARGETS):
    _arr.flags.writeable = False

MAX_CHUNK_EPOCHS = 10_000_000  # one run() call allocates (n_epochs, 1 + n_samples) float64
_SHUFFLE_SLAB = 1 << 16  # epochs of shuffle orders drawn per kernel call


def kernels():
    """The Numba kernels module, imported on first use: importing Numba takes about 0.4 s, and a window
    should be able to show itself before that."""
    from . import _kernels

    return _kernels


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class Chunk:
    """What one `Trainer.run` call trained. Arrays are read-only.

    epochs: (n,) 1-based epoch numbers. loss: (n,) epoch losses. predictions: (n, n_samples) every
    sample's ŷ in dataset order (for XOR the 4 inputs (0,0), (0,1), (1,0), (1,1)), from the forward pass
    that the epoch's loss comes from. diverged: the last epoch's loss is not finite (or training had
    already diverged, and the chunk is empty). reached_target: the chunk ended early because the last
    epoch's loss fell below `run`'s ``stop_below``.
    """

    epochs: np.ndarray
    loss: np.ndarray
    predictions: np.ndarray
    diverged: bool
    reached_target: bool = False

    def __len__(self) -> int:
        return len(self.epochs)


@dataclass(frozen=True)
class TrainerState:
    """A trainer's complete state. theta, initial_theta, opt_m, opt_v: (n_params,). rng_state: the shuffle
    generator's ``bit_generator.state`` (a JSON-friendly dict)."""

    theta: np.ndarray
    initial_theta: np.ndarray
    opt_m: np.ndarray
    opt_v: np.ndarray
    updates: int
    epoch: int
    diverged: bool
    rng_state: dict
    partial: dict | None = None  # a sample-stepped epoch in progress: order, position, loss_sum, predictions


class Trainer:
    """Trains a network on XOR (or on given data) with the settings of a `TrainConfig`.

    inputs: (n_samples, 2) and targets: (n_samples,) in [0, 1] replace the XOR data.
    initial_params: ``[(W, b), ...]`` to start from instead of the config's initialisation.
    """

    def __init__(
        self,
        config: TrainConfig | None = None,
        *,
        inputs: np.ndarray | None = None,
        targets: np.ndarray | None = None,
        initial_params: Params | None = None,
    ) -> None:
        self._config = TrainConfig() if config is None else config
        if not isinstance(self._config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(self._config).__name__}")
        self._inputs, self._targets = _check_data(inputs, targets)
        self._layout = Layout.from_sizes(self._config.layer_sizes)
        if initial_params is None:
            self._initial_theta = initial_theta(self._config, self._layout)
        else:
            self._initial_theta = self._layout.flatten(initial_params)
        _readonly(self._initial_theta)
        self.reset()

    # --- state -----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the initial parameters, epoch 0, fresh optimizer and shuffle state."""
        self._theta = self._initial_theta.copy()
        self._opt_m = np.zeros(self._layout.n_params)
        self._opt_v = np.zeros(self._layout.n_params)
        self._opt_t = np.zeros(1, dtype=np.int64)
        self._shuffle_rng = np.random.default_rng(self._config.seed)
        self._epoch = 0
        self._diverged = False
        self._partial: dict | None = None  # an epoch in progress, sample by sample

    @property
    def config(self) -> TrainConfig:
        return self._config

    def set_config(self, config: TrainConfig) -> bool:
        """Use `config` from the next epoch on. Returns True when training restarted.

        learning rate, loss, mode, batch size, shuffle and optimizer settings apply live; a change of
        hidden sizes, activation, initialisation or seed builds the new network and resets.
        """
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
        structural = self._config.structural_change(config)
        self._config = config
        if structural:
            self._layout = Layout.from_sizes(config.layer_sizes)
            self._initial_theta = _readonly(initial_theta(config, self._layout))
            self.reset()
        return bool(structural)

    @property
    def epoch(self) -> int:
        """Epochs trained since the last reset (a diverged epoch counts)."""
        return self._epoch

    @property
    def updates(self) -> int:
        """Optimizer steps taken since the last reset (adam's t)."""
        return int(self._opt_t[0])

    @property
    def diverged(self) -> bool:
        return self._diverged

    @property
    def layout(self) -> Layout:
        return self._layout

    @property
    def n_samples(self) -> int:
        return self._inputs.shape[0]

    @property
    def inputs(self) -> np.ndarray:
        """Training inputs, (n_samples, 2), read-only."""
        return self._inputs

    @property
    def targets(self) -> np.ndarray:
        """Training targets, (n_samples,), read-only."""
        return self._targets

    @property
    def params(self) -> Params:
        """Copies of the current ``[(W, b), ...]``; W (out, in), b (out, 1)."""
        return self._layout.copies(self._theta)

    @property
    def initial_params(self) -> Params:
        """Copies of the parameters at epoch 0."""
        return self._layout.copies(self._initial_theta)

    @property
    def theta(self) -> np.ndarray:
        """Copy of the flat parameter vector, (n_params,)."""
        return self._theta.copy()

    # --- saving and restoring ---------------------------------------------------------------------
    def state(self) -> TrainerState:
        """Everything needed to continue exactly where this trainer is (copies)."""
        return TrainerState(
            theta=self._theta.copy(),
            initial_theta=self._initial_theta.copy(),
            opt_m=self._opt_m.copy(),
            opt_v=self._opt_v.copy(),
            updates=int(self._opt_t[0]),
            epoch=self._epoch,
            diverged=self._diverged,
            rng_state=self._shuffle_rng.bit_generator.state,
            partial=None if self._partial is None else _copy_partial(self._partial),
        )

    def restore(self, state: TrainerState) -> None:
        """Continue from `state` (taken from a trainer with the same config); raises ValueError on a mismatch."""
        n = self._layout.n_params
        for name in ("theta", "initial_theta", "opt_m", "opt_v"):
            arr = getattr(state, name)
            if not isinstance(arr, np.ndarray) or arr.dtype != np.float64 or arr.shape != (n,):
                raise ValueError(f"{name} must be {n} float64 numbers for this network, got {getattr(arr, 'shape', None)}")
        rng = np.random.default_rng()
        try:
            rng.bit_generator.state = state.rng_state
        except (TypeError, ValueError, KeyError) as err:
            raise ValueError(f"the shuffle generator's state is not valid: {err}") from None
        self._initial_theta = _readonly(state.initial_theta.copy())
        self._theta = state.theta.copy()
        self._opt_m = state.opt_m.copy()
        self._opt_v = state.opt_v.copy()
        self._opt_t = np.array([state.updates], dtype=np.int64)
        self._epoch = int(state.epoch)
        self._diverged = bool(state.diverged)
        self._shuffle_rng = rng
        self._partial = _check_partial(state.partial, self.n_samples)

    # --- training --------------------------------------------------------------------------------
    def run(self, n_epochs: int, stop_below: float | None = None) -> Chunk:
        """Train `n_epochs` more epochs and return them.

        Fewer epochs are run when the loss stops being finite, or when `stop_below` is given and an
        epoch's loss is below it (that epoch is the chunk's last).
        """
        if not isinstance(n_epochs, numbers.Integral) or isinstance(n_epochs, bool) or n_epochs < 0:
            raise ValueError(f"n_epochs must be an integer >= 0, got {n_epochs!r}")
        target = -np.inf if stop_below is None else float(stop_below)
        if np.isnan(target):
            raise ValueError("stop_below must be a number, got nan")
        if n_epochs > MAX_CHUNK_EPOCHS:
            raise ValueError(f"n_epochs {n_epochs} is more than one chunk may hold ({MAX_CHUNK_EPOCHS}); run in chunks")
        n_epochs = int(n_epochs)
        if self._partial is not None and n_epochs and not self._diverged:
            finished = self._finish_epoch()  # a sample-stepped epoch in progress ends first
            if finished.diverged or n_epochs == 1 or finished.loss[0] < target:
                return finished
            rest = self.run(n_epochs - 1, stop_below)
            return Chunk(
                epochs=_readonly(np.concatenate([finished.epochs, rest.epochs])),
                loss=_readonly(np.concatenate([finished.loss, rest.loss])),
                predictions=_readonly(np.concatenate([finished.predictions, rest.predictions])),
                diverged=rest.diverged,
                reached_target=rest.reached_target,
            )
        n = self.n_samples
        if self._diverged:
            n_epochs = 0
        loss = np.empty(n_epochs)
        predictions = np.empty((n_epochs, n))
        done = 0
        if self._shuffles():
            while done < n_epochs and not self._diverged:
                slab = min(_SHUFFLE_SLAB, n_epochs - done)
                rng_state = self._shuffle_rng.bit_generator.state
                orders = self._draw_orders(slab)
                ran = self._train(orders, loss[done : done + slab], predictions[done : done + slab], target)
                done += ran
                if ran < slab:  # stopped early: leave the generator where `ran` epochs leave it
                    self._shuffle_rng.bit_generator.state = rng_state
                    self._draw_orders(ran)
                    break
        elif n_epochs:
            done = self._train(np.empty((0, n), dtype=np.int64), loss, predictions, target)
        first = self._epoch + 1
        self._epoch += done
        return Chunk(
            epochs=_readonly(np.arange(first, first + done, dtype=np.int64)),
            loss=_readonly(loss[:done]),
            predictions=_readonly(predictions[:done]),
            diverged=self._diverged,
            reached_target=bool(done and not self._diverged and loss[done - 1] < target),
        )

    # --- sample by sample ----------------------------------------------------------------------------
    @property
    def sample_position(self) -> int:
        """Samples of the current epoch done by `step_sample` (0 at an epoch boundary)."""
        return 0 if self._partial is None else self._partial["position"]

    def next_sample_index(self) -> int:
        """The training sample that is visited next: the next of the epoch in progress, else the first of the
        next epoch's order (peeked without drawing it). For mode sgd, the sample `step_sample` trains next."""
        if self._partial is not None:
            return int(self._partial["order"][self._partial["position"]])
        if not self._shuffles():
            return 0
        saved = self._shuffle_rng.bit_generator.state
        try:
            return int(self._draw_orders(1)[0, 0])
        finally:
            self._shuffle_rng.bit_generator.state = saved

    @property
    def can_step_samples(self) -> bool:
        """Sample steps need one update per sample: mode sgd (or a batch size of one)."""
        return self._config.batch_size_for(self.n_samples) == 1

    def step_sample(self) -> tuple[SampleTrace, Chunk | None]:
        """Train one sample (the next of the epoch's order) and return its trace, plus the epoch as a
        one-epoch `Chunk` when this sample completed it. n sample steps equal one `run(1)` bit for bit."""
        if not self.can_step_samples:
            raise ValueError(f"sample steps need one update per sample (mode sgd), not mode {self._config.mode!r}")
        if self._diverged:
            raise ValueError("training diverged; reset before stepping")
        n = self.n_samples
        if self._partial is None:
            order = self._draw_orders(1)[0] if self._shuffles() else np.arange(n, dtype=np.int64)
            self._partial = {"order": order, "position": 0, "loss_sum": 0.0, "predictions": np.full(n, np.nan)}
        part = self._partial
        index = int(part["order"][part["position"]])
        trace = self._trace(self._inputs[index], float(self._targets[index]), index, apply=True)
        part["loss_sum"] += trace.loss
        part["predictions"][index] = trace.y_hat
        part["position"] += 1
        if part["position"] < n:
            return trace, None
        return trace, self._close_epoch()

    def _finish_epoch(self) -> Chunk:
        while True:
            _, chunk = self.step_sample()
            if chunk is not None:
                return chunk

    def _close_epoch(self) -> Chunk:
        part, self._partial = self._partial, None
        loss = part["loss_sum"] / self.n_samples
        self._epoch += 1
        if not np.isfinite(loss):
            self._diverged = True
        return Chunk(
            epochs=_readonly(np.array([self._epoch], dtype=np.int64)),
            loss=_readonly(np.array([loss])),
            predictions=_readonly(part["predictions"].reshape(1, -1).copy()),
            diverged=self._diverged,
        )

    def inspect_sample(self, index: int | None = None, x: np.ndarray | None = None, y: float | None = None) -> SampleTrace:
        """The trace of training sample `index` (or of input `x` with target `y`) at the current weights,
        with the update it would make, without making it. When it is the sample `step_sample` trains next,
        the trace says so (next_up) and its update is exactly that step's."""
        if index is not None:
            if not 0 <= index < self.n_samples:
                raise ValueError(f"sample index must be 0 .. {self.n_samples - 1}, got {index}")
            x, y = self._inputs[index], float(self._targets[index])
        elif x is None or y is None:
            raise ValueError("give a sample index, or an input x and a target y")
        x = _check_inputs(np.asarray(x, dtype=np.float64).reshape(1, -1))[0]
        trace = self._trace(x, float(y), index, apply=False)
        if index is not None and self.can_step_samples and index == self.next_sample_index():
            trace = dataclasses.replace(trace, next_up=True)
        return trace

    def gradient(self) -> Params:
        """Mean over the training samples of the per-sample gradient at the current weights, per layer."""
        K = kernels()
        lay = self._layout
        sizes, w_off, b_off = lay.kernel_args
        acts, zs, deltas = (np.empty(lay.n_units) for _ in range(3))
        total, grad = np.zeros(lay.n_params), np.empty(lay.n_params)
        cfg = self._config
        scratch = (np.zeros(lay.n_params), np.zeros(lay.n_params), np.zeros(1, dtype=np.int64))
        for i in range(self.n_samples):
            K.sample_step(self._theta, sizes, w_off, b_off, self._inputs[i], float(self._targets[i]),
                          ACTIVATION_CODES[cfg.activation], LOSS_CODES[cfg.loss], cfg.learning_rate,
                          OPTIMIZER_CODES[cfg.optimizer], _coef(cfg), *scratch, False, acts, zs, deltas, grad)  # fmt: skip
            total += grad
        return lay.copies(total / self.n_samples)

    def _trace(self, x: np.ndarray, y: float, index: int | None, apply: bool) -> SampleTrace:
        K = kernels()
        cfg, lay = self._config, self._layout
        sizes, w_off, b_off = lay.kernel_args
        acts, zs, deltas = (np.empty(lay.n_units) for _ in range(3))
        grad = np.empty(lay.n_params)
        before = lay.copies(self._theta)
        if apply:
            theta, opt = self._theta, (self._opt_m, self._opt_v, self._opt_t)
        else:  # show the update on copies
            theta, opt = self._theta.copy(), (self._opt_m.copy(), self._opt_v.copy(), self._opt_t.copy())
        loss = K.sample_step(theta, sizes, w_off, b_off, np.ascontiguousarray(x), y, ACTIVATION_CODES[cfg.activation],
                             LOSS_CODES[cfg.loss], cfg.learning_rate, OPTIMIZER_CODES[cfg.optimizer], _coef(cfg), *opt,
                             True, acts, zs, deltas, grad)  # fmt: skip
        fd = None
        if lay.n_params <= MAX_FD_PARAMS:
            fd_flat = np.empty(lay.n_params)
            probe = np.array(before_flat := lay.flatten(before))
            K.finite_difference_gradient(probe, sizes, w_off, b_off, np.ascontiguousarray(x), y,
                                         ACTIVATION_CODES[cfg.activation], LOSS_CODES[cfg.loss], FD_STEP, fd_flat)  # fmt: skip
            del before_flat
            fd = lay.copies(fd_flat)
        bounds = np.cumsum([0, *lay.sizes[1:]])
        per_layer = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        y_hat = float(acts[-1])
        objective = 0.5 * (y - y_hat) ** 2 if cfg.loss == "mse" else float(loss)
        return SampleTrace(
            index=index, x=np.array(x, dtype=np.float64), y=y, applied=apply, n_samples=self.n_samples, config=cfg,
            params_before=before, params_after=lay.copies(theta), z=[zs[s].copy() for s in per_layer],
            a=[acts[s].copy() for s in per_layer], delta=[deltas[s].copy() for s in per_layer], grads=lay.copies(grad),
            fd_grads=fd, y_hat=y_hat, loss=float(loss), objective=float(objective), epoch=self._epoch,
            samples_done=self.sample_position,
        )  # fmt: skip

    def _draw_orders(self, n_epochs: int) -> np.ndarray:
        """Visiting orders of the next `n_epochs` epochs, (n_epochs, n_samples): row e is the e-th
        ``permutation(n_samples)`` of the shuffle generator."""
        return self._shuffle_rng.permuted(np.tile(np.arange(self.n_samples, dtype=np.int64), (n_epochs, 1)), axis=1)

    def _shuffles(self) -> bool:
        return self._config.canonical(self.n_samples).shuffle

    def _train(self, orders: np.ndarray, loss: np.ndarray, predictions: np.ndarray, stop_below: float) -> int:
        """One kernel call over ``len(loss)`` epochs; returns the epochs done and notes divergence."""
        cfg = self._config
        coef = _coef(cfg)
        common = (
            self._inputs, self._targets, orders, loss, predictions,
            ACTIVATION_CODES[cfg.activation], LOSS_CODES[cfg.loss], cfg.batch_size_for(self.n_samples),
            cfg.learning_rate, OPTIMIZER_CODES[cfg.optimizer], coef, self._opt_m, self._opt_v, self._opt_t, stop_below,
        )  # fmt: skip
        K = kernels()
        if len(cfg.hidden) == 1:
            done = K.train_one_hidden(self._theta, cfg.hidden[0], *common)
        else:
            done = K.train_deep(self._theta, *self._layout.kernel_args, *common)
        if done and not np.isfinite(loss[done - 1]):
            self._diverged = True
        return done

    # --- evaluation ------------------------------------------------------------------------------
    def activations(self, X: np.ndarray, units: int | None = None) -> np.ndarray:
        """Every unit's activation for each row of X, (m, n_units): hidden layers in order, output last.

        units: only the first `units` units, (m, units), bit for bit the same numbers, computing only the
        layers (and the rows of the last of them) that they need: cheap for a big network's first units.
        """
        X = _check_inputs(X)
        layout, theta = self._layout, self._theta
        if units is not None:
            if not 0 <= units <= layout.n_units:
                raise ValueError(f"units must be 0 .. {layout.n_units}, got {units}")
            if units < layout.n_units:
                layout, theta = _first_units(layout, theta, units)
        out = np.empty((X.shape[0], layout.n_units))
        kernels().forward_all(theta, *layout.kernel_args, X, ACTIVATION_CODES[self._config.activation], out)
        return out if units is None or units == out.shape[1] else out[:, :units]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The network's output ŷ for each row of X: X (m, 2) -> (m,)."""
        return self.activations(X)[:, -1].copy()


def _first_units(layout: Layout, theta: np.ndarray, units: int) -> tuple[Layout, np.ndarray]:
    """A network whose hidden units are the first `units` of `layout`'s (whole layers, then the first rows
    of one more), with `theta`'s weights for them, and a zero output unit after them."""
    keep: list[int] = []
    for size in layout.sizes[1:-1]:
        if sum(keep) >= units:
            break
        keep.append(min(int(size), units - sum(keep)))
    parts = []
    for layer, n_out in enumerate(keep):
        n_in, w0, b0 = int(layout.sizes[layer]), int(layout.w_offsets[layer]), int(layout.b_offsets[layer])
        parts += [theta[w0 : w0 + n_out * n_in], theta[b0 : b0 + n_out]]  # W's first rows are contiguous
    parts.append(np.zeros((keep[-1] if keep else 2) + 1))
    return Layout.from_sizes((2, *keep, 1)), np.concatenate(parts)


def _coef(cfg: TrainConfig) -> np.ndarray:
    """The optimizer coefficients as the kernels take them: (momentum, beta1, beta2, eps)."""
    return np.array([cfg.momentum, cfg.beta1, cfg.beta2, cfg.eps])


def _copy_partial(partial: dict) -> dict:
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in partial.items()}


def _check_partial(partial: dict | None, n: int) -> dict | None:
    """A saved epoch in progress, checked: order a permutation of 0..n-1, 0 < position < n."""
    if partial is None:
        return None
    try:
        order = np.asarray(partial["order"], dtype=np.int64)
        position = int(partial["position"])
        loss_sum = float(partial["loss_sum"])
        preds = np.asarray(partial["predictions"], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        raise ValueError("the epoch in progress is malformed") from None
    if sorted(order.tolist()) != list(range(n)) or not 0 < position < n or preds.shape != (n,):
        raise ValueError("the epoch in progress does not fit this data")
    return {"order": order, "position": position, "loss_sum": loss_sum, "predictions": preds}


def _check_inputs(X: np.ndarray) -> np.ndarray:
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"inputs must have shape (m, 2), got {X.shape}")
    return X


def _check_data(inputs: np.ndarray | None, targets: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if inputs is None and targets is None:
        return XOR_INPUTS, XOR_TARGETS
    if inputs is None or targets is None:
        raise ValueError("give both inputs and targets, or neither (XOR)")
    X = _check_inputs(inputs).copy()
    y = np.array(targets, dtype=np.float64).reshape(-1)
    if X.shape[0] == 0 or y.shape != (X.shape[0],):
        raise ValueError(f"need one target per input row, got inputs {X.shape} and targets {np.shape(targets)}")
    if not (np.isfinite(X).all() and ((y >= 0) & (y <= 1)).all()):
        raise ValueError("inputs must be finite and targets within [0, 1]")
    return _readonly(X), _readonly(y)


def warm_up() -> None:
    """Compile (or load from Numba's cache) every kernel, on a throwaway network."""
    for hidden in ((2,), (2, 2)):
        trainer = Trainer(TrainConfig(hidden=hidden))
        trainer.run(1)
        trainer.predict(XOR_INPUTS)
    # History's min/max kernel, for its own writable arrays and for a snapshot's read-only rows (Numba
    # types them apart): otherwise the window's thread loads each from the cache on first use, mid-run.
    rows, out = np.zeros((2, 5)), np.empty((1, 5))
    kernels().block_min_max(rows, rows, 2, out, out)
    rows.flags.writeable = False
    kernels().block_min_max(rows, rows, 2, out, out)


def decision_grid(n: int = 121, low: float = -0.25, high: float = 1.25) -> tuple[np.ndarray, np.ndarray]:
    """A square grid over the input plane: (axis (n,), points (n * n, 2)).

    Point ``r * n + c`` is ``(axis[c], axis[r])``: rows run along x2, columns along x1, so outputs
    reshaped to (n, n) form a row-major image with x1 to the right and x2 upwards.
    """
    axis = np.linspace(low, high, n)
    x1, x2 = np.meshgrid(axis, axis)
    return axis, np.column_stack([x1.ravel(), x2.ravel()])
