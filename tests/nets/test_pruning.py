"""Tests of latentgraph.nets.pruning: magnitude pruning, masks, resets, early stopping, one round."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from helpers import spy_training_settings

torch = pytest.importorskip("torch")

from latentgraph.nets.data import load_synthetic_bundle  # noqa: E402
from latentgraph.nets.models import build_model, model_spec, save_checkpoint  # noqa: E402
from latentgraph.nets.pruning import (  # noqa: E402
    EarlyStopping,
    MaskEnforcer,
    PruneRound,
    PruneSettings,
    RoundFiles,
    apply_mask,
    check_rate,
    conv_weight_names,
    full_mask,
    global_magnitude_prune,
    layerwise_magnitude_prune,
    load_mask,
    prune_and_reset,
    pruned_counts,
    pruned_fraction,
    rate_label,
    reset_to,
    round_data_config,
    round_summary,
    run_round,
    save_mask,
    stopping_point,
    train_early_stopping,
    train_round,
    train_settings,
)
from latentgraph.nets.training import TrainSettings, train_one_epoch  # noqa: E402
from latentgraph.utils import LatentGraphError  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks gain nothing from more threads, and oversubscribed cores make them crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_model(seed: int = 0):
    torch.manual_seed(seed)
    return build_model("resnet18", num_classes=4, stem="cifar", width=4)


def non_conv(state):
    names = set(conv_weight_names_of(state))
    return {k: v for k, v in state.items() if k not in names}


def conv_weight_names_of(state):
    return [k for k, v in state.items() if k.endswith(".weight") and v.ndim == 4]


# --------------------------------------------------------------------------- masks


def test_conv_weight_names_are_exactly_the_conv_weights():
    model = tiny_model()
    names = conv_weight_names(model)
    assert len(names) == 20  # 1 stem + 16 block convolutions + 3 shortcut convolutions
    assert names == conv_weight_names_of(model.state_dict())
    assert "conv1.weight" in names and "layer2.0.downsample.0.weight" in names
    assert not any(n.startswith("fc") or ".bn" in n or n.endswith(".bias") for n in names)


def reference_global_prune(state, mask, rate):
    """Independent numpy version: stable argsort of the surviving magnitudes in flat order."""
    names = list(mask)
    mags = np.concatenate([state[n].numpy().ravel().astype(np.float64) for n in names])
    mags = np.abs(mags.astype(np.float32))
    alive = np.concatenate([mask[n].numpy().ravel() for n in names])
    idx = np.flatnonzero(alive)
    count = int(math.floor(rate * idx.size + 0.5))
    drop = idx[np.argsort(mags[idx], kind="stable")[:count]]
    keep = alive.copy()
    keep[drop] = False
    return keep


@pytest.mark.parametrize("rate", [0.2, 0.01, 0.5])
def test_global_prune_removes_the_smallest_surviving_magnitudes(rate):
    model = tiny_model()
    state = model.state_dict()
    mask = full_mask(model)
    mask = global_magnitude_prune(state, mask, 0.3)  # some entries already pruned
    new = global_magnitude_prune(state, mask, rate)
    flat_new = np.concatenate([new[n].numpy().ravel() for n in new])
    np.testing.assert_array_equal(flat_new, reference_global_prune(state, mask, rate))
    before, total = pruned_counts(mask)
    after, _ = pruned_counts(new)
    assert after - before == math.floor(rate * (total - before) + 0.5)
    # nothing that was pruned comes back; survivors all outweigh the newly pruned
    for n in mask:
        assert not (new[n] & ~mask[n]).any()
    mags = torch.cat([state[n].abs().reshape(-1) for n in new])
    newly = torch.cat([(mask[n] & ~new[n]).reshape(-1) for n in new])
    kept = torch.cat([new[n].reshape(-1) for n in new])
    assert mags[newly].max() <= mags[kept].min()


def test_ties_are_broken_by_position():
    state = {"a.weight": torch.ones(2, 1, 2, 2), "b.weight": torch.ones(3, 1, 1, 1)}
    mask = {n: torch.ones_like(v, dtype=torch.bool) for n, v in state.items()}
    new = global_magnitude_prune(state, mask, 0.5)  # 11 weights -> 6 pruned, the first 6 in order
    assert new["a.weight"].reshape(-1).tolist() == [False] * 6 + [True] * 2
    assert new["b.weight"].all()
    again = global_magnitude_prune(state, mask, 0.5)
    assert all(torch.equal(new[n], again[n]) for n in new)


def test_layerwise_prune_takes_the_rate_of_each_layer():
    model = tiny_model()
    state = model.state_dict()
    mask = full_mask(model)
    new = layerwise_magnitude_prune(state, mask, 0.2)
    for n, m in new.items():
        assert int((~m).sum()) == math.floor(0.2 * m.numel() + 0.5)
        w = state[n].abs()
        assert w[~m].max() <= w[m].min()


@pytest.mark.parametrize("scope", ["global", "layerwise"])
@pytest.mark.parametrize("rate", [0.2, 0.01])
def test_iterative_pruned_fraction_follows_closed_form(rate, scope):
    """After i rounds the pruned share is 1 - (1 - p)^i, up to rounding of one weight per layer and round."""
    model = tiny_model()
    mask = full_mask(model)
    gen = torch.Generator().manual_seed(1)
    n_layers = len(mask)
    total = pruned_counts(mask)[1]
    prune = global_magnitude_prune if scope == "global" else layerwise_magnitude_prune
    for i in range(1, 16):
        # new random "trained" weights every round, as after retraining
        weights = {n: torch.randn(m.shape, generator=gen) for n, m in mask.items()}
        mask = prune(weights, mask, rate)
        pruned, _ = pruned_counts(mask)
        expected = (1 - (1 - rate) ** i) * total
        tolerance = 0.5 * i * (n_layers if scope == "layerwise" else 1)
        assert abs(pruned - expected) <= tolerance, (i, pruned, expected)
        assert pruned_fraction(mask) == pytest.approx(pruned / total)
    assert pruned_fraction(mask) == pytest.approx(1 - (1 - rate) ** 15, abs=1e-3)


@pytest.mark.parametrize("bad", [0, 1, 0.0, 1.0, -0.1, 1.5, float("nan"), "x", None, True])
def test_bad_rates_are_rejected(bad):
    model = tiny_model()
    with pytest.raises(LatentGraphError, match="rate"):
        check_rate(bad)
    with pytest.raises(LatentGraphError, match="rate"):
        global_magnitude_prune(model, full_mask(model), bad)


def test_rate_labels():
    assert rate_label(0.2) == "0.2"
    assert rate_label(0.01) == "0.01"
    assert rate_label(0.00001) == "0.00001"
    with pytest.raises(LatentGraphError):
        rate_label(1.0)


def test_mask_shape_mismatch_is_an_error():
    model = tiny_model()
    mask = full_mask(model)
    mask["conv1.weight"] = torch.ones(3, dtype=torch.bool)
    with pytest.raises(LatentGraphError, match="conv1.weight"):
        global_magnitude_prune(model, mask, 0.2)
    with pytest.raises(LatentGraphError, match="not a weight"):
        global_magnitude_prune(model, {"nope.weight": torch.ones(1, dtype=torch.bool)}, 0.2)


def test_pruning_and_masking_leave_fc_bias_and_batchnorm_untouched():
    model = tiny_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    mask = global_magnitude_prune(model, full_mask(model), 0.5)
    assert set(mask) == set(conv_weight_names(model))
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # pruning reads only
    apply_mask(model, mask)
    after = model.state_dict()
    for k, v in after.items():
        if k in mask:
            assert torch.equal(v[mask[k]], before[k][mask[k]])
            assert (v[~mask[k]] == 0).all() and (~mask[k]).any()
        else:  # fc, BatchNorm weights, biases and running statistics
            assert torch.equal(v, before[k]), k


def test_reset_restores_theta0_exactly():
    model = tiny_model(seed=0)
    theta0 = {k: v.clone() for k, v in model.state_dict().items()}
    # "train": change every tensor, BatchNorm statistics included
    with torch.no_grad():
        for v in model.state_dict().values():
            if v.is_floating_point():
                v.add_(torch.randn_like(v))
            else:
                v.add_(7)
    mask = global_magnitude_prune(model, full_mask(model), 0.2)
    reset_to(model, theta0, mask)
    for k, v in model.state_dict().items():
        if k in mask:
            assert torch.equal(v[mask[k]], theta0[k][mask[k]])  # survivors: exactly theta0
            assert (v[~mask[k]] == 0).all()
        else:
            assert torch.equal(v, theta0[k]), k


def test_reset_with_wrong_weights_is_an_error():
    model = tiny_model()
    other = build_model("resnet18", num_classes=4, stem="cifar", width=8).state_dict()
    with pytest.raises(LatentGraphError, match="do not fit"):
        reset_to(model, other, full_mask(model))


@pytest.fixture(scope="module")
def synthetic():
    return load_synthetic_bundle(n_classes=4, n_per_class=24, image_size=8, seed=0)


def test_masked_weights_stay_zero_through_optimizer_steps(synthetic):
    settings = TrainSettings(epochs=1, batch_size=8, lr=0.1, momentum=0.9, weight_decay=5e-4, device="cpu")
    model = tiny_model()
    mask = global_magnitude_prune(model, full_mask(model), 0.5)
    apply_mask(model, mask)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    enforce = MaskEnforcer(model, mask, opt)
    train_one_epoch(model, opt, synthetic.train, settings, 8, torch.device("cpu"), 0, 0, after_step=enforce,
                    progress=False)
    params = dict(model.named_parameters())
    for n, m in mask.items():
        assert (params[n][~m] == 0).all()
        assert (opt.state[params[n]]["momentum_buffer"][~m] == 0).all()
        assert (params[n][m] != 0).any()  # the survivors did train
    # the control: without the enforcer the pruned weights move (so the test above can fail)
    model2 = tiny_model()
    apply_mask(model2, mask)
    opt2 = torch.optim.SGD(model2.parameters(), lr=0.1, momentum=0.9)
    train_one_epoch(model2, opt2, synthetic.train, settings, 8, torch.device("cpu"), 0, 0, progress=False)
    params2 = dict(model2.named_parameters())
    assert any((params2[n][~m] != 0).any() for n, m in mask.items())


# --------------------------------------------------------------------------- early stopping


@pytest.mark.parametrize(
    ("losses", "patience", "max_epochs", "min_delta", "best", "trained"),
    [
        ([5, 4, 4.5, 3, 3.2, 3.1, 3.3, 2], 3, None, 0.0, 4, 7),  # 3 epochs without a new low after epoch 4
        ([5, 4, 4.5, 3, 3.2, 3.1, 3.3, 2], 4, None, 0.0, 8, 8),
        ([5, 4, 4.5, 3, 3.2, 3.1, 3.3, 2], 1, None, 0.0, 2, 3),
        ([5, 4, 3, 2, 1], 2, 3, 0.0, 3, 3),  # max epochs
        ([5, 4.95, 4.9, 4.0], 2, None, 0.1, 1, 3),  # improvements below min_delta do not count
        ([5, 5, 5], 2, None, 0.0, 1, 3),  # equal is not lower
        ([float("nan"), 3, float("inf"), 2], 2, None, 0.0, 4, 4),  # NaN/inf never improve
    ],
)
def test_early_stopping_on_scripted_losses(losses, patience, max_epochs, min_delta, best, trained):
    assert stopping_point(losses, patience, max_epochs, min_delta) == (best, trained)


def test_early_stopping_state_machine():
    s = EarlyStopping(patience=2)
    assert s.step(1.0) and s.best_epoch == 1 and s.count == 0
    assert not s.step(1.5) and s.count == 1 and not s.should_stop
    assert s.step(0.5) and s.count == 0 and s.best_loss == 0.5
    assert not s.step(0.7) and not s.step(0.6) and s.should_stop and s.best_epoch == 3


@pytest.mark.parametrize("patience", [0, -1, 1.5, True])
def test_early_stopping_rejects_bad_patience(patience):
    with pytest.raises(LatentGraphError, match="patience"):
        EarlyStopping(patience)


def test_train_early_stopping_returns_the_best_epoch_weights(synthetic):
    """With a scripted validation loss, the returned weights are those after the best epoch."""
    losses = [3.0, 2.0, 2.5, 1.5, 1.7, 1.6, 1.9, 0.1]  # best at epoch 4, patience 3 stops after epoch 7
    settings = TrainSettings(epochs=10, batch_size=16, lr=0.05, momentum=0.9, device="cpu")
    model = tiny_model()
    mask = global_magnitude_prune(model, full_mask(model), 0.2)
    apply_mask(model, mask)
    snapshots = {}
    scripted = iter(losses)

    def validate(_m):
        return next(scripted), 0.0

    def on_epoch_end(epoch, m):
        snapshots[epoch] = {k: v.clone() for k, v in m.state_dict().items()}

    res = train_early_stopping(model, synthetic.train, settings, 8, torch.device("cpu"), 0, validate=validate,
                               patience=3, max_epochs=10, mask=mask, on_epoch_end=on_epoch_end, progress=False)
    assert (res.best_epoch, res.epochs_trained, res.stopped_early) == (4, 7, True)
    assert res.best_val_loss == 1.5
    assert list(res.history["epoch"]) == list(range(1, 8))
    assert list(res.history["improved"]) == [True, True, False, True, False, False, False]
    final = model.state_dict()
    assert all(torch.equal(final[k], snapshots[4][k]) for k in final)
    assert not all(torch.equal(final[k], snapshots[7][k]) for k in final)  # it did move on after epoch 4
    for n, m in mask.items():
        assert (final[n][~m] == 0).all()


def test_train_early_stopping_fails_when_every_loss_is_nan(synthetic):
    settings = TrainSettings(epochs=2, batch_size=16, device="cpu")
    with pytest.raises(LatentGraphError, match="no finite validation loss"):
        train_early_stopping(tiny_model(), synthetic.train, settings, 8, torch.device("cpu"), 0,
                             validate=lambda m: (float("nan"), 0.0), patience=1, max_epochs=2, progress=False)


# --------------------------------------------------------------------------- settings, files


def test_prune_settings_checks():
    assert PruneSettings().start_epoch == 0
    assert PruneSettings(reset="rewind", rewind_epoch=2, max_epochs=5).start_epoch == 2
    for kw, key in [({"scope": "x"}, "scope"), ({"reset": "x"}, "reset"), ({"patience": 0}, "patience"),
                    ({"max_epochs": 0}, "max_epochs"), ({"reset": "rewind", "rewind_epoch": 5, "max_epochs": 5},
                                                        "rewind_epoch")]:
        with pytest.raises(LatentGraphError, match=key):
            PruneSettings(**kw)


def test_train_settings_merge():
    s = train_settings({"batch_size": 32, "optimizer": {"lr": 0.3}, "scheduler": {"milestones": [4]},
                        "early_stopping": {"max_epochs": 9}}, {"device": "cpu", "amp": False, "batch_size": 999})
    assert (s.batch_size, s.lr, s.milestones, s.epochs, s.device, s.amp) == (32, 0.3, [4], 9, "cpu", False)


def test_round_data_config_sets_only_the_validation_share():
    data = {"dataset": "digits", "val_fraction": 0.0, "split_seed": 3}
    assert round_data_config(data, {"val_fraction": 0.2}) == {"dataset": "digits", "val_fraction": 0.2, "split_seed": 3}
    assert data["val_fraction"] == 0.0  # the train stage's config is not touched
    for bad in (0.0, 1.0):
        with pytest.raises(LatentGraphError, match="pruning.val_fraction"):
            round_data_config(data, {"val_fraction": bad})


def test_mask_file_roundtrip(tmp_path):
    model = tiny_model()
    mask = global_magnitude_prune(model, full_mask(model), 0.2)
    save_mask(tmp_path / "m.pt", mask, round=1)
    back, meta = load_mask(tmp_path / "m.pt")
    assert meta == {"round": 1}
    assert all(torch.equal(back[n], mask[n]) for n in mask)
    with pytest.raises(LatentGraphError, match="does not exist"):
        load_mask(tmp_path / "nope.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a torch file")
    with pytest.raises(LatentGraphError, match="cannot load mask"):
        load_mask(tmp_path / "bad.pt")
    torch.save({"x": 1}, tmp_path / "other.pt")
    with pytest.raises(LatentGraphError, match="not a latentgraph mask"):
        load_mask(tmp_path / "other.pt")


# --------------------------------------------------------------------------- rounds from files


def _round_inputs(reset="init"):
    bundle = load_synthetic_bundle(n_classes=4, n_per_class=24, image_size=8, seed=0)
    rows = np.arange(len(bundle.train))
    bundle.train, bundle.val = bundle.train.subset(rows[rows % 4 != 0]), bundle.train.subset(rows[rows % 4 == 0])
    ts = TrainSettings(epochs=3, batch_size=16, lr=0.05, momentum=0.9, device="cpu")
    ps = PruneSettings(patience=1, max_epochs=3, reset=reset, rewind_epoch=1)
    return bundle, ts, ps


def _rounds(tmp_path, synthetic, reset="init", tag="a"):
    torch.manual_seed(0)
    model = build_model("resnet18", num_classes=4, stem="cifar", width=4)
    spec = model_spec({"stem": "cifar", "width": 4, "input_size": 8}, 4)
    theta0 = save_checkpoint(tmp_path / "theta0.pt", model, spec, epoch=0, seed=0)
    bundle, ts, ps = _round_inputs(reset)
    d = tmp_path / tag

    def outs(i):
        return {x: d / f"r{i}" / f"{x}.{'csv' if x == 'history' else 'json' if x == 'summary' else 'pt'}"
                for x in ("model", "mask", "history", "summary")}

    files0 = RoundFiles(theta0, **outs(0), rewind=d / "rewind.pt" if reset == "rewind" else None)
    s0 = run_round(PruneRound(0, files0), bundle, ts, ps, 0, progress=False)
    files1 = RoundFiles(theta0, **outs(1), previous_model=d / "r0" / "model.pt", previous_mask=d / "r0" / "mask.pt",
                        reset=d / "rewind.pt" if reset == "rewind" else theta0)
    s1 = run_round(PruneRound(1, files1, rate=0.2), bundle, ts, ps, 0, progress=False)
    return d, s0, s1


def test_run_round_chain(tmp_path, synthetic):
    d, s0, s1 = _rounds(tmp_path, synthetic)
    assert s0["pruned_fraction"] == 0 and s0["round"] == 0
    assert s1["pruned_fraction"] == pytest.approx(0.2, abs=1e-4)
    assert json.loads((d / "r1" / "summary.json").read_text()) == s1
    mask, meta = load_mask(d / "r1" / "mask.pt")
    assert meta["round"] == 1 and pruned_fraction(mask) == s1["pruned_fraction"]
    ck = torch.load(d / "r1" / "model.pt", weights_only=True)
    for n, m in mask.items():
        assert (ck["state_dict"][n][~m] == 0).all()
    # the round-1 mask is the 20 % smallest of round 0's trained weights
    r0 = torch.load(d / "r0" / "model.pt", weights_only=True)["state_dict"]
    full = {n: torch.ones_like(m) for n, m in mask.items()}
    assert all(torch.equal(mask[n], v) for n, v in global_magnitude_prune(r0, full, 0.2).items())
    # the file wrapper is the pure steps and nothing else: prune and reset, train, summarise
    theta0 = torch.load(tmp_path / "theta0.pt", weights_only=True)["state_dict"]
    model = tiny_model(1)
    new = prune_and_reset(model, r0, full, theta0, 0.2)
    assert all(torch.equal(new[n], mask[n]) for n in mask)
    bundle, ts, ps = _round_inputs()
    model, res = train_round(model, new, bundle, 8, ts, ps, 0, torch.device("cpu"), progress=False)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in ck["state_dict"].items())
    assert round_summary(1, 0.2, ps, 0, 0, new, res) == s1
    # deterministic: the same inputs give the same weights
    d2, _, _ = _rounds(tmp_path, synthetic, tag="b")
    again = torch.load(d2 / "r1" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(again[k], v) for k, v in ck["state_dict"].items())


def test_run_round_rewind_writes_the_rewind_point(tmp_path, synthetic):
    d, s0, s1 = _rounds(tmp_path, synthetic, reset="rewind", tag="rw")
    rw = torch.load(d / "rewind.pt", weights_only=True)
    assert rw["meta"]["epoch"] == 1
    assert s1["start_epoch"] == 1


def test_run_round_needs_a_validation_split(tmp_path, synthetic):
    model = tiny_model()
    spec = model_spec({"stem": "cifar", "width": 4, "input_size": 8}, 4)
    theta0 = save_checkpoint(tmp_path / "theta0.pt", model, spec, epoch=0, seed=0)
    with pytest.raises(LatentGraphError, match="val_fraction"):
        run_round(PruneRound(0, _files(tmp_path, theta0)), synthetic, TrainSettings(device="cpu"), PruneSettings(), 0)
    assert not (tmp_path / "m.pt").exists()


def _files(d, theta0):
    return RoundFiles(theta0, d / "m.pt", d / "k.pt", d / "h.csv", d / "s.json")


def test_a_round_needs_its_inputs(tmp_path):
    with pytest.raises(LatentGraphError, match="round 1 needs the previous round's model and mask"):
        run_round(PruneRound(1, _files(tmp_path, tmp_path / "theta0.pt"), rate=0.2), None, TrainSettings(),
                  PruneSettings(), 0)


def test_run_round_passes_deterministic_and_channels_last_on(tmp_path, monkeypatch):
    """The rounds honour train.deterministic and evaluate with train.channels_last, as train_run does."""
    seen = spy_training_settings(monkeypatch)
    spec = model_spec({"stem": "cifar", "width": 4, "input_size": 8}, 4)
    theta0 = save_checkpoint(tmp_path / "theta0.pt", tiny_model(), spec, epoch=0, seed=0)
    bundle = load_synthetic_bundle(n_classes=4, n_per_class=8, image_size=8, seed=0)
    rows = np.arange(len(bundle.train))
    bundle.train, bundle.val = bundle.train.subset(rows[rows % 4 != 0]), bundle.train.subset(rows[rows % 4 == 0])
    ts = train_settings({"early_stopping": {"max_epochs": 1}}, {"device": "cpu", "channels_last": False,
                                                               "deterministic": True}, threads=1)
    run_round(PruneRound(0, _files(tmp_path, theta0)), bundle, ts, PruneSettings(patience=1, max_epochs=1), 0,
              progress=False)
    assert seen["deterministic"] is True and seen["evaluate"]["channels_last"] is False


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_masks_hold_under_cuda_amp(synthetic):
    dev = torch.device("cuda")
    settings = TrainSettings(epochs=1, batch_size=8, lr=0.1, device="cuda", amp=True)
    model = tiny_model().to(dev).to(memory_format=torch.channels_last)
    mask = global_magnitude_prune(model, full_mask(model), 0.5)
    res = train_early_stopping(model, synthetic.train, settings, 8, dev, 0, validate=lambda m: (1.0, 0.0),
                               patience=1, max_epochs=2, mask=mask, progress=False)
    assert res.best_epoch == 1
    state = model.state_dict()
    for n, m in mask.items():
        assert (state[n][~m.to(dev)] == 0).all()
