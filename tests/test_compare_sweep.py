"""Side-by-side comparisons and many-seed sweeps (engine and command line)."""

import csv
import io
import signal

import numpy as np
import pytest

import main
from engine import XOR_INPUTS, TrainConfig, Trainer
from engine.compare import (
    COMPARABLE_FIELDS,
    Comparison,
    RunSummary,
    describe_duplicates,
    duplicate_runs,
    gradient_evaluations_per_epoch,
    parse_run_spec,
    run_label,
    run_labels,
    summarize,
    training_key,
    updates_per_epoch,
    verdict,
    x_values,
)
from engine.datasets import DataSpec, make_dataset
from engine.fields import CONFIG_FIELDS, STRUCTURAL_FIELDS
from engine.reports import compare_csv, compare_table, sweep_csv, sweep_table
from engine.sweep import BATCH_RUNS, OUTCOMES, SweepSpec, classify, run_sweep, summarize_groups


def test_compared_runs_start_from_identical_weights():
    base = TrainConfig(seed=3, init="xavier")
    configs = [parse_run_spec(s, base) for s in ("mode=sgd", "mode=batch", "mode=minibatch,batch_size=2,optimizer=adam")]
    comparison = Comparison(base, configs)
    first = comparison.trainers[0].initial_params
    for trainer in comparison.trainers:
        for (W, b), (W0, b0) in zip(trainer.initial_params, first):
            np.testing.assert_array_equal(W, W0)
            np.testing.assert_array_equal(b, b0)
    comparison.run(300, chunk=70)
    for i, config in enumerate(configs):  # each run is the plain run of its config from those weights
        np.testing.assert_array_equal(comparison.loss(i), Trainer(config, initial_params=first).run(300).loss)
        seconds = comparison.seconds(i)
        assert len(seconds) == 300 and np.all(np.diff(seconds) >= 0) and seconds[0] > 0


@pytest.mark.parametrize(
    ("spec", "updates"),
    [("mode=sgd", 4), ("mode=batch", 1), ("mode=minibatch,batch_size=2", 2), ("mode=minibatch,batch_size=3", 2),
     ("mode=minibatch,batch_size=4", 1), ("mode=minibatch,batch_size=9", 1), ("mode=minibatch,batch_size=1", 4)],
)  # fmt: skip
def test_x_axis_conversions(spec, updates):
    config = parse_run_spec(spec, TrainConfig())
    assert updates_per_epoch(config) == updates
    assert gradient_evaluations_per_epoch(config) == 4
    epochs = np.array([1, 2, 10])
    seconds = np.array([0.1, 0.2, 1.0])
    np.testing.assert_array_equal(x_values("epochs", epochs, seconds, config), [1, 2, 10])
    np.testing.assert_array_equal(x_values("updates", epochs, seconds, config), epochs * updates)
    np.testing.assert_array_equal(x_values("gradient evaluations", epochs, seconds, config), epochs * 4)
    np.testing.assert_array_equal(x_values("seconds", epochs, seconds, config), seconds)
    with pytest.raises(ValueError, match="x axis"):
        x_values("minutes", epochs, seconds, config)
    # the engine agrees: an epoch of this mode makes that many optimizer steps
    trainer = Trainer(config)
    trainer.run(7)
    assert trainer.updates == 7 * updates


def test_updates_are_what_the_trainer_counts_for_odd_data():
    inputs = np.random.default_rng(0).uniform(size=(11, 2))
    config = TrainConfig(mode="minibatch", batch_size=4)
    trainer = Trainer(config, inputs=inputs, targets=np.zeros(11))
    trainer.run(3)
    assert trainer.updates == 3 * updates_per_epoch(config, 11) == 9


def summary(label, epochs_to_target, seconds, updates, epochs=20000, final=0.001, diverged=False):
    return RunSummary(
        label=label, config=TrainConfig(), epochs=epochs, final_loss=final, solved=epochs_to_target is not None,
        diverged=diverged, epochs_to_target=epochs_to_target, updates_to_target=updates,
        gradient_evaluations_to_target=None if epochs_to_target is None else 4 * epochs_to_target,
        seconds_to_target=seconds, seconds=1.0,
    )  # fmt: skip


