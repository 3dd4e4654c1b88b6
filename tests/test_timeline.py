"""Time travel: any epoch's state recomputed from bounded checkpoints equals a headless trainer's, bit for bit;
branches equal a trainer restored there with the new settings; trees of runs round-trip through files."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import main
from engine import History, TrainConfig, Trainer
from engine.datasets import DataSpec, make_dataset
from engine.experiment import Experiment, load_experiment, save_experiment
from engine.timeline import (
    DEFAULT_BUDGET,
    PastUnknownError,
    RunTree,
    Timeline,
    checkpoint_bytes,
    default_every,
    history_until,
    same_state,
)
from tests.strategies import configs

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = make_dataset(DataSpec("spiral", points=24, data_seed=2))  # a test split, no recorded predictions


def assert_same_state(a, b):
    """Bit for bit: theta, initial theta, optimizer state, updates, epoch, diverged, shuffle generator."""
    assert (a.epoch, a.updates, a.diverged) == (b.epoch, b.updates, b.diverged)
    assert a.rng_state == b.rng_state
    for name in ("theta", "initial_theta", "opt_m", "opt_v"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    assert same_state(a, b)


def record(timeline: Timeline, trainer: Trainer, until: int, chunk: int | None = None) -> None:
    """Train `trainer` to epoch `until`, recording; chunks end at checkpoints (or every `chunk` epochs)."""
    while trainer.epoch < until and not trainer.diverged:
        stop = timeline.next_stop(trainer.epoch) if chunk is None else trainer.epoch + chunk
        trainer.run(min(stop, until) - trainer.epoch)
        timeline.record(trainer)


def headless(segments, epoch: int, data=None) -> Trainer:
    """A trainer trained to `epoch` from scratch, switching settings at the segments' epochs: [(from_epoch, config)]."""
    trainer = Trainer(segments[0][1], data=data)
    for (start, config), nxt in zip(segments, [*segments[1:], (None, None)], strict=True):
        trainer.set_config(config)
        end = epoch if nxt[0] is None else min(epoch, nxt[0])
        if end > start:
            trainer.run(end - trainer.epoch)
    return trainer


