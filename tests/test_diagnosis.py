"""engine/diagnosis.py: each diagnosis fires on its constructed case (and only there), with the epoch where it began;
the command line prints them and `--json` holds them."""

import dataclasses
import json

import numpy as np
import pytest

import main
from engine import TrainConfig, Trainer
from engine.compare import SOLVED_MARGIN, is_solved
from engine.datasets import DataSpec, make_dataset
from engine.diagnosis import (
    DIAGNOSIS_KINDS,
    OSCILLATION_EPOCHS,
    PLATEAU_MIN_EPOCHS,
    SATURATION_MARGIN,
    Diagnosis,
    RecentRows,
    check_epoch,
    diagnose,
    diagnose_rows,
    history_rows,
    unit_name,
)
from engine.history import History, n_series_for
from engine.sweep import PLATEAU_CHANGE

LOCAL_MINIMUM_SEED = 6  # the notebook's network on XOR ends at the local minimum (loss ~0.131) with this seed
SADDLE_SEED = 9  # ... and stays at the 0.25 saddle with this one (a sweep of seeds 0-59, 10,000 epochs)
OSCILLATING = TrainConfig(learning_rate=10, mode="batch", optimizer="momentum", loss="bce", hidden=(4,))
DIVERGING = TrainConfig(learning_rate=1e308, loss="bce", activation="relu", init="he", mode="minibatch", batch_size=3,
                        optimizer="momentum")  # fmt: skip


def trained(config: TrainConfig, epochs: int, data=None, initial_params=None) -> tuple[Trainer, np.ndarray]:
    trainer = Trainer(config, data=data, initial_params=initial_params)
    return trainer, trainer.run(epochs).rows()


def assess(trainer: Trainer, rows: np.ndarray, state_at=None) -> list[Diagnosis]:
    epochs = np.arange(1, len(rows) + 1)
    return diagnose_rows(trainer.config, trainer.data, trainer.theta, epochs, rows, state_at=state_at)


def kinds(diagnoses) -> list[str]:
    return [d.kind for d in diagnoses]


def headless_theta(config, initial_params=None):
    """epoch -> the weights a headless trainer has there (the window passes its timeline's)."""

    def state_at(epoch: int) -> np.ndarray:
        trainer = Trainer(config, initial_params=initial_params)
        trainer.run(epoch)
        return trainer.theta

    return state_at


# --- the constructed cases --------------------------------------------------------------------------------------------
def test_a_healthy_solved_run_is_only_solved_from_the_epoch_it_stays_solved():
    trainer, rows = trained(TrainConfig(), 10_000)
    (found,) = assess(trainer, rows)
    assert found.kind == "solved" and f"within {SOLVED_MARGIN:g}" in found.title
    solved = is_solved(rows[:, 4:], trainer.targets)
    assert solved[found.epoch - 1 :].all() and not solved[found.epoch - 2]
    assert found.line() == f"Diagnosis: solved at epoch {found.epoch}: {found.title}. {found.advice}"


def test_a_healthy_run_on_other_data_is_solved_by_its_test_accuracy():
    data = make_dataset(DataSpec("circle", points=200))
    config = TrainConfig(hidden=(4,), activation="tanh", mode="minibatch", batch_size=10, shuffle=True)
    trainer, rows = trained(config, 600, data=data)
    (found,) = assess(trainer, rows)
    accuracy = rows[:, 3]
    assert found.kind == "solved" and "test accuracy" in found.title
    assert (accuracy[found.epoch - 1 :] >= 0.95).all() and accuracy[found.epoch - 2] < 0.95


def test_lr_50_with_sigmoid_saturates_the_output():
    trainer, rows = trained(TrainConfig(learning_rate=50), 2000)
    found = assess(trainer, rows)
    assert "saturated" in kinds(found) and "solved" not in kinds(found)
    saturated = next(d for d in found if d.kind == "saturated")
    assert saturated.units == ("ŷ",) and "smaller learning rate" in saturated.advice
    y_hat = trainer.predict(trainer.inputs)
    assert (np.minimum(y_hat, 1 - y_hat) < SATURATION_MARGIN).all()
    healthy, rows = trained(TrainConfig(), 2000)
    assert "saturated" not in kinds(assess(healthy, rows))