def test_verdict_sentences():
    runs = [summary("SGD", 4321, 0.0123, 17284), summary("full batch", None, None, None, final=0.0167)]
    assert verdict(runs, 0.01) == (
        "SGD reached loss 0.01 after 4,321 epochs (12.3 ms, 17,284 updates); "
        "full batch had not after 20,000 epochs (loss 0.0167)."
    )
    runs = [
        summary("SGD", 4000, 0.012, 16000),
        summary("mini-batch 2", 3000, 0.020, 6000),
        summary("Adam", None, None, None, diverged=True),
    ]
    text = verdict(runs, 0.01)
    assert text.startswith("mini-batch 2 reached loss 0.01 after 3,000 epochs (20.0 ms, 6,000 updates); SGD after 4,000 epochs")
    assert "Adam diverged" in text and "But in wall-clock time SGD was fastest." in text
    assert verdict([summary("a", None, None, None), summary("b", None, None, None)], 0.01).startswith("No run reached loss 0.01")


def test_verdict_keeps_the_labels_letters():
    """The sentence starts with a capital; a label keeps its own letters ("sGD" was a bug)."""
    runs = [summary("SGD", None, None, None, final=0.159), summary("full batch", None, None, None, final=0.247)]
    assert verdict(runs, 0.01) == (
        "No run reached loss 0.01: SGD had not after 20,000 epochs (loss 0.159); "
        "full batch had not after 20,000 epochs (loss 0.247)."
    )


def test_summarize_uses_the_first_epoch_below_target():
    loss = np.array([0.5, 0.2, 0.009, 0.02, 0.001])
    seconds = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    config = TrainConfig(mode="batch")
    s = summarize("b", config, loss, seconds, np.array([0.1, 0.9, 0.9, 0.1]), 0.01)
    assert (s.epochs_to_target, s.updates_to_target, s.gradient_evaluations_to_target, s.seconds_to_target) == (3, 3, 12, 3.0)
    assert s.solved and s.final_loss == 0.001
    assert not summarize("b", config, loss, seconds, np.array([0.6, 0.9, 0.9, 0.1]), 0.01).solved


@pytest.mark.parametrize(
    ("spec", "message"),
    [("hidden=3", "cannot vary"), ("seed=1", "cannot vary"), ("mode", "FIELD=VALUE"), ("mode=online", "mode"),
     ("batch_size=two", "batch_size: 'two' is not a whole number"), ("learning_rate=-1", "learning_rate"),
     ("shuffle=maybe", "shuffle"), ("features=x1", "cannot vary"), ("colour=red", "'colour' is not a setting"),
     ("l2=20", "l2: '20' is not allowed; it must be a number from 0 to 10"), ("l1=-1", "l1"), ("beta1=1", "beta1")],
)  # fmt: skip
def test_bad_run_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_run_spec(spec, TrainConfig())


def test_every_setting_that_is_not_structural_can_vary_between_compared_runs():
    """The comparable settings are the field descriptions' non-structural ones (L2 and L1 among them, Adam's
    coefficients too), read by the command line's rule: `compare --run l2=0.1 --run l2=0` compares regularisation."""
    assert tuple(name for name in CONFIG_FIELDS if name not in STRUCTURAL_FIELDS) == COMPARABLE_FIELDS
    assert {"l2", "l1", "beta1", "beta2", "eps", "loss", "shuffle"} <= set(COMPARABLE_FIELDS)
    assert not set(COMPARABLE_FIELDS) & {"hidden", "activation", "init", "seed", "features"}
    base = TrainConfig()
    runs = [parse_run_spec(spec, base, n) for n, spec in enumerate(("l2=0.1", "l2=0", "l1=1e-3,mode=batch"), start=1)]
    assert [(c.l2, c.l1) for c in runs] == [(0.1, 0.0), (0.0, 0.0), (0.0, 0.001)]
    assert parse_run_spec("optimizer=adam,beta1=0.8,beta2=0.99,eps=1e-6", base) == base.replace(
        optimizer="adam", beta1=0.8, beta2=0.99, eps=1e-6)  # fmt: skip
    assert duplicate_runs(runs) == []
    assert run_labels(runs, base) == ["SGD (L2 0.1)", "SGD", "full batch (L1 0.001)"]
    comparison = Comparison(base, runs[:2])
    comparison.run(50)
    first = Trainer(base).initial_params
    for i, config in enumerate(runs[:2]):
        np.testing.assert_array_equal(comparison.loss(i), Trainer(config, initial_params=first).run(50).loss)
    assert not np.array_equal(comparison.loss(0), comparison.loss(1))  # the penalty changed the training