def change(config: TrainConfig, draw) -> TrainConfig:
    """New training settings (never the network or the seed)."""
    return config.replace(
        learning_rate=draw(st.sampled_from([0.02, 0.3, 2.0])),
        mode=draw(st.sampled_from(["sgd", "minibatch", "batch"])),
        batch_size=draw(st.integers(1, 5)),
        shuffle=draw(st.booleans()),
        optimizer=draw(st.sampled_from(["sgd", "momentum", "adam"])),
        l2=draw(st.sampled_from([0.0, 0.01])),
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data(), config=configs(max_layers=2, max_units=4))
def test_state_at_any_epoch_equals_a_headless_trainer(data, config):
    draw = data.draw
    on = draw(st.sampled_from([None, SMALL]))
    every = draw(st.sampled_from([1, 4, 16, 64]))
    first_len = draw(st.integers(0, 120))
    second_len = draw(st.integers(0, 120))
    timeline = Timeline(config, make_dataset() if on is None else on, every=every)
    trainer = Trainer(config, data=on)
    record(timeline, trainer, first_len, chunk=draw(st.sampled_from([None, 1, 7, 50])))
    new = change(config, draw) if draw(st.booleans()) and not trainer.diverged else None
    if new is not None:
        trainer.set_config(new)
        timeline.set_config(trainer.epoch, new)
    changed_at = trainer.epoch
    record(timeline, trainer, trainer.epoch + second_len, chunk=draw(st.sampled_from([None, 5, 33])))
    assert timeline.last_epoch == trainer.epoch

    reference = Trainer(config, data=on)  # one headless run, epoch by epoch
    states = [reference.state()]
    while reference.epoch < timeline.last_epoch:
        if reference.epoch == changed_at and new is not None:
            reference.set_config(new)
        reference.run(1)
        states.append(reference.state())
    last = timeline.last_epoch
    epochs = draw(st.lists(st.integers(0, last), min_size=1, max_size=8))
    for epoch in [*epochs, min(changed_at + 1, last), last, 0, last // 2]:
        assert_same_state(timeline.state_at(epoch), states[epoch])
    assert timeline.trainer_at(epochs[0]).config == (config if new is None or epochs[0] < changed_at else new)


def test_a_change_of_settings_in_the_middle_of_an_epoch_is_recomputed_exactly():
    config = TrainConfig(shuffle=True, learning_rate=0.2, seed=3)
    timeline, trainer = Timeline(config, make_dataset(), every=4), Trainer(config)
    record(timeline, trainer, 10)
    trainer.step_sample()
    trainer.step_sample()
    timeline.record(trainer)
    faster = config.replace(learning_rate=0.9, optimizer="momentum")
    trainer.set_config(faster)
    timeline.set_config(10, faster)  # at sample 2 of epoch 11
    record(timeline, trainer, 20)

    twin = Trainer(config)
    twin.run(10)
    twin.step_sample()
    twin.step_sample()
    twin.set_config(faster)
    states = {10: None}
    for epoch in range(11, 21):
        twin.run(1)
        states[epoch] = twin.state()
    for epoch in range(11, 21):
        assert_same_state(timeline.state_at(epoch), states[epoch])
    assert timeline.config_at(10) == config and timeline.config_at(11) == faster


def test_rows_are_the_history_recomputed():
    config = TrainConfig(mode="minibatch", batch_size=5, shuffle=True, optimizer="adam", learning_rate=0.01)
    timeline, trainer = Timeline(config, SMALL, every=16), Trainer(config, data=SMALL)
    record(timeline, trainer, 200)
    rows = Trainer(config, data=SMALL).run(200).rows()
    np.testing.assert_array_equal(timeline.rows(1, 200), rows)
    np.testing.assert_array_equal(timeline.rows(37, 38), rows[36:38])


def test_an_epoch_outside_the_run_is_one_clear_error():
    timeline, trainer = Timeline(TrainConfig(), make_dataset()), Trainer()
    record(timeline, trainer, 50)
    for epoch in (-1, 51):
        with pytest.raises(ValueError, match=f"epoch {epoch} is outside this run: it has epochs 0 to 50"):
            timeline.state_at(epoch)
    with pytest.raises(ValueError, match="whole number"):
        timeline.state_at(2.5)


@pytest.mark.parametrize(("optimizer", "parts"), [("momentum", 3), ("sgd", 1)])
def test_checkpoints_stay_within_their_budget_and_the_interval_doubles(optimizer, parts):
    """Plain SGD leaves the optimizer state zeros: its checkpoints keep only theta, and more of them fit."""
    config = TrainConfig(hidden=(3,), shuffle=True, optimizer=optimizer)
    budget = 20 * checkpoint_bytes(13, parts)  # room for 20 checkpoints of a 2-3-1 network
    timeline, trainer = Timeline(config, make_dataset(), budget_bytes=budget, every=2), Trainer(config)
    record(timeline, trainer, 400)
    assert timeline.nbytes <= budget and timeline.n_checkpoints <= 20
    assert timeline.every >= 400 // 20 and timeline.every & (timeline.every - 1) == 0
    epochs = timeline.checkpoint_epochs
    assert epochs[0] == 0 and (epochs[1:] % timeline.every == 0).all()
    for epoch in (0, 1, 199, 257, 400):
        assert_same_state(timeline.state_at(epoch), headless([(0, config)], epoch).state())


def test_the_default_policy_keeps_10_to_the_8_epochs_of_xor_within_64_mb():
    """The bar: checkpoints <= 64 MB at 10^8 epochs (the policy's arithmetic; benchmarks/timeline.py measures)."""
    config, data = TrainConfig(), make_dataset()
    every, per = default_every(config, data), checkpoint_bytes(9)
    capacity = DEFAULT_BUDGET // per
    while 10**8 // every + 1 > capacity:
        every *= 2
    assert (10**8 // every + 1) * per <= DEFAULT_BUDGET


def test_truncating_continues_from_there():
    config = TrainConfig(optimizer="adam", shuffle=True)
    timeline, trainer = Timeline(config, make_dataset(), every=8), Trainer(config)
    record(timeline, trainer, 100)
    timeline.truncate(43)
    assert timeline.last_epoch == 43
    again = timeline.trainer_at(43)
    record(timeline, again, 90)
    assert_same_state(timeline.state_at(77), headless([(0, config)], 77).state())
    with pytest.raises(ValueError, match="outside this run"):
        timeline.state_at(91)


def test_settings_change_only_at_the_end_and_never_the_network():
    timeline, trainer = Timeline(TrainConfig(), make_dataset()), Trainer()
    record(timeline, trainer, 20)
    with pytest.raises(ValueError, match="only at the run's end"):
        timeline.set_config(10, TrainConfig(learning_rate=1.0))
    with pytest.raises(ValueError, match="hidden: a new network or seed is a new run"):
        timeline.set_config(20, TrainConfig(hidden=(3,)))
    trainer.set_config(TrainConfig(learning_rate=1.0))
    with pytest.raises(ValueError, match="call set_config"):
        timeline.record(trainer)


@settings(max_examples=15, deadline=None)
@given(data=st.data(), config=configs(max_layers=2, max_units=3))
def test_a_branch_equals_a_trainer_restored_there_with_the_new_settings(data, config):
    draw = data.draw
    tree = RunTree(config, make_dataset())
    root = tree.current_run
    trainer = Trainer(config)
    while trainer.epoch < 80 and not trainer.diverged:
        root.history.extend(trainer.run(min(root.timeline.next_stop(trainer.epoch), 80) - trainer.epoch).rows())
        root.timeline.record(trainer)
    epoch = draw(st.integers(0, root.last_epoch))
    new = change(config, draw)
    branch = tree.branch(0, epoch, new)
    run = tree.run(branch)
    assert run.parent == 0 and run.branch_epoch == epoch and [r.id for r in tree.children(0)] == [branch]

    reference = Trainer(config)
    reference.restore(root.timeline.state_at(epoch))
    reference.set_config(new)
    branched = Trainer(run.config)
    branched.restore(run.state)
    assert_same_state(branched.state(), reference.state())
    np.testing.assert_array_equal(run.history.exact(), root.history.exact()[:epoch])
    a, b = reference.run(30), branched.run(30)
    np.testing.assert_array_equal(a.rows(), b.rows())
    assert_same_state(reference.state(), branched.state())


def grow(tree: RunTree, run_id: int, epochs: int) -> Trainer:
    """Train run `run_id` of `tree` `epochs` more epochs, recording its timeline and history."""
    run = tree.run(run_id)
    trainer = Trainer(run.config, data=tree.data)
    trainer.restore(run.state)
    target = trainer.epoch + epochs
    while trainer.epoch < target and not trainer.diverged:
        run.history.extend(trainer.run(min(run.timeline.next_stop(trainer.epoch), target) - trainer.epoch).rows())
        run.timeline.record(trainer)
    return trainer


def test_a_tree_round_trips_through_a_file(tmp_path):
    config = TrainConfig(hidden=(3,), mode="minibatch", batch_size=2, shuffle=True, optimizer="momentum")
    tree = RunTree(config, make_dataset())
    grow(tree, 0, 300)
    one = tree.branch(0, 120, config.replace(learning_rate=0.7), label="faster")
    grow(tree, one, 200)
    two = tree.branch(one, 250, config.replace(optimizer="adam", learning_rate=0.01))  # from the branch's own part
    three = tree.branch(one, 50, config.replace(mode="sgd"))  # an epoch before it branched: the root's state
    grow(tree, three, 40)
    tree.current = one
    trainer = grow(tree, one, 0)
    path = tmp_path / "tree.bplab"
    save_experiment(path, Experiment.capture(trainer, tree.current_run.history, "tree", tree=tree))
    header = json.loads(np.load(path)["header"].tobytes())
    assert header["version"] == 3 and [r["id"] for r in header["tree"]["runs"]] == [0, one, two, three]

    loaded = load_experiment(path)
    again = loaded.tree
    assert again.current == one and [r.id for r in again.runs()] == [0, one, two, three]
    assert [r.parent for r in again.runs()] == [None, 0, one, one] and again.run(one).label == "faster"
    for run in tree.runs():
        twin = again.run(run.id)
        assert twin.branch_epoch == run.branch_epoch and twin.timeline.segments == run.timeline.segments
        np.testing.assert_array_equal(twin.history.exact(), run.history.exact())
        for epoch in sorted({0, run.branch_epoch, run.last_epoch, (run.branch_epoch + run.last_epoch) // 2, 7}):
            if epoch <= run.last_epoch:
                assert_same_state(again.state_at(run.id, epoch), tree.state_at(run.id, epoch))
    resumed = loaded.trainer()
    np.testing.assert_array_equal(resumed.run(50).rows(), trainer.run(50).rows())


def test_a_branch_past_the_exact_history_rebuilds_the_cut_bucket():
    config = TrainConfig(learning_rate=0.5)
    tree = RunTree(config, make_dataset(), history=History(n_series=8, exact_limit=100, summary_capacity=8))
    grow(tree, 0, 2000)
    branch = tree.branch(0, 1337, config.replace(learning_rate=0.1))
    history = tree.run(branch).history
    rows = Trainer(config).run(1337).rows()
    assert history.n_epochs == 1337 and history.n_exact == 100
    np.testing.assert_array_equal(history.exact(), rows[:100])
    np.testing.assert_array_equal(history.last, rows[-1])
    first, last, mins, maxs = history.summary()
    assert last[-1] == 1337
    for f, la, lo, hi in zip(first, last, mins, maxs, strict=True):
        block = rows[f - 1 : la]
        np.testing.assert_array_equal(lo, np.min(block, axis=0))
        np.testing.assert_array_equal(hi, np.max(block, axis=0))
    assert history_until(tree.run(0).history, 0, None).n_epochs == 0


# --- files that did not record their past --------------------------------------------------------------
def test_a_v1_file_recomputes_its_past_from_its_initial_weights():
    tree = load_experiment(FIXTURES / "v1_notebook_1500.bplab").tree
    assert tree.current_run.timeline.known is None
    assert_same_state(tree.state_at(0, 777), headless([(0, TrainConfig())], 777).state())
    assert tree.current_run.timeline.known is True


def test_a_file_whose_settings_changed_says_its_past_is_unknown():
    tree = load_experiment(FIXTURES / "v2_xor_lr_changed.bplab").tree
    with pytest.raises(PastUnknownError, match="does not record how its past was trained"):
        tree.state_at(0, 300)
    assert tree.current_run.timeline.known is False
    assert tree.state_at(0, 1000).epoch == 1000  # its end is known


# --- the command line ---------------------------------------------------------------------------------
def run_cli(capsys, *argv):
    code = main.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_at_prints_the_state_at_that_epoch_and_trains_nothing(tmp_path, capsys):
    path = tmp_path / "run.bplab"
    assert run_cli(capsys, "train", "--epochs", 4000, "--log-every", 0, "--lr", 0.3, "--save", path)[0] == 0
    before = path.read_bytes()
    code, out, err = run_cli(capsys, "train", "--load", path, "--at", 2500)
    assert code == 0 and err == ""
    assert out == run_cli(capsys, "train", "--epochs", 2500, "--log-every", 0, "--lr", 0.3)[1]
    assert path.read_bytes() == before


def test_cli_at_on_other_data_prints_the_metrics(tmp_path, capsys):
    path = tmp_path / "moons.bplab"
    assert run_cli(capsys, "train", "--dataset", "moons", "--points", 60, "--epochs", 300, "--log-every", 0,
                   "--save", path)[0] == 0  # fmt: skip
    code, out, _ = run_cli(capsys, "train", "--load", path, "--at", 120)
    assert code == 0 and out.startswith("After training: train loss")
    assert out == run_cli(capsys, "train", "--dataset", "moons", "--points", 60, "--epochs", 120, "--log-every", 0)[1]


def test_cli_branch_at_trains_a_branch_and_saves_the_tree(tmp_path, capsys):
    path, out_path = tmp_path / "run.bplab", tmp_path / "tree.bplab"
    run_cli(capsys, "train", "--epochs", 3000, "--log-every", 0, "--save", path)
    code, out, _ = run_cli(capsys, "train", "--load", path, "--branch-at", 2500, "--lr", 0.5, "--epochs", 1000,
                           "--log-every", 0, "--save", out_path)  # fmt: skip
    assert code == 0
    reference = Trainer()
    reference.run(2500)
    reference.set_config(TrainConfig(learning_rate=0.5))
    reference.run(1000)
    loaded = load_experiment(out_path)
    assert_same_state(loaded.state, reference.state())
    assert [(r.id, r.parent, r.branch_epoch, r.last_epoch) for r in loaded.tree.runs()] == [
        (0, None, 0, 3000),
        (1, 0, 2500, 3500),
    ]
    assert str(reference.predict(reference.data.train_inputs).reshape(1, -1)) in out
    assert_same_state(loaded.tree.state_at(0, 3000), headless([(0, TrainConfig())], 3000).state())
    assert loaded.tree.run(1).label == "lr 0.5 from epoch 2,500"  # named as the window names its branches
    code, _, err = run_cli(capsys, "train", "--load", out_path, "--at", 3700)
    assert code == 2 and "its current run, lr 0.5 from epoch 2,500, of 2 runs" in err and len(err.strip().splitlines()) == 1
    # the saved branch answers --at too, on its own part and on its parent's
    assert run_cli(capsys, "train", "--load", out_path, "--at", 3500)[1] == out
    assert run_cli(capsys, "train", "--load", out_path, "--at", 100)[1] == run_cli(capsys, "train", "--epochs", 100,
                                                                                    "--log-every", 0)[1]  # fmt: skip


def test_cli_continuing_with_new_settings_records_them(tmp_path, capsys):
    path = tmp_path / "run.bplab"
    run_cli(capsys, "train", "--epochs", 500, "--log-every", 0, "--save", path)
    run_cli(capsys, "train", "--load", path, "--epochs", 500, "--lr", 2.0, "--log-every", 0, "--save", path)
    code, out, _ = run_cli(capsys, "train", "--load", path, "--at", 750)
    twin = headless([(0, TrainConfig()), (500, TrainConfig(learning_rate=2.0))], 750)
    assert code == 0 and str(twin.predict(twin.data.train_inputs).reshape(1, -1)) in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--at", 3001], "epoch 3,001 is outside this run: it has epochs 0 to 3,000"),
        (["--branch-at", 5000, "--lr", 0.5], "epoch 5,000 is outside this run: it has epochs 0 to 3,000"),
    ],
)
def test_cli_an_epoch_outside_the_run_is_one_line_and_exit_2(tmp_path, capsys, argv, needle):
    path = tmp_path / "run.bplab"
    run_cli(capsys, "train", "--epochs", 3000, "--log-every", 0, "--save", path)
    code, out, err = run_cli(capsys, "train", "--load", path, *argv)
    assert code == 2 and out == "" and err == f"error: {path}: {needle}\n"


def test_cli_a_file_that_does_not_record_its_past_is_one_sentence(capsys):
    path = FIXTURES / "v2_xor_lr_changed.bplab"
    code, out, err = run_cli(capsys, "train", "--load", path, "--at", 300)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "does not record how its past was trained" in err


def test_cli_at_needs_load_and_trains_nothing(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main.main(["train", "--at", "5"])
    assert exit_info.value.code == 2 and "--at: needs --load PATH" in capsys.readouterr().err
    path = tmp_path / "run.bplab"
    run_cli(capsys, "train", "--epochs", 30, "--log-every", 0, "--save", path)
    with pytest.raises(SystemExit) as exit_info:
        main.main(["train", "--load", str(path), "--at", "5", "--lr", "0.5"])
    assert exit_info.value.code == 2 and "--at prints a saved run's state and trains nothing" in capsys.readouterr().err


# --- damaged trees ----------------------------------------------------------------------------------------
def saved_tree(tmp_path) -> Path:
    config = TrainConfig(optimizer="adam")
    tree = RunTree(config, make_dataset())
    grow(tree, 0, 100)
    tree.current = tree.branch(0, 40, config.replace(learning_rate=0.3))
    trainer = grow(tree, tree.current, 30)
    path = tmp_path / "tree.bplab"
    save_experiment(path, Experiment.capture(trainer, tree.current_run.history, tree=tree))
    return path


def rewrite(path: Path, edit) -> None:
    with np.load(path, allow_pickle=False) as data:
        members = {k: data[k] for k in data.files}
    header = json.loads(members["header"].tobytes())
    edit(header, members)
    members["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(path, "wb") as handle:
        np.savez(handle, **members)


def set_parent(header, _members):
    header["tree"]["runs"][1]["parent"] = 7


def bad_segment(header, _members):
    header["tree"]["runs"][0]["segments"][0]["config"]["learning_rate"] = -1


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (set_parent, "its tree of runs is not valid: run 1 branches from run 7"),
        (lambda h, m: m.pop("r1_ck_floats"), "run 1's checkpoints are missing"),
        (lambda h, m: m.update(r9_theta=np.zeros(9)), "parts of runs its tree does not list (r9_theta)"),
        (bad_segment, "run 0's settings are not valid"),
        (lambda h, m: h.pop("tree"), "it has parts of runs (r0_ck_floats) but no tree of runs"),
        (lambda h, m: m.update(r0_ck_ints=m["r0_ck_ints"] + 5), "run 0 does not fit together"),
        (lambda h, m: h["tree"]["runs"][0].update(known="yes"), "run 0 is malformed"),
        (lambda h, m: m.update(r0_theta=np.zeros(5)), "run 0: theta has shape (5,)"),
    ],
)
def test_a_damaged_tree_is_one_clear_error(tmp_path, edit, needle):
    from engine.experiment import ExperimentError

    path = saved_tree(tmp_path)
    load_experiment(path)  # the undamaged file opens
    rewrite(path, edit)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert needle in str(info.value)


def test_a_file_keeps_a_bounded_number_of_checkpoints(tmp_path, monkeypatch):
    from engine import experiment

    monkeypatch.setattr(experiment, "CHECKPOINT_FILE_BYTES", 2 * 10 * checkpoint_bytes(9))  # 10 a run
    config = TrainConfig(optimizer="momentum", shuffle=True)
    tree = RunTree(config, make_dataset())
    tree.current_run.timeline._every = 4  # many checkpoints
    trainer = grow(tree, 0, 400)
    tree.branch(0, 100, config.replace(learning_rate=0.5))
    assert tree.current_run.timeline.n_checkpoints > 10
    path = tmp_path / "t.bplab"
    save_experiment(path, Experiment.capture(trainer, tree.current_run.history, tree=tree))
    loaded = load_experiment(path).tree
    kept = loaded.run(0).timeline
    assert kept.n_checkpoints <= 10 and kept.every > 4
    for epoch in (0, 3, 250, 399):
        assert_same_state(loaded.state_at(0, epoch), headless([(0, config)], epoch).state())


def test_a_tree_run_truncated_continues_from_there():
    config = TrainConfig(shuffle=True)
    tree = RunTree(config, make_dataset())
    grow(tree, 0, 200)
    branch = tree.branch(0, 150, config.replace(learning_rate=0.5))
    with pytest.raises(ValueError, match=f"run {branch} branched from this run after epoch 100"):
        tree.truncate(0, 100)
    tree.truncate(0, 170)
    root = tree.run(0)
    assert root.last_epoch == 170 and root.history.n_epochs == 170
    trainer = grow(tree, 0, 30)
    reference = headless([(0, config)], 200)
    assert_same_state(trainer.state(), reference.state())
    np.testing.assert_array_equal(root.history.exact(), Trainer(config).run(200).rows())


@settings(max_examples=12, deadline=None)
@given(data=st.data(), config=configs(max_layers=2, max_units=3))
def test_random_trees_round_trip_through_files(tmp_path_factory, data, config):
    draw = data.draw
    tree = RunTree(config, SMALL)
    trainer = grow(tree, 0, draw(st.integers(1, 60)))
    for _ in range(draw(st.integers(1, 3))):
        parent = draw(st.sampled_from([r.id for r in tree.runs()]))
        epoch = draw(st.integers(0, tree.run(parent).last_epoch))
        branch = tree.branch(parent, epoch, change(config, draw))
        tree.current = branch
        trainer = grow(tree, branch, draw(st.integers(0, 40)))
    path = tmp_path_factory.mktemp("trees") / "t.bplab"
    save_experiment(path, Experiment.capture(trainer, tree.current_run.history, tree=tree))
    loaded = load_experiment(path)
    assert loaded.tree.current == tree.current
    for run in tree.runs():
        twin = loaded.tree.run(run.id)
        assert (twin.parent, twin.branch_epoch, twin.timeline.segments) == (run.parent, run.branch_epoch, run.timeline.segments)
        np.testing.assert_array_equal(twin.history.exact(), run.history.exact())
        for epoch in draw(st.lists(st.integers(0, run.last_epoch), min_size=1, max_size=3)):
            assert_same_state(loaded.tree.state_at(run.id, epoch), tree.state_at(run.id, epoch))
    np.testing.assert_array_equal(loaded.trainer().run(10).rows(), trainer.run(10).rows())


def test_runs_of_a_tree_share_one_scratch_trainer_and_stay_exact():
    """Requests alternating between runs (whose pasts one trainer recomputes) each match a headless run."""
    config = TrainConfig(shuffle=True, optimizer="adam", learning_rate=0.05)
    faster = config.replace(learning_rate=0.5, optimizer="momentum")
    tree = RunTree(config, make_dataset())
    tree.current_run.timeline._every = 8
    grow(tree, 0, 120)
    branch = tree.branch(0, 50, faster)
    tree.run(branch).timeline._every = 8
    grow(tree, branch, 70)
    assert tree.run(0).timeline._shared is tree.run(branch).timeline._shared

    def on_branch(epoch):
        trainer = headless([(0, config)], min(epoch, 50))
        if epoch > 50:
            trainer.set_config(faster)
            trainer.run(epoch - 50)
        return trainer.state()

    rng = np.random.default_rng(4)
    for _ in range(30):
        epoch = int(rng.integers(0, 121))
        assert_same_state(tree.state_at(0, epoch), headless([(0, config)], epoch).state())
        assert_same_state(tree.state_at(branch, epoch), on_branch(epoch))
        assert_same_state(tree.state_at(branch, min(epoch + 3, 120)), on_branch(min(epoch + 3, 120)))


def test_a_stale_history_is_made_whole_by_the_window_helper():
    """gui.time_travel.history_to: a run's history as of some time (the training thread keeps no live copy) ends at
    the run's latest epoch, bit for bit the headless rows: missing epochs recomputed, later ones dropped."""
    from gui.time_travel import history_to

    config = TrainConfig(mode="sgd", shuffle=True, seed=5)
    tree = RunTree(config, make_dataset())
    grow(tree, 0, 90)
    rows = Trainer(config).run(90).rows()
    stale = History(n_series=rows.shape[1])
    stale.extend(rows[:37])
    np.testing.assert_array_equal(history_to(stale, tree, 0).exact(), rows)
    ahead = History(n_series=rows.shape[1])
    ahead.extend(np.vstack([rows, rows[:5]]))
    np.testing.assert_array_equal(history_to(ahead, tree, 0).exact(), rows)


def test_rows_of_a_branch_made_below_its_parents_branch_point_are_its_own_path():
    config = TrainConfig(seed=3)
    tree = RunTree(config, make_dataset())
    grow(tree, 0, 600)
    one = tree.branch(0, 500, config.replace(learning_rate=0.5))
    grow(tree, one, 200)
    two = tree.branch(one, 300, config.replace(learning_rate=2.0))  # below run one's branch point: run zero's epoch 300
    grow(tree, two, 400)
    reference = Trainer(config)
    rows = reference.run(300).rows()
    reference.set_config(config.replace(learning_rate=2.0))
    rows = np.vstack([rows, reference.run(400).rows()])
    np.testing.assert_array_equal(tree.rows(two, 1, 700), rows)
    np.testing.assert_array_equal(tree.rows(two, 200, 200), rows[199:200])
