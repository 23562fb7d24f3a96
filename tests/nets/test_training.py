"""Training: determinism on CPU, resume after an interruption with identical final weights,
learning-rate schedule, checkpoints readable with weights_only=True."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import spy_training_settings

torch = pytest.importorskip("torch")

from latentgraph.nets.data import load_dataset  # noqa: E402
from latentgraph.nets.models import model_spec  # noqa: E402
from latentgraph.nets.training import TrainSettings, state_dicts_equal, train_run  # noqa: E402

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


# --------------------------------------------------------------------------- kernels, determinism, host syncs


@pytest.fixture
def torch_flags(monkeypatch):
    """Leave the process-wide flags configure_torch sets (and CUBLAS_WORKSPACE_CONFIG) as found."""
    from latentgraph.nets.extraction import float32_precision

    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", "x")  # records the original value for the teardown
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG")
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic, torch.get_num_threads())
    with float32_precision():  # restores every TF32 flag on exit
        yield
    torch.use_deterministic_algorithms(before[0], warn_only=before[1])
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = before[2], before[3]
    torch.set_num_threads(before[4])


def test_deterministic_setting_is_read_and_changes_no_fingerprint():
    from latentgraph.nets.pruning import train_settings

    assert TrainSettings().deterministic is False and TrainSettings.from_config({}).deterministic is False
    assert TrainSettings.from_config({"deterministic": True}).deterministic is True
    # like device: it picks kernels, not the experiment, so a run may resume under the other value
    assert TrainSettings(deterministic=True).fingerprint() == TrainSettings().fingerprint()
    assert train_settings({}, {"deterministic": True}).deterministic is True  # pruning rounds honour it


def test_configure_torch_sets_the_cuda_kernels(torch_flags, monkeypatch):
    """The flags of both CUDA modes (set without CUDA work, so this runs on any machine)."""
    import os

    from latentgraph.nets.training import configure_torch, fp32_precision_leaves

    cuda = torch.device("cuda")
    gpu_leaves = {n: h for n, h in fp32_precision_leaves().items() if n.startswith(("cuda.", "cudnn."))}
    configure_torch(cuda)  # default: fast, not repeatable
    assert not torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.benchmark and not torch.backends.cudnn.deterministic
    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    assert all(h.fp32_precision == "tf32" for h in gpu_leaves.values())
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ

    configure_torch(cuda, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled() and not torch.is_deterministic_algorithms_warn_only_enabled()
    assert not torch.backends.cudnn.benchmark and torch.backends.cudnn.deterministic
    assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    assert torch.get_float32_matmul_precision() == "highest"
    assert all(h.fp32_precision == "ieee" for h in fp32_precision_leaves().values())
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")  # the other deterministic value is kept
    configure_torch(cuda, deterministic=True)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"

    configure_torch(cuda)  # and back
    assert not torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.allow_tf32

    configure_torch(torch.device("cpu"), threads=1)  # CPU: deterministic algorithms whatever the flag says
    assert torch.are_deterministic_algorithms_enabled() and torch.is_deterministic_algorithms_warn_only_enabled()


def test_train_run_passes_deterministic_and_channels_last_on(tmp_path, monkeypatch, torch_flags):
    seen = spy_training_settings(monkeypatch)
    run(tmp_path, s=settings(epochs=1, channels_last=False, deterministic=True))
    assert seen["deterministic"] is True and seen["evaluate"]["channels_last"] is False
    run(tmp_path, s=settings(epochs=1), name="r2")
    assert seen["deterministic"] is False and seen["evaluate"]["channels_last"] is True


def _reference_epoch(model, optimizer, split, s, input_size, device, seed, epoch_index):
    """train_one_epoch as it was, with a host read per step (float(loss), int(correct))."""
    import torch.nn.functional as F

    from latentgraph.nets.data import prepare_batch
    from latentgraph.nets.training import iterate
    from latentgraph.utils import stable_seed

    for group in optimizer.param_groups:
        group["lr"] = s.lr_at(epoch_index)
    model.train()
    total, correct, loss_sum = 0, 0, 0.0
    for x, y, _ in iterate(split, s.batch_size, shuffle=True, seed=stable_seed(seed, "epoch", epoch_index),
                           device=device, augment=True):
        x = prepare_batch(x, input_size, device)
        out = model(x)
        loss = F.cross_entropy(out.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += float(loss.detach()) * int(y.numel())
        correct += int((out.detach().argmax(1) == y).sum())
        total += int(y.numel())
    return loss_sum / max(total, 1), correct / max(total, 1)


def _reference_evaluate(model, split, input_size, device, batch_size):
    """evaluate as it was, with a host read per batch."""
    import torch.nn.functional as F

    from latentgraph.nets.data import prepare_batch
    from latentgraph.nets.training import iterate

    model.eval()
    total, correct, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for x, y, _ in iterate(split, batch_size, device=device):
            out = model(prepare_batch(x, input_size, device))
            loss_sum += float(F.cross_entropy(out.float(), y, reduction="sum"))
            correct += int((out.argmax(1) == y).sum())
            total += int(y.numel())
    return loss_sum / max(total, 1), correct / max(total, 1)


def test_device_side_sums_equal_per_step_host_reads_bit_for_bit(torch_flags):
    """Loss and accuracy summed on the device and read once are the very floats the per-step
    host reads gave, and the weights are identical (same steps in the same order)."""
    from latentgraph.nets.models import build_from_spec
    from latentgraph.nets.training import configure_torch, evaluate, make_optimizer, train_one_epoch

    cpu = torch.device("cpu")
    configure_torch(cpu, threads=1)
    data = load_dataset({**DATA, "synthetic": {**DATA["synthetic"], "n_per_class": 30}})
    s = settings(batch_size=7)  # ragged last batch: the per-batch weights n differ
    models, results = [], []
    for step in (train_one_epoch, _reference_epoch):
        torch.manual_seed(0)
        model = build_from_spec(SPEC)
        opt = make_optimizer(model, s)
        res = []
        for e in range(2):
            if step is train_one_epoch:
                res.append(step(model, opt, data.train, s, 8, cpu, 3, e, progress=False))
            else:
                res.append(step(model, opt, data.train, s, 8, cpu, 3, e))
        res.append(evaluate(model, data.test, 8, cpu, batch_size=5) if step is train_one_epoch
                   else _reference_evaluate(model, data.test, 8, cpu, 5))
        models.append(model)
        results.append(res)
    assert [tuple(v.hex() for v in r) for r in results[0]] == [tuple(v.hex() for v in r) for r in results[1]]
    assert state_dicts_equal(models[0].state_dict(), models[1].state_dict())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_no_host_synchronisation_per_training_step(torch_flags):
    """A CUDA epoch reads the device once at its end (loss sum, correct count), not per step:
    torch's sync debug mode reports every synchronising call."""
    import warnings

    from latentgraph.nets.models import build_from_spec
    from latentgraph.nets.training import configure_torch, evaluate, make_optimizer, train_one_epoch

    dev = torch.device("cuda")
    configure_torch(dev)
    data = load_dataset({**DATA, "synthetic": {**DATA["synthetic"], "n_per_class": 32}})
    data.train.on(dev), data.test.on(dev)  # the one-time copies of the splits
    s = settings(device="cuda", batch_size=8)  # >= 9 steps per epoch
    model = build_from_spec(SPEC).to(dev).to(memory_format=torch.channels_last)
    opt = make_optimizer(model, s)
    train_one_epoch(model, opt, data.train, s, 8, dev, 0, 0, progress=False)  # warm-up (cuDNN, allocator)
    evaluate(model, data.test, 8, dev, batch_size=4)
    torch.cuda.synchronize()
    counts = {}
    try:
        torch.cuda.set_sync_debug_mode("warn")
        for name, call in {"train": lambda: train_one_epoch(model, opt, data.train, s, 8, dev, 0, 1, progress=False),
                           "evaluate": lambda: evaluate(model, data.test, 8, dev, batch_size=4)}.items():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                call()
            counts[name] = sum("synchroniz" in str(w.message) for w in caught)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert counts["train"] <= 2 and counts["evaluate"] <= 2, counts  # the two reads at the end


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_runs_repeat_with_train_deterministic(tmp_path, torch_flags):
    """train.deterministic: two CUDA runs with one seed, and a run resumed after an interruption,
    end with identical weights (same GPU, same process)."""
    s = settings(device="cuda", deterministic=True, epochs=2)
    paths_a, hist_a = run(tmp_path, s=s, name="a")
    paths_b, hist_b = run(tmp_path, s=s, name="b")

    class Interrupt(Exception):
        pass

    def stop(epoch):
        raise Interrupt

    with pytest.raises(Interrupt):
        run(tmp_path, s=s, name="c", on_epoch_end=stop)
    paths_c, _ = run(tmp_path, s=s, name="c")
    for pa, pb, pc in zip(paths_a, paths_b, paths_c, strict=True):
        assert state_dicts_equal(weights(pa), weights(pb)) and state_dicts_equal(weights(pa), weights(pc))
    cols = ["train_loss", "train_accuracy", "test_loss", "test_accuracy"]
    pd.testing.assert_frame_equal(hist_a[cols], hist_b[cols])