def test_compare_command_compares_l2_rates(capsys):
    code = main.main(["compare", "--run", "l2=0.1", "--run", "l2=0", "--epochs", "20"])
    out = capsys.readouterr().out
    assert code == 0 and "SGD (L2 0.1)" in out


def test_labels():
    base = TrainConfig()
    assert run_label(parse_run_spec("mode=sgd", base), base) == "SGD"
    assert run_label(parse_run_spec("mode=batch", base), base) == "full batch"
    assert run_label(parse_run_spec("mode=minibatch,batch_size=2,optimizer=adam,learning_rate=0.5", base), base) == (
        "mini-batch 2 (adam, lr 0.5)"
    )


def test_duplicate_runs_are_found_and_labelled_apart():
    base = TrainConfig()
    sgd, batch = base.replace(mode="sgd"), base.replace(mode="batch")
    # settings a run's mode or optimizer ignores do not make it a different run
    same_as_sgd = [sgd.replace(batch_size=2), sgd.replace(momentum=0.5), sgd.replace(beta1=0.5, eps=1e-3)]
    for config in same_as_sgd:
        assert training_key(config) == training_key(sgd)
        assert duplicate_runs([sgd, batch, config]) == [(0, 2)]
    assert duplicate_runs([batch, batch.replace(shuffle=True)]) == [(0, 1)]
    different = [sgd.replace(shuffle=True), sgd.replace(learning_rate=0.5), sgd.replace(optimizer="adam"),
                 base.replace(mode="minibatch", batch_size=2), base.replace(mode="minibatch", batch_size=3)]  # fmt: skip
    assert duplicate_runs([sgd, *different]) == []
    labels = run_labels([sgd, batch, sgd, sgd.replace(batch_size=3), batch], base)
    assert labels == ["SGD", "full batch", "SGD (run 3)", "SGD (run 4)", "full batch (run 5)"]
    adam = sgd.replace(optimizer="adam")
    assert run_labels([adam, adam], base) == ["SGD (adam)", "SGD (adam, run 2)"]
    # runs that differ only in an optimizer coefficient say so in their labels
    momentum = sgd.replace(optimizer="momentum")
    assert run_labels([momentum, momentum.replace(momentum=0.5)], base) == ["SGD (momentum)", "SGD (momentum 0.5)"]
    assert run_labels([adam, adam.replace(beta2=0.9)], base) == ["SGD (adam)", "SGD (adam, beta2 0.9)"]
    assert Comparison(base, [sgd, sgd]).labels == ["SGD", "SGD (run 2)"]


def test_runs_that_train_alike_in_another_mode_are_duplicates():
    """A mini-batch of 1 is SGD and one of all 4 samples in order is full batch: bit for bit, so they are the same run,
    labelled by what they train as. Shuffled, a mini-batch of 4 sums its gradient in another order: a different run."""
    base = TrainConfig()
    sgd, batch = base.replace(mode="sgd"), base.replace(mode="batch")
    one, four = base.replace(mode="minibatch", batch_size=1), base.replace(mode="minibatch", batch_size=4)
    assert duplicate_runs([batch, four]) == [(0, 1)] and duplicate_runs([sgd, one]) == [(0, 1)]
    assert duplicate_runs([batch, four.replace(batch_size=9)]) == [(0, 1)]
    assert duplicate_runs([sgd.replace(shuffle=True), one.replace(shuffle=True)]) == [(0, 1)]
    assert duplicate_runs([batch, four.replace(shuffle=True), sgd, one.replace(shuffle=True)]) == []
    assert duplicate_runs([four.replace(shuffle=True), four.replace(batch_size=9, shuffle=True)]) == [(0, 1)]
    for a, b in ((batch, four), (sgd, one)):
        np.testing.assert_array_equal(Trainer(a).run(500).loss, Trainer(b).run(500).loss)
    assert run_labels([batch, four, sgd, one], base) == ["full batch", "full batch (run 2)", "SGD", "SGD (run 4)"]
    assert run_label(four.replace(batch_size=9, shuffle=True), base) == "mini-batch 4 (shuffled)"