def test_lr_50_with_tanh_saturates_the_hidden_units_by_name():
    trainer, rows = trained(TrainConfig(learning_rate=50, activation="tanh"), 2000)
    saturated = [d for d in assess(trainer, rows) if d.kind == "saturated"]
    assert saturated[0].title == "Hidden units h₁ and h₂ of layer 1 are saturated"
    assert saturated[0].units == ("h₁ of layer 1", "h₂ of layer 1") and "gradient vanishes" in saturated[0].explanation
    hidden = trainer.activations(trainer.inputs)[:, :2]
    assert (1 - np.abs(hidden) < SATURATION_MARGIN).all()


def shifted(config: TrainConfig, units=(0, 1), by: float = -3.0):
    """The config's initial weights with the first layer's rows `units` shifted negative: XOR's inputs are >= 0, so
    those relu units get a negative input on every point."""
    (W1, b1), *rest = Trainer(config).initial_params
    W1, b1 = W1.copy(), b1.copy()
    W1[list(units)] += by
    b1[list(units)] += by
    return [(W1, b1), *rest]


def test_relu_with_weights_shifted_negative_dies_and_the_past_says_since_when():
    config = TrainConfig(activation="relu")
    params = shifted(config)
    trainer, rows = trained(config, 300, initial_params=params)
    dead = [d for d in assess(trainer, rows) if d.kind == "dead ReLU"]
    assert len(dead) == 1 and dead[0].title == "Hidden units h₁ and h₂ of layer 1 are dead ReLUs" and dead[0].epoch == 300
    assert (trainer.activations(trainer.inputs)[:, :2] == 0).all()
    (dead,) = [d for d in assess(trainer, rows, headless_theta(config, params)) if d.kind == "dead ReLU"]
    assert dead.epoch == 0  # dead from the start
    one = shifted(config, units=(1,))
    trainer, rows = trained(config, 300, initial_params=one)
    (dead,) = [d for d in assess(trainer, rows) if d.kind == "dead ReLU"]
    assert dead.units == ("h₂ of layer 1",) and dead.title == "Hidden unit h₂ of layer 1 is a dead ReLU"
    healthy, rows = trained(config, 300)  # the notebook's positive first weights: alive on every point
    assert "dead ReLU" not in kinds(assess(healthy, rows))


