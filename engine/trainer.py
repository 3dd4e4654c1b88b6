"""`Trainer`: owns one network's parameters and optimizer state and trains it chunk by chunk."""

from __future__ import annotations

import dataclasses
import itertools
import numbers
from dataclasses import dataclass

import numpy as np

from .config import TrainConfig
from .datasets import Dataset, make_dataset
from .features import feature_matrix
from .inspect import FD_STEP, MAX_FD_PARAMS, SampleTrace
from .kernel_args import KernelSettings, encode
from .network import Layout, Params, initial_theta

# A row of History and of `Chunk.rows()`: these four columns, then the recorded predictions (if any).
METRIC_COLUMNS = ("loss", "test_loss", "train_accuracy", "test_accuracy")

MAX_CHUNK_EPOCHS = 10_000_000  # one run() call allocates (n_epochs, 4 + n_predictions) float64
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

    epochs: (n,) 1-based epoch numbers. loss: (n,) epoch losses (the training loss: the mean per-sample loss of
    the epoch's forward passes). predictions: (n, n_train) every training point's ŷ in dataset order (for XOR
    the 4 inputs (0,0), (0,1), (1,0), (1,1)), from the forward pass that the epoch's loss comes from, when the
    data `records_predictions`; (n, 0) otherwise. metrics: (n, 3) test loss, train accuracy, test accuracy at
    each epoch's final weights (`METRIC_COLUMNS[1:]`; the test columns are NaN without a test set).
    diverged: the last epoch's loss is not finite (or training had already diverged, and the chunk is empty).
    reached_target: the chunk ended early because the last epoch's loss fell below `run`'s ``stop_below``.
    """

    epochs: np.ndarray
    loss: np.ndarray
    predictions: np.ndarray
    diverged: bool
    reached_target: bool = False
    metrics: np.ndarray = dataclasses.field(default_factory=lambda: _readonly(np.empty((0, 3))))
    # `rows()` itself when the arrays above are its columns (as `Trainer.run` makes them): no copy
    row_buffer: np.ndarray | None = dataclasses.field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.epochs)

    def rows(self) -> np.ndarray:
        """History rows, (n, 4 + n_predictions): `METRIC_COLUMNS`, then the predictions (read-only)."""
        if self.row_buffer is not None:
            return self.row_buffer
        return _readonly(np.column_stack([self.loss, self.metrics, self.predictions]))

    @staticmethod
    def join(first: Chunk, second: Chunk) -> Chunk:
        """`first` followed by `second` (its flags are the result's)."""
        return Chunk(
            epochs=_readonly(np.concatenate([first.epochs, second.epochs])),
            loss=_readonly(np.concatenate([first.loss, second.loss])),
            predictions=_readonly(np.concatenate([first.predictions, second.predictions])),
            diverged=second.diverged,
            reached_target=second.reached_target,
            metrics=_readonly(np.concatenate([first.metrics, second.metrics])),
        )


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
    """Trains a network on a `Dataset`'s training points with the settings of a `TrainConfig`.

    data: the dataset (default: the notebook's XOR, `make_dataset()`). inputs: (n, 2) and targets: (n,) in
    [0, 1] instead: a dataset named "custom", all of it for training. initial_params: ``[(W, b), ...]`` to start
    from instead of the config's initialisation. Points go through the config's features
    (`engine.features.feature_matrix`) before the network sees them.
    """

    def __init__(
        self,
        config: TrainConfig | None = None,
        *,
        data: Dataset | None = None,
        inputs: np.ndarray | None = None,
        targets: np.ndarray | None = None,
        initial_params: Params | None = None,
    ) -> None:
        self._config = TrainConfig() if config is None else config
        if not isinstance(self._config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(self._config).__name__}")
        self._data = _check_data(data, inputs, targets)
        self._inputs = _readonly(np.ascontiguousarray(self._data.train_inputs, dtype=np.float64))
        self._targets = _readonly(np.ascontiguousarray(self._data.train_targets, dtype=np.float64))
        self._test_targets = _readonly(np.ascontiguousarray(self._data.test_targets, dtype=np.float64))
        self._records = bool(self._data.records_predictions)
        self._shuffle_key: tuple | None = None
        self._shuffle_value = False
        self._layout = Layout.from_sizes(self._config.layer_sizes)
        self._featurize()
        if initial_params is None:
            self._initial_theta = initial_theta(self._config, self._layout)
        else:
            self._initial_theta = self._layout.flatten(initial_params)
        _readonly(self._initial_theta)
        self.reset()

    def _featurize(self) -> None:
        """The training and test points as the network sees them: (n, len(features)) feature matrices."""
        features = self._config.features
        self._train_X = _readonly(feature_matrix(self._inputs, features).copy())
        self._test_X = _readonly(feature_matrix(self._data.test_inputs, features).copy())

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

        learning rate, loss, mode, batch size, shuffle, optimizer and regularisation settings apply live; a
        change of features, hidden sizes, activation, initialisation or seed builds the new network and resets.
        """
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
        structural = self._config.structural_change(config)
        self._config = config
        if structural:
            self._layout = Layout.from_sizes(config.layer_sizes)
            self._featurize()
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
    def data(self) -> Dataset:
        """The dataset: training and test points."""
        return self._data

    @property
    def n_samples(self) -> int:
        """Training points (samples per epoch)."""
        return self._inputs.shape[0]

    @property
    def n_predictions(self) -> int:
        """Predictions recorded per epoch: every training point's when the data `records_predictions`, else 0."""
        return self.n_samples if self._records else 0

    @property
    def inputs(self) -> np.ndarray:
        """Training points, raw (x1, x2): (n_samples, 2), read-only."""
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
        """Continue from `state` (taken from a trainer with the same config and data); raises ValueError on a mismatch."""
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
        partial = _check_partial(state.partial, self.n_samples)
        self._initial_theta = _readonly(state.initial_theta.copy())
        self._theta = state.theta.copy()
        self._opt_m = state.opt_m.copy()
        self._opt_v = state.opt_v.copy()
        self._opt_t = np.array([state.updates], dtype=np.int64)
        self._epoch = int(state.epoch)
        self._diverged = bool(state.diverged)
        self._shuffle_rng = rng
        self._partial = partial

    # --- training --------------------------------------------------------------------------------
    def run(self, n_epochs: int, stop_below: float | None = None) -> Chunk:
        """Train `n_epochs` more epochs and return them, with their metrics.

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
            return Chunk.join(finished, self.run(n_epochs - 1, stop_below))
        n = self.n_samples
        if self._diverged:
            n_epochs = 0
        rows = np.empty((n_epochs, 4 + self.n_predictions))  # the kernel writes the history's rows in place
        loss, metrics, predictions = rows[:, 0], rows[:, 1:4], rows[:, 4:]
        done = 0
        if self._shuffles():
            while done < n_epochs and not self._diverged:
                slab = min(_SHUFFLE_SLAB, n_epochs - done)
                rng_state = self._shuffle_rng.bit_generator.state
                orders = self._draw_orders(slab)
                part = slice(done, done + slab)
                ran = self._train(orders, loss[part], predictions[part], metrics[part], target)
                done += ran
                if ran < slab:  # stopped early: leave the generator where `ran` epochs leave it
                    self._shuffle_rng.bit_generator.state = rng_state
                    self._draw_orders(ran)
                    break
        elif n_epochs:
            done = self._train(np.empty((0, n), dtype=np.int64), loss, predictions, metrics, target)
        first = self._epoch + 1
        self._epoch += done
        return Chunk(
            epochs=_readonly(np.arange(first, first + done, dtype=np.int64)),
            loss=_readonly(loss[:done]),
            predictions=_readonly(predictions[:done]),
            diverged=self._diverged,
            reached_target=bool(done and not self._diverged and loss[done - 1] < target),
            metrics=_readonly(metrics[:done]),
            row_buffer=_readonly(rows[:done]),
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
        preds = part["predictions"]
        test_loss, test_accuracy = self._evaluate_on(self._test_X, self._test_targets)
        if self._records:
            train_accuracy = kernels().recorded_accuracy(preds, self._targets)
        else:
            train_accuracy = self._evaluate_on(self._train_X, self._targets)[1]
        return Chunk(
            epochs=_readonly(np.array([self._epoch], dtype=np.int64)),
            loss=_readonly(np.array([loss])),
            predictions=_readonly(preds.reshape(1, -1)[:, : self.n_predictions].copy()),
            diverged=self._diverged,
            metrics=_readonly(np.array([[test_loss, train_accuracy, test_accuracy]])),
        )

    # --- inspection ----------------------------------------------------------------------------------
    def inspect_sample(self, index: int | None = None, x: np.ndarray | None = None, y: float | None = None) -> SampleTrace:
        """The trace of training point `index` (or, as `inspect_point`, of point `x` with target `y`) at the current
        weights, with the update it would make, without making it. When it is the sample `step_sample` trains next,
        the trace says so (next_up) and its update is exactly that step's."""
        if index is None:
            if x is None or y is None:
                raise ValueError("give a sample index, or an input x and a target y")
            return self.inspect_point(x, y)
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not 0 <= index < self.n_samples:
            raise ValueError(f"sample index must be 0 .. {self.n_samples - 1}, got {index!r}")
        index = int(index)
        trace = self._trace(self._inputs[index], float(self._targets[index]), index, apply=False)
        if self.can_step_samples and index == self.next_sample_index():
            trace = dataclasses.replace(trace, next_up=True)
        return trace

    def inspect_point(self, x: np.ndarray, y: float) -> SampleTrace:
        """The trace of any point x (2,) raw (x1, x2) with target y in [0, 1] (a test point, say) at the current
        weights, with the update a training step on it would make, without making it (index None)."""
        x = _check_inputs(np.asarray(x, dtype=np.float64).reshape(1, -1))[0]
        y = float(y)
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"the target must be within [0, 1], got {y}")
        return self._trace(x, y, None, apply=False)

    def gradient(self) -> Params:
        """The gradient a full-batch update would take at the current weights, per layer: the mean over the training
        points of the per-sample gradient, plus the regularisers' term. One kernel call."""
        lay, s = self._layout, self._settings()
        grad = np.empty(lay.n_params)
        kernels().batch_gradient(self._theta, *lay.kernel_args, self._train_X, self._targets, s.activation, s.loss, s.l2, s.l1,
                                 grad)  # fmt: skip
        return lay.copies(grad)

    def evaluate(self) -> dict[str, float]:
        """train_loss, test_loss, train_accuracy, test_accuracy at the current weights (mean reported loss and fraction
        classified right; the test values are NaN without a test set)."""
        train_loss, train_accuracy = self._evaluate_on(self._train_X, self._targets)
        test_loss, test_accuracy = self._evaluate_on(self._test_X, self._test_targets)
        return {
            "train_loss": float(train_loss),
            "test_loss": float(test_loss),
            "train_accuracy": float(train_accuracy),
            "test_accuracy": float(test_accuracy),
        }

    def _settings(self) -> KernelSettings:
        return encode(self._config, self.n_samples)

    def _evaluate_on(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, float]:
        """(mean reported loss, accuracy) over feature rows X with targets Y at the current weights; NaNs for none."""
        s = self._settings()
        return kernels().evaluate(self._theta, *self._layout.kernel_args, X, Y, s.activation, s.loss)

    def _trace(self, x: np.ndarray, y: float, index: int | None, apply: bool) -> SampleTrace:
        K = kernels()
        cfg, lay, s = self._config, self._layout, self._settings()
        sizes, w_off, b_off = lay.kernel_args
        features_in = feature_matrix(x.reshape(1, -1), cfg.features)[0].copy()
        acts, zs, deltas = (np.empty(lay.n_units) for _ in range(3))
        grad = np.empty(lay.n_params)
        before = self._theta.copy()
        if apply:
            theta, opt = self._theta, (self._opt_m, self._opt_v, self._opt_t)
        else:  # show the update on copies
            theta, opt = self._theta.copy(), (self._opt_m.copy(), self._opt_v.copy(), self._opt_t.copy())
        loss = K.sample_step(theta, sizes, w_off, b_off, features_in, y, s.activation, s.loss, s.learning_rate, s.optimizer,
                             s.coef, s.l2, s.l1, *opt, True, acts, zs, deltas, grad)  # fmt: skip
        fd = None
        if lay.n_params <= MAX_FD_PARAMS:
            fd_flat = np.empty(lay.n_params)
            K.finite_difference_gradient(before.copy(), sizes, w_off, b_off, features_in, y, s.activation, s.loss, s.l2, s.l1,
                                         FD_STEP, fd_flat)  # fmt: skip
            fd = lay.copies(fd_flat)
        bounds = np.cumsum([0, *lay.sizes[1:]])
        per_layer = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        y_hat = float(acts[-1])
        objective = 0.5 * (y - y_hat) ** 2 if cfg.loss == "mse" else float(loss)
        if s.l2 or s.l1:
            objective += float(K.penalty(before, sizes, w_off, b_off, s.l2, s.l1))
        return SampleTrace(
            index=index, x=np.array(x, dtype=np.float64), y=y, applied=apply, n_samples=self.n_samples, config=cfg,
            params_before=lay.copies(before), params_after=lay.copies(theta), z=[zs[sl].copy() for sl in per_layer],
            a=[acts[sl].copy() for sl in per_layer], delta=[deltas[sl].copy() for sl in per_layer], grads=lay.copies(grad),
            fd_grads=fd, y_hat=y_hat, loss=float(loss), objective=float(objective), epoch=self._epoch,
            samples_done=self.sample_position, features_in=features_in,
        )  # fmt: skip

    def _draw_orders(self, n_epochs: int) -> np.ndarray:
        """Visiting orders of the next `n_epochs` epochs, (n_epochs, n_samples): row e is the e-th
        ``permutation(n_samples)`` of the shuffle generator."""
        return self._shuffle_rng.permuted(np.tile(np.arange(self.n_samples, dtype=np.int64), (n_epochs, 1)), axis=1)

    def _shuffles(self) -> bool:
        """Whether epochs visit the samples in a shuffled order (`TrainConfig.canonical`'s rule, kept per config:
        building the canonical config costs more than a short chunk's training)."""
        key = (self._config, self.n_samples)
        if self._shuffle_key != key:
            self._shuffle_key, self._shuffle_value = key, self._config.canonical(self.n_samples).shuffle
        return self._shuffle_value

    def _train(
        self, orders: np.ndarray, loss: np.ndarray, predictions: np.ndarray, metrics: np.ndarray, stop_below: float
    ) -> int:
        """One kernel call over ``len(loss)`` epochs; returns the epochs done and notes divergence."""
        done = kernels().train(
            self._theta, *self._layout.kernel_args, self._train_X, self._targets, orders, loss, predictions, self._test_X,
            self._test_targets, metrics, *self._settings(), self._opt_m, self._opt_v, self._opt_t, stop_below,
        )  # fmt: skip
        if done and not np.isfinite(loss[done - 1]):
            self._diverged = True
        return done

    # --- evaluation ------------------------------------------------------------------------------
    def activations(self, points: np.ndarray, units: int | None = None) -> np.ndarray:
        """Every unit's activation for each point, (m, n_units): hidden layers in order, output last.

        points: (m, 2) raw (x1, x2); they go through the config's features first.
        units: only the first `units` units, (m, units), bit for bit the same numbers, computing only the
        layers (and the rows of the last of them) that they need: cheap for a big network's first units.
        """
        X = feature_matrix(_check_inputs(points), self._config.features)
        layout, theta = self._layout, self._theta
        if units is not None:
            if not 0 <= units <= layout.n_units:
                raise ValueError(f"units must be 0 .. {layout.n_units}, got {units}")
            if units < layout.n_units:
                layout, theta = _first_units(layout, theta, units)
        out = np.empty((X.shape[0], layout.n_units))
        kernels().forward_all(theta, *layout.kernel_args, X, self._settings().activation, out)
        return out if units is None or units == out.shape[1] else out[:, :units]

    def predict(self, points: np.ndarray) -> np.ndarray:
        """The network's output ŷ for each point: points (m, 2) raw (x1, x2) -> (m,)."""
        return self.activations(points)[:, -1].copy()


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
    parts.append(np.zeros((keep[-1] if keep else int(layout.sizes[0])) + 1))
    return Layout.from_sizes((int(layout.sizes[0]), *keep, 1)), np.concatenate(parts)


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


def _check_data(data: Dataset | None, inputs: np.ndarray | None, targets: np.ndarray | None) -> Dataset:
    """The dataset a Trainer trains on: `data`, the "custom" dataset of inputs and targets, or XOR."""
    if data is not None:
        if inputs is not None or targets is not None:
            raise ValueError("give data, or inputs and targets, not both")
        if not isinstance(data, Dataset):
            raise TypeError(f"data must be a Dataset, got {type(data).__name__}")
        if data.n_train == 0:
            raise ValueError("the dataset has no training points")
        return data
    if inputs is None and targets is None:
        return make_dataset()
    if inputs is None or targets is None:
        raise ValueError("give both inputs and targets, or neither (XOR)")
    return Dataset.from_arrays(inputs, targets)


def warm_up() -> None:
    """Compile (or load from Numba's cache) every kernel, on a throwaway network."""
    for hidden in ((2,), (2, 2)):
        trainer = Trainer(TrainConfig(hidden=hidden))
        trainer.run(1)
        trainer.predict(trainer.data.inputs)
        trainer.evaluate()
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