def test_duplicates_are_described_in_one_sentence():
    base = TrainConfig()
    sgd, batch = base.replace(mode="sgd"), base.replace(mode="batch")
    four = base.replace(mode="minibatch", batch_size=4)
    assert describe_duplicates([sgd, batch], base) is None
    assert describe_duplicates([sgd, batch, four], base) == (
        "Runs 2 and 3 are the same run (full batch): they would train identically. "
        "Change a setting so that no two runs are the same."
    )
    assert describe_duplicates([sgd, batch, sgd, four, sgd.replace(batch_size=3)], base) == (
        "Runs 1, 3 and 5 are the same run (SGD); runs 2 and 4 are the same run (full batch): they would train "
        "identically. Change a setting so that no two runs are the same."
    )


@pytest.mark.parametrize("spec", ["", "  ", ",", "mode=sgd,,optimizer=adam", "mode=sgd,"])
def test_empty_run_specs_are_refused(spec):
    with pytest.raises(ValueError, match=r"nothing given|empty item"):
        parse_run_spec(spec, TrainConfig())


def test_comparison_validates_runs():
    with pytest.raises(ValueError, match="2 to 6"):
        Comparison(TrainConfig(), [TrainConfig()])
    with pytest.raises(ValueError, match="hidden"):
        Comparison(TrainConfig(), [TrainConfig(), TrainConfig(hidden=(3,))])


# --- sweep ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_sweep():
    spec = SweepSpec(TrainConfig(), seeds=tuple(range(40, 90)), learning_rates=(0.5, 2.0), hidden=(2, 3),
                     optimizers=("sgd", "adam"), epochs=1500)  # fmt: skip
    return run_sweep(spec)


def test_sweep_runs_equal_single_runs(small_sweep):
    result = small_sweep
    assert len(result) == 50 * 8 and result.complete
    for row in np.random.default_rng(1).choice(len(result), size=12, replace=False):
        config = result.config_of(row)
        chunk = Trainer(config).run(1500)
        assert chunk.loss[-1] == result.final_loss[row]
        np.testing.assert_array_equal(chunk.predictions[-1], result.final_predictions[row])
        solved_rows = np.flatnonzero(np.all(np.abs(chunk.predictions - [0, 1, 1, 0]) < 0.4, axis=1))
        expected = solved_rows[0] + 1 if len(solved_rows) else 0
        assert result.epochs_to_solve[row] == expected and result.solved[row] == (expected > 0)


def test_sweep_summary_counts(small_sweep):
    groups = summarize_groups(small_sweep)
    assert len(groups) == 8
    for g in groups:
        assert g.runs == 50 and sum(g.outcomes.values()) == 50
        assert g.outcomes["solved"] == round(g.fraction_solved * 50)
        assert set(g.outcomes) == set(OUTCOMES)


def test_classify():
    preds = np.array([[0.1, 0.9, 0.9, 0.1], [0.5, 0.52, 0.48, 0.5], [0.0, 1.0, 0.5, 0.5], [0.0, 1.0, 0.5, 0.5], [np.nan] * 4])
    final = np.array([0.01, 0.25, 0.125, 0.125, np.nan])
    check = np.array([0.02, 0.25, 0.1251, 0.2, 0.3])
    solved = np.array([True, False, False, False, False])
    assert list(classify(final, preds, solved, check)) == [
        "solved",
        "stuck at 0.5",
        "local minimum",
        "still learning",
        "diverged",
    ]