def test_units_that_die_during_the_run_are_dated_by_bisection_over_the_past():
    config = TrainConfig(learning_rate=10, activation="relu", loss="bce", mode="batch", hidden=(8,), init="he")
    trainer, rows = trained(config, 200)
    state_at = headless_theta(config)
    dead = [d for d in assess(trainer, rows, state_at) if d.kind == "dead ReLU"]
    assert len(dead) > 1 and any(0 < d.epoch < 200 for d in dead)  # some units died during the run, at other epochs
    for diagnosis in dead:
        units = [int(name[1:].split(" ")[0].translate(str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789"))) - 1
                 for name in diagnosis.units]  # fmt: skip
        for epoch, alive in ((diagnosis.epoch, False), (diagnosis.epoch - 1, True))[: 1 + (diagnosis.epoch > 0)]:
            past = Trainer(config)
            past.run(epoch)
            acts = past.activations(past.inputs)[:, units]
            assert (acts > 0).any(axis=0).all() == alive  # every unit alive the epoch before, none at the epoch


@pytest.mark.parametrize("seed, near", [(LOCAL_MINIMUM_SEED, 0.131), (SADDLE_SEED, 0.252)])
def test_seeds_that_end_at_xors_local_minimum_or_saddle_give_plateau(seed, near):
    trainer, rows = trained(TrainConfig(seed=seed), 10_000)
    (found,) = assess(trainer, rows)
    loss = rows[:, 0]
    assert found.kind == "plateau" and f"near {near:.3g}" in found.title and "another seed" in found.advice
    final = loss[-1]
    assert abs(loss[8999] - final) <= PLATEAU_CHANGE * loss[8999]  # moved < 1% over the last 10%
    began = found.epoch
    assert (np.abs(loss[began - 1 :] - final) <= PLATEAU_CHANGE * loss[began - 1 :]).all()
    assert abs(loss[began - 2] - final) > PLATEAU_CHANGE * loss[began - 2]


def test_large_lr_with_full_batch_momentum_oscillates():
    trainer, rows = trained(OSCILLATING, 2000)
    found = assess(trainer, rows)
    assert "oscillation" in kinds(found) and "plateau" not in kinds(found)  # a bouncing loss is no plateau
    (oscillation,) = [d for d in found if d.kind == "oscillation"]
    rises = int((np.diff(rows[-OSCILLATION_EPOCHS - 1 :, 0]) > 0).sum())
    assert rises > OSCILLATION_EPOCHS / 3 and oscillation.title == f"The loss rose in {rises} of the last 100 epochs"
    assert "smaller learning rate than 10" in oscillation.advice


def test_a_diverging_relu_run_gives_only_diverged_at_the_first_non_finite_epoch():
    trainer, rows = trained(DIVERGING, 1000)
    assert trainer.diverged
    (found,) = assess(trainer, rows)
    first = int(np.flatnonzero(~np.isfinite(rows[:, 0]))[0]) + 1
    assert found.kind == "diverged" and found.epoch == first == trainer.epoch
    assert f"Rewind to the last finite epoch ({first - 1})" in found.advice and "smaller learning rate" in found.advice


# --- the thresholds on made-up curves ---------------------------------------------------------------------------------
def unsolved():
    """XOR's untrained notebook network: not solved, no unit stuck."""
    trainer = Trainer(TrainConfig())
    return trainer.config, trainer.data, trainer.theta


def test_plateau_threshold_is_one_percent_over_the_last_tenth():
    config, data, theta = unsolved()
    flat = np.full(1000, 0.25)
    assert kinds(diagnose(config, data, theta, flat)) == ["plateau"]
    assert diagnose(config, data, theta, flat)[0].epoch == 1
    falling = np.linspace(0.3, 0.25, 1000)  # 0.255 at 90%: 2% above the end
    assert diagnose(config, data, theta, falling) == []
    slow = 0.25 * (1 + 0.009 * np.linspace(1, 0, 1000) ** 8)  # < 1% over the last tenth
    assert kinds(diagnose(config, data, theta, slow)) == ["plateau"]
    assert diagnose(config, data, theta, flat[: PLATEAU_MIN_EPOCHS - 1]) == []  # too early to say


def test_oscillation_threshold_is_a_third_of_the_last_100_epochs():
    config, data, theta = unsolved()

    def curve(n_rises: int) -> np.ndarray:
        steps = np.full(300, -1e-3)
        steps[-100:][np.linspace(0, 99, n_rises).astype(int)] = +1e-3
        return 1.0 + np.cumsum(steps)

    assert diagnose(config, data, theta, curve(33)) == []
    found = diagnose(config, data, theta, curve(34))
    assert kinds(found) == ["oscillation"] and found[0].title == "The loss rose in 34 of the last 100 epochs"
    assert 200 < found[0].epoch <= 300
    jitter = 0.25 + 1e-9 * (np.arange(300) % 2)  # a standstill's rounding-size wobble is no oscillation
    assert "oscillation" not in kinds(diagnose(config, data, theta, jitter))


def test_non_finite_weights_or_losses_are_diverged_and_nothing_else():
    config, data, theta = unsolved()
    loss = np.array([0.3, 0.2, np.inf, np.nan])
    assert [(d.kind, d.epoch) for d in diagnose(config, data, theta, loss)] == [("diverged", 3)]
    bad = theta.copy()
    bad[0] = np.nan
    assert [(d.kind, d.epoch) for d in diagnose(config, data, bad, np.full(5, 0.3))] == [("diverged", 5)]


def test_the_words_the_window_and_the_command_line_share():
    assert DIAGNOSIS_KINDS == ("diverged", "saturated", "dead ReLU", "plateau", "oscillation", "solved")
    assert unit_name(1, 2) == "h₂ of layer 1" and unit_name(2, 12) == "h₁₂ of layer 2"
    d = Diagnosis("plateau", 5, "t", "e", "a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.epoch = 6
    assert d.to_dict() == {"kind": "plateau", "epoch": 5, "title": "t", "explanation": "e", "advice": "a", "units": []}
    config = TrainConfig(activation="relu", hidden=(6, 3))
    trainer = Trainer(config)
    (W1, b1), (W2, b2), out = trainer.initial_params
    W2[:] -= 5.0  # layer 2's inputs are relus (>= 0): every unit of layer 2 dies
    b2[:] -= 5.0
    (W1, b1) = (W1 - 5.0, b1 - 5.0)
    theta = Trainer(config, initial_params=[(W1, b1), (W2, b2), out]).theta
    (dead,) = diagnose(config, trainer.data, theta, np.full(3, 0.3))
    assert dead.title == "Hidden units h₁, h₂, h₃ and 3 more of layer 1 and h₁, h₂ and h₃ of layer 2 are dead ReLUs"
    assert len(dead.units) == 9 and dead.units[-1] == "h₃ of layer 2"


def test_diagnosis_is_cheap_and_leaves_its_inputs_alone():
    trainer, rows = trained(TrainConfig(seed=LOCAL_MINIMUM_SEED), 10_000)
    rows.flags.writeable = False
    theta = trainer.theta
    before = theta.copy()
    assess(trainer, rows)
    np.testing.assert_array_equal(theta, before)


# --- long runs: the rows past a history's exact part ------------------------------------------------------------------
@pytest.mark.parametrize("config, epochs", [(TrainConfig(seed=LOCAL_MINIMUM_SEED), 10_000), (OSCILLATING, 2000),
                                            (TrainConfig(), 10_000)])  # fmt: skip
def test_a_long_runs_last_rows_give_the_same_diagnoses(config, epochs):
    trainer = Trainer(config)
    full = History(n_series=n_series_for(trainer.data))
    short = History(n_series=n_series_for(trainer.data), exact_limit=epochs // 5)
    recent = RecentRows((check_epoch(epochs),))
    for _ in range(10):
        chunk = trainer.run(epochs // 10)
        for history in (full, short):
            history.extend(chunk.rows())
        recent.extend(int(chunk.epochs[0]), chunk.rows())
    assert len(recent.epochs()) == OSCILLATION_EPOCHS + 2  # the tail and the epoch at 90%: bounded memory

    def run(history, **kw):
        epochs_, rows = history_rows(history, recent=kw.get("recent"), rows=kw.get("rows"))
        return [(d.kind, d.title) for d in diagnose_rows(config, trainer.data, trainer.theta, epochs_, rows)]

    expected = run(full)
    assert run(short, recent=recent) == expected
    assert run(short, rows=lambda a, b: full.exact()[a - 1 : b]) == expected


def test_recent_rows_keep_the_last_rows_whatever_the_chunk_sizes():
    rows = np.arange(2000.0).reshape(-1, 1) * np.ones((1, 3))
    recent, first = RecentRows(), 1
    for size in (7, 150, 3, 90, 1, 400, 12, 99, 101, 1, 1, 60):
        recent.extend(first, rows[first - 1 : first - 1 + size])
        first += size
        last = first - 1
        kept = recent.epochs()
        assert kept[-1] == last and len(kept) == min(last, OSCILLATION_EPOCHS + 1)
        np.testing.assert_array_equal(recent.rows_of(kept), rows[kept - 1])


# --- the command line -------------------------------------------------------------------------------------------------
def test_train_prints_each_diagnosis_with_its_epoch_and_json_holds_them(capsys, tmp_path):
    record = tmp_path / "r.json"
    code = main.main(["train", "--seed", str(LOCAL_MINIMUM_SEED), "--log-every", "0", "--json", str(record)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    trainer, rows = trained(TrainConfig(seed=LOCAL_MINIMUM_SEED), 10_000)
    expected = assess(trainer, rows)
    assert [line for line in out if line.startswith("Diagnosis: ")] == [d.line() for d in expected]
    assert out[-1].startswith("Diagnosis: plateau at epoch ")
    assert json.loads(record.read_text())["diagnoses"] == [d.to_dict() for d in expected]


def test_a_diverged_train_says_so_in_the_window_words(capsys, tmp_path):
    record = tmp_path / "r.json"
    argv = ["train", "--lr", "1e308", "--loss", "bce", "--activation", "relu", "--init", "he", "--mode", "minibatch",
            "--batch-size", "3", "--optimizer", "momentum", "--log-every", "0", "--json", str(record)]  # fmt: skip
    assert main.main(argv) == main.EXIT_DIVERGED
    out = capsys.readouterr().out
    diagnoses = json.loads(record.read_text())["diagnoses"]
    assert [d["kind"] for d in diagnoses] == ["diverged"]
    assert f"Diagnosis: diverged at epoch {diagnoses[0]['epoch']}: The loss stopped being finite" in out


def test_before_any_epoch_there_is_nothing_to_say(capsys):
    config, data, theta = unsolved()
    assert diagnose(config, data, theta, np.empty(0)) == []
    assert main.main(["train", "--epochs", "0", "--log-every", "0"]) == 0
    assert "Diagnosis" not in capsys.readouterr().out
