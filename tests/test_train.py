"""Training: determinism on CPU, resume after an interruption with identical final weights,
learning-rate schedule, checkpoints readable with weights_only=True."""

from __future__ import annotations

import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from latentgraph.data import load_dataset  # noqa: E402
from latentgraph.models import model_spec  # noqa: E402
from latentgraph.train import TrainSettings, state_dicts_equal, train_run  # noqa: E402

DATA = {"dataset": "synthetic", "synthetic": {"n_classes": 3, "n_per_class": 16, "image_size": 8}, "split_seed": 0}
SPEC = model_spec({"arch": "resnet18", "stem": "cifar", "width": 4, "input_size": 8}, 3)


def settings(**kw):
    base = dict(epochs=3, batch_size=8, lr=0.05, momentum=0.9, weight_decay=5e-4, milestones=[2], gamma=0.1,
                device="cpu", threads=1)
    base.update(kw)
    return TrainSettings(**base)


def run(tmp, seed=0, s=None, on_epoch_end=None, name="r"):
    data = load_dataset(DATA)
    s = s or settings()
    paths = [tmp / name / f"epoch_{e:03d}.pt" for e in range(s.epochs + 1)]
    hist = train_run(SPEC, data, s, seed, paths, tmp / name / "history.csv", tmp / name / "_work",
                     data_fingerprint=DATA, on_epoch_end=on_epoch_end, progress=False)
    return paths, hist


def weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


def test_lr_schedule_matches_torch_multisteplr():
    s = settings(epochs=12, lr=0.1, milestones=[3, 7], gamma=0.5)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 7], gamma=0.5)
    for e in range(12):
        assert s.lr_at(e) == pytest.approx(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()


@pytest.mark.slow
def test_same_seed_same_weights_and_outputs(tmp_path):
    paths_a, hist_a = run(tmp_path, seed=0, name="a")
    paths_b, hist_b = run(tmp_path, seed=0, name="b")
    paths_c, _ = run(tmp_path, seed=1, name="c")
    for pa, pb in zip(paths_a, paths_b, strict=True):
        assert state_dicts_equal(weights(pa), weights(pb))
    assert not state_dicts_equal(weights(paths_a[-1]), weights(paths_c[-1]))
    assert not state_dicts_equal(weights(paths_a[0]), weights(paths_a[-1]))  # it trained
    cols = ["epoch", "lr", "train_loss", "train_accuracy", "test_loss", "test_accuracy"]
    pd.testing.assert_frame_equal(hist_a[cols], hist_b[cols])
    assert hist_a["lr"].tolist() == pytest.approx([0.05, 0.05, 0.005])
    assert not (tmp_path / "a" / "_work").exists()  # work folder cleaned up


@pytest.mark.slow
def test_interrupted_run_resumes_to_identical_weights(tmp_path):
    ref_paths, ref_hist = run(tmp_path, seed=0, name="ref")

    class Interrupt(Exception):
        pass

    def stop_after_2(epoch):
        if epoch == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        run(tmp_path, seed=0, name="x", on_epoch_end=stop_after_2)
    # nothing published yet, the work folder holds the state of epoch 2
    assert not (tmp_path / "x" / "epoch_000.pt").exists()
    assert not (tmp_path / "x" / "history.csv").exists()
    state = torch.load(tmp_path / "x" / "_work" / "state.pt", weights_only=True)
    assert state["epoch"] == 2

    epochs_run = []
    paths, hist = run(tmp_path, seed=0, name="x", on_epoch_end=epochs_run.append)
    assert epochs_run == [3]  # only the missing epoch was trained
    for p, q in zip(paths, ref_paths, strict=True):
        assert state_dicts_equal(weights(p), weights(q))
    cols = ["epoch", "train_loss", "test_accuracy"]
    pd.testing.assert_frame_equal(hist[cols], ref_hist[cols])


@pytest.mark.slow
def test_resume_state_of_other_settings_is_discarded(tmp_path):
    class Interrupt(Exception):
        pass

    def stop(epoch):
        raise Interrupt

    with pytest.raises(Interrupt):
        run(tmp_path, seed=0, name="x", s=settings(lr=0.2), on_epoch_end=stop)
    epochs_run = []
    run(tmp_path, seed=0, name="x", on_epoch_end=epochs_run.append)
    assert epochs_run == [1, 2, 3]  # the lr changed: started afresh, not resumed


def test_wrong_number_of_checkpoint_paths(tmp_path):
    from latentgraph.utils import LatentGraphError

    with pytest.raises(LatentGraphError, match="need 4 checkpoint paths"):
        train_run(SPEC, load_dataset(DATA), settings(), 0, [tmp_path / "a.pt"], tmp_path / "h.csv", tmp_path / "w")