def test_sweep_can_be_cancelled_and_reports_progress():
    spec = SweepSpec(TrainConfig(), seeds=tuple(range(300)), learning_rates=(0.5,), hidden=(2,), optimizers=("sgd",), epochs=200)
    seen = []
    result = run_sweep(spec, progress=lambda done, total: seen.append((done, total)), cancelled=lambda: len(seen) >= 2)
    assert not result.complete and len(result) == 128 == seen[-1][0] and seen[-1][1] == 300


def test_sweep_spec_validation():
    with pytest.raises(ValueError, match="shuffle"):
        SweepSpec(TrainConfig(shuffle=True), seeds=(1,), learning_rates=(0.1,), hidden=(2,), optimizers=("sgd",), epochs=10)
    with pytest.raises(ValueError, match="learning_rate"):
        SweepSpec(TrainConfig(), seeds=(1,), learning_rates=(-1.0,), hidden=(2,), optimizers=("sgd",), epochs=10)
    with pytest.raises(ValueError, match="seeds"):
        SweepSpec(TrainConfig(), seeds=(), learning_rates=(0.1,), hidden=(2,), optimizers=("sgd",), epochs=10)


# --- command line -------------------------------------------------------------------------------------
def test_compare_command(capsys, tmp_path):
    csv_path, png_path = tmp_path / "c.csv", tmp_path / "c.png"
    code = main.main(["compare", "--run", "mode=sgd", "--run", "mode=batch", "--epochs", "8000", "--target-loss", "0.05",
                      "--csv", str(csv_path), "--png", str(png_path), "--x-axis", "updates"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "SGD" in out and "full batch" in out and "epochs to 0.05" in out
    comparison = Comparison(TrainConfig(), [TrainConfig(), TrainConfig(mode="batch")])
    comparison.run(8000)
    s = comparison.summaries(0.05)
    assert verdict(s, 0.05).split("(")[0] in out  # same epochs to target as a fresh comparison
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert len(rows) == 16000 and rows[0]["label"] == "SGD" and rows[-1]["label"] == "full batch"
    assert rows[8000]["epoch"] == "1" and rows[8000]["updates"] == "1" and rows[1]["updates"] == "8"
    np.testing.assert_array_equal([float(r["loss"]) for r in rows[:8000]], comparison.loss(0))
    assert png_path.stat().st_size > 1000


@pytest.mark.parametrize(
    ("argv", "needle"),
    [(["compare", "--run", "mode=sgd"], "2 to 6 runs"), (["compare", "--run", "mode=sgd", "--run", "hidden=3"], "cannot vary"),
     (["compare", "--run", "a=b", "--run", "mode=sgd"], "run 1 ('a=b'): 'a' is not a setting; use one of"),
     (["compare"], "--run"),
     (["compare", "--run", "mode=sgd", "--run", "mode=batch", "--target-loss", "0"], "--target-loss"),
     (["compare", "--run", "mode=sgd", "--run", ""], "--run: run 2: nothing given; give FIELD=VALUE"),
     (["compare", "--run", "mode=sgd", "--run", "mode=batch", "--run", "mode=sgd,batch_size=2"],
      "--run: Runs 1 and 3 are the same run (SGD): they would train identically. Change a setting"),
     (["compare", "--run", "mode=batch", "--run", "mode=minibatch,batch_size=4"], "Runs 1 and 2 are the same run (full batch)"),
     (["compare", "--run", "mode=sgd", "--run", "learning_rate=0"],
      "--run: run 2 ('learning_rate=0'): learning_rate: '0' is not allowed; it must be a finite number > 0"),
     (["compare", "--batch-size", "0", "--run", "mode=sgd", "--run", "mode=batch"],
      "error: --batch-size: '0' is not allowed; it must be an integer from 1 to"),
     (["sweep", "--seeds", "0"], "--seeds"), (["sweep", "--learning-rate", "0.1,x"], "'x' is not a number"),
     (["sweep", "--learning-rate", "0.1,0"], "error: --learning-rate/--lr: '0' is not allowed; it must be a finite number > 0"),
     (["sweep", "--lr", "-2"], "error: --learning-rate/--lr: '-2' is not allowed; it must be a finite number > 0"),
     (["sweep", "--momentum", "1"], "error: --momentum: '1' is not allowed; it must be a number with 0 <= value < 1"),
     (["sweep", "--optimizer", "rmsprop"], "'rmsprop' is not one of sgd, momentum, adam"),
     (["sweep", "--shuffle"], "cannot shuffle"),
     (["sweep", "--hidden", "0"], "--hidden"), (["sweep", "--csv", "/nonexistent-dir/s.csv"], "does not exist")],
)  # fmt: skip
def test_compare_and_sweep_bad_input(capsys, argv, needle):
    with pytest.raises(SystemExit) as info:
        main.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_sweep_command(capsys, tmp_path):
    path = tmp_path / "s.csv"
    code = main.main(["sweep", "--seeds", "20", "--seed-start", "5", "--learning-rate", "0.5,2", "--hidden", "2,3",
                      "--optimizer", "sgd", "--epochs", "800", "--csv", str(path)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "80 runs of 800 epochs" in out and "seeds 5..24" in out
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert len(rows) == 80
    assert {"seed", "learning_rate", "hidden", "optimizer", "solved", "epochs_to_solve", "final_loss"} <= set(rows[0])
    row = rows[33]
    config = TrainConfig(seed=int(row["seed"]), learning_rate=float(row["learning_rate"]), hidden=(int(row["hidden"]),))
    chunk = Trainer(config).run(800)
    assert float(row["final_loss"]) == chunk.loss[-1]
    assert (row["epochs_to_solve"] == "") == (row["solved"] == "false")
    assert Trainer(config).predict(XOR_INPUTS).shape == (4,)


def test_sweep_ctrl_c_keeps_the_finished_runs(capsys, tmp_path, monkeypatch):
    """Ctrl+C stops the sweep after the runs in flight: their table is printed, --csv gets them, exit 130."""
    original = main.run_sweep

    def run_sweep_with_ctrl_c(spec, progress=None, cancelled=None, **streaming):
        def progress_then_ctrl_c(done, total):
            progress(done, total)
            signal.raise_signal(signal.SIGINT)  # as if pressed while the first runs trained

        return original(spec, progress=progress_then_ctrl_c, cancelled=cancelled, **streaming)

    monkeypatch.setattr(main, "run_sweep", run_sweep_with_ctrl_c)
    path = tmp_path / "s.csv"
    code = main.main(["sweep", "--seeds", "200", "--learning-rate", "0.5", "--epochs", "300", "--csv", str(path)])
    out, err = capsys.readouterr()
    assert code == main.EXIT_INTERRUPTED
    assert err == f"interrupted after {BATCH_RUNS} of 200 runs; saving them to {path}\n"
    assert f"{BATCH_RUNS} of 200 runs of 300 epochs in " in out and ", interrupted (seeds 0..199;" in out
    assert f"/{BATCH_RUNS})" in out  # the table counts the finished runs
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [int(row["seed"]) for row in rows] == list(range(BATCH_RUNS))
    assert float(rows[7]["final_loss"]) == Trainer(TrainConfig(seed=7, learning_rate=0.5)).run(300).loss[-1]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_sweep_shows_progress_in_runs(capsys, monkeypatch):
    bars = []

    class Bar:
        def __init__(self, total, unit):
            self.total, self.unit, self.n, self.closed = total, unit, 0, False
            bars.append(self)

        def update(self, k):
            self.n += k

        def close(self):
            self.closed = True

    monkeypatch.setattr(main, "progress_bar", Bar)
    assert main.main(["sweep", "--seeds", "100", "--learning-rate", "0.5,2", "--epochs", "50"]) == 0
    assert [(bar.total, bar.unit, bar.n, bar.closed) for bar in bars] == [(200, "run", 200, True)]
    assert "\r" not in capsys.readouterr().err


# --- data other than XOR ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def circle():
    return make_dataset(DataSpec("circle", points=60, noise=0.1, train_fraction=0.5, data_seed=2))


def test_compared_runs_train_on_the_given_data_as_trainers_do(circle):
    base = TrainConfig(hidden=(4,), activation="tanh", learning_rate=0.05)
    configs = [base, base.replace(mode="minibatch", batch_size=7, optimizer="adam")]
    comparison = Comparison(base, configs, data=circle)
    assert comparison.n_samples == circle.n_train == 30
    comparison.run(120, chunk=50)
    initial = Trainer(base, data=circle).initial_params
    for i, config in enumerate(configs):
        alone = Trainer(config, data=circle, initial_params=initial).run(120)
        np.testing.assert_array_equal(comparison.loss(i), alone.loss)
        np.testing.assert_array_equal(comparison.metrics(i), alone.metrics)
    summaries = comparison.summaries(target_loss=0.2)
    for i, s in enumerate(summaries):
        assert s.final_train_accuracy == comparison.metrics(i)[-1, 1] and s.final_test_accuracy == comparison.metrics(i)[-1, 2]
        if s.epochs_to_target is not None:
            assert s.gradient_evaluations_to_target == s.epochs_to_target * 30
    assert summaries[1].updates_to_target in (None, summaries[1].epochs_to_target * 5)  # ceil(30 / 7) updates per epoch


def test_the_data_size_decides_which_runs_are_the_same(circle):
    full = TrainConfig(mode="minibatch", batch_size=4)
    assert training_key(full) == training_key(TrainConfig(mode="batch"))  # XOR: a mini-batch of all 4 is full batch
    assert training_key(full, circle.n_train) != training_key(TrainConfig(mode="batch"), circle.n_train)
    assert describe_duplicates([full, TrainConfig(mode="batch")]) is not None
    assert describe_duplicates([full, TrainConfig(mode="batch")], n_samples=circle.n_train) is None
    assert run_label(full) == "full batch" and run_label(full, n_samples=30) == "mini-batch 4"
    assert updates_per_epoch(full, 30) == 8 and gradient_evaluations_per_epoch(full, 30) == 30
    np.testing.assert_array_equal(x_values("updates", np.array([1, 2]), np.zeros(2), full, 30), [8, 16])


def test_compare_reports_carry_the_metrics(circle):
    base = TrainConfig(hidden=(3,))
    comparison = Comparison(base, [base, base.replace(mode="batch")], data=circle)
    comparison.run(40)
    rows = list(csv.DictReader(io.StringIO(compare_csv(comparison))))
    assert list(rows[0]) == ["run", "label", "epoch", "updates", "gradient_evaluations", "seconds", "loss", "test_loss",
                             "train_accuracy", "test_accuracy"]  # fmt: skip
    assert len(rows) == 80 and rows[41]["gradient_evaluations"] == "60" and rows[41]["updates"] == "2"
    assert float(rows[39]["test_accuracy"]) == comparison.metrics(0)[-1, 2]
    table = compare_table(comparison.summaries(), 0.01, circle)
    assert "train acc" in table.splitlines()[0] and "solved" not in table and "%" in table
    xor = Comparison(TrainConfig(), [TrainConfig(), TrainConfig(mode="batch")])
    xor.run(10)
    assert compare_table(xor.summaries(), 0.01).splitlines()[0].endswith("final loss  solved")
    assert next(csv.DictReader(io.StringIO(compare_csv(xor))))["test_loss"] == "nan"


def test_sweep_runs_on_the_given_data_and_counts_epochs_to_the_target_accuracy(circle):
    spec = SweepSpec(TrainConfig(activation="tanh"), seeds=(1, 2, 3), learning_rates=(0.05,), hidden=(4,),
                     optimizers=("sgd", "adam"), epochs=150, data=circle, target_accuracy=0.9)  # fmt: skip
    result = run_sweep(spec)
    assert result.final_predictions.shape == (6, 0)
    for row in range(len(result)):
        chunk = Trainer(result.config_of(row), data=circle).run(150)
        assert chunk.loss[-1] == result.final_loss[row]
        assert result.final_train_accuracy[row] == chunk.metrics[-1, 1]
        assert result.final_test_accuracy[row] == chunk.metrics[-1, 2]
        reached = np.flatnonzero(chunk.metrics[:, 2] >= 0.9)
        assert result.epochs_to_solve[row] == (reached[0] + 1 if len(reached) else 0)
    assert "stuck at 0.5" not in result.outcome  # a state of recorded outputs, which this data does not keep
    groups = summarize_groups(result)
    assert groups[0].median_test_accuracy == np.median(result.final_test_accuracy[:3])
    assert spec.solved_rule == "test accuracy >= 90%"
    table = sweep_table(groups, circle)
    assert "test acc (median)" in table and "stuck at 0.5" not in table
    rows = list(csv.DictReader(io.StringIO(sweep_csv(result))))
    assert float(rows[2]["test_accuracy"]) == result.final_test_accuracy[2]


def test_sweep_target_accuracy_and_the_solved_rule():
    base = {"seeds": (1,), "learning_rates": (0.1,), "hidden": (2,), "optimizers": ("sgd",), "epochs": 10}
    for bad in (0.0, -0.5, 1.01):
        with pytest.raises(ValueError, match="target accuracy"):
            SweepSpec(TrainConfig(), **base, target_accuracy=bad)
    assert SweepSpec(TrainConfig(), **base).solved_rule == "every output within 0.4 of its target"
    train_only = Trainer(inputs=np.random.default_rng(0).normal(size=(20, 2)), targets=[0, 1] * 10).data
    assert SweepSpec(TrainConfig(), **base, data=train_only, target_accuracy=0.975).solved_rule == "train accuracy >= 97.5%"
    result = run_sweep(SweepSpec(TrainConfig(), **base))
    row = next(csv.DictReader(io.StringIO(sweep_csv(result))))
    assert row["test_accuracy"] == "" and float(row["train_accuracy"]) == result.final_train_accuracy[0]
    assert "train acc" not in sweep_table(summarize_groups(result))


def test_compare_and_sweep_commands_on_a_dataset(capsys, tmp_path):
    path = tmp_path / "c.csv"
    code = main.main(["compare", "--dataset", "moons", "--points", "40", "--run", "mode=sgd", "--run", "mode=batch",
                      "--epochs", "50", "--csv", str(path)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "train acc" in out and "test acc" in out
    assert len(path.read_text().splitlines()) == 101
    code = main.main(
        ["sweep", "--dataset", "moons", "--points", "40", "--seeds", "3", "--epochs", "50", "--target-accuracy", "80%"]
    )
    out = capsys.readouterr().out
    assert code == 0 and "solved = test accuracy >= 80%" in out and "test acc (median)" in out


@pytest.mark.parametrize(
    ("value", "needle"),
    [("0", "'0' is not allowed; give an accuracy above 0"), ("1.5", "'1.5' is not allowed"), ("101%", "'101%' is not allowed"),
     ("abc", "'abc' is not a number")],
)  # fmt: skip
def test_bad_target_accuracy_is_one_line(capsys, value, needle):
    with pytest.raises(SystemExit) as info:
        main.main(["sweep", "--target-accuracy", value])
    err = capsys.readouterr().err
    assert info.value.code == 2 and needle in err and len(err.splitlines()) == 2


def test_a_comparisons_x_values_count_its_own_training_points(circle):
    base = TrainConfig(hidden=(3,))
    comparison = Comparison(base, [base, base.replace(mode="minibatch", batch_size=4)], data=circle)
    comparison.run(5)
    np.testing.assert_array_equal(comparison.x_values(1, "updates"), np.arange(1, 6) * 8)  # ceil(30 / 4)
    np.testing.assert_array_equal(comparison.x_values(0, "gradient evaluations"), np.arange(1, 6) * 30)
    np.testing.assert_array_equal(comparison.x_values(0, "seconds"), comparison.seconds(0))
