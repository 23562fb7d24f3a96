"""Latent extraction: the stored latents are fc's input, predictions are the head applied to
the stored latents, metadata describes the source."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from latentgraph.io import read_latents  # noqa: E402
from latentgraph.nets.data import load_dataset  # noqa: E402
from latentgraph.nets.extraction import extract_checkpoint, head_predict, head_weights  # noqa: E402
from latentgraph.nets.models import build_model, model_spec, save_checkpoint  # noqa: E402

DATA = {"dataset": "synthetic", "synthetic": {"n_classes": 3, "n_per_class": 10, "image_size": 8}}


def test_extract_checkpoint(tmp_path):
    data = load_dataset(DATA)
    spec = model_spec({"stem": "cifar", "width": 4, "input_size": 12}, data.num_classes)
    torch.manual_seed(0)
    model = build_model(**spec).eval()
    ckpt = save_checkpoint(tmp_path / "e.pt", model, spec, epoch=7, seed=3)
    meta = extract_checkpoint(ckpt, data, tmp_path / "lat.parquet", device="cpu", batch_size=4,
                              metadata={"run": "A"})
    lat = read_latents(tmp_path / "lat.parquet")
    assert lat.X.shape == (len(data.test), 32) and lat.X.dtype == np.float32
    np.testing.assert_array_equal(lat.sample_id, data.test.sample_ids)
    np.testing.assert_array_equal(lat.labels, data.test.labels)
    for key, value in {"epoch": 7, "seed": 3, "run": "A", "dataset": "synthetic", "split": "test",
                       "arch": "resnet18", "layer": "avgpool"}.items():
        assert lat.metadata[key] == value
    assert lat.metadata["class_names"] == data.classes
    assert lat.metadata["test_accuracy"] == pytest.approx(lat.accuracy) == pytest.approx(meta["test_accuracy"])
    # latents equal a manual forward pass up to avgpool (input resized to 12 px on the fly)
    x = torch.nn.functional.interpolate(data.test.images, size=(12, 12), mode="bilinear", align_corners=False)
    with torch.no_grad():
        m = model
        h = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        h = m.avgpool(m.layer4(m.layer3(m.layer2(m.layer1(h)))))
        ref = torch.flatten(h, 1).numpy()
        logits = m(x).numpy()
    np.testing.assert_allclose(lat.X, ref, rtol=1e-5, atol=1e-6)
    # stored predictions = the fc head on the stored latents (float64), = the model's argmax here
    W, b = head_weights(model)
    np.testing.assert_array_equal(lat.prediction, head_predict(lat.X, W, b))
    np.testing.assert_array_equal(lat.prediction, logits.argmax(1))


# --------------------------------------------------------------------------- true float32 (no TF32)


def _precision_flags() -> dict:
    """Every TF32 switch torch has, as read now ("refused" where torch will not read a legacy flag)."""
    from latentgraph.nets.training import fp32_precision_leaves

    def read(f):
        try:
            return f()
        except RuntimeError:
            return "refused"

    flags = {"cuda.matmul.allow_tf32": read(lambda: torch.backends.cuda.matmul.allow_tf32),
             "cudnn.allow_tf32": read(lambda: torch.backends.cudnn.allow_tf32),
             "float32_matmul_precision": read(torch.get_float32_matmul_precision),
             "cudnn.benchmark": torch.backends.cudnn.benchmark, "cudnn.deterministic": torch.backends.cudnn.deterministic}
    flags.update({f"{name}.fp32_precision": h.fp32_precision for name, h in fp32_precision_leaves().items()})
    return flags


def _tf32_on_as_training_leaves_it():
    from latentgraph.nets.training import configure_torch

    configure_torch(torch.device("cuda"))  # flags only, no CUDA work: fine without a GPU (benchmark on, TF32 on)


def _tf32_on_by_the_new_api():
    from latentgraph.nets.training import fp32_precision_leaves

    for name, handle in fp32_precision_leaves().items():
        if name.startswith(("cuda.", "cudnn.")):
            handle.fp32_precision = "tf32"


def _torch_defaults():
    """torch's own start-up state: cuDNN may run float32 convolutions as TF32 (``allow_tf32``
    True, in torch >= 2.9 ``cudnn.conv.fp32_precision == "tf32"``), cuBLAS matmuls may not."""
    from latentgraph.nets.training import fp32_precision_leaves

    torch.set_float32_matmul_precision("highest")
    torch.backends.cudnn.allow_tf32 = True
    for name, handle in fp32_precision_leaves().items():
        handle.fp32_precision = "tf32" if name.startswith("cudnn.") else "none"


STATES = {"torch_defaults": _torch_defaults, "training": _tf32_on_as_training_leaves_it,
          "new_api": _tf32_on_by_the_new_api, "matmul_high": lambda: torch.set_float32_matmul_precision("high")}


@pytest.fixture
def restore_precision():
    """Leave the process-wide flags as found (the tests below change them on purpose)."""
    from latentgraph.nets.extraction import float32_precision

    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)
    with float32_precision():  # restores every TF32 flag on exit
        yield
    torch.use_deterministic_algorithms(before[0], warn_only=before[1])
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = before[2], before[3]


def _entry_points(tmp_path):
    """Every extraction path of the workflow: latents and pruning latents, layer latents, pretrained latents."""
    from helpers import make_imagefolder

    from latentgraph.nets.extraction import extract_checkpoint_layers
    from latentgraph.nets.pretrained import extract_pretrained

    data = load_dataset(DATA)
    spec = model_spec({"stem": "cifar", "width": 4, "input_size": 8}, data.num_classes)
    torch.manual_seed(0)
    ckpt = save_checkpoint(tmp_path / "e.pt", build_model(**spec), spec, epoch=1, seed=0)
    root = make_imagefolder(tmp_path / "imnet", per_class=2, size=12)
    torch.save(build_model("resnet18", 3, "imagenet", 4).state_dict(), tmp_path / "w.pth")
    return {
        "extract_checkpoint": lambda: extract_checkpoint(ckpt, data, tmp_path / "a.parquet", device="cpu"),
        "extract_checkpoint_layers": lambda: extract_checkpoint_layers(
            ckpt, data, {"layer2": tmp_path / "l2.parquet", "avgpool": tmp_path / "ap.parquet"}, device="cpu"),
        "extract_pretrained": lambda: extract_pretrained(
            tmp_path / "w.pth", {"dataset": "imagefolder", "root": str(root), "require_train": False},
            {"arch": "resnet18", "stem": "imagenet", "width": 4, "input_size": 12}, tmp_path / "p.parquet",
            device="cpu"),
    }


@pytest.mark.parametrize("state", list(STATES))
def test_every_extraction_path_runs_in_ieee_float32_and_restores_the_flags(tmp_path, restore_precision, state):
    """During every forward pass of every extraction path TF32 is off; afterwards (also after an
    error) each flag is back where it was, whichever API set it."""
    from latentgraph.nets.training import fp32_precision_leaves

    paths = _entry_points(tmp_path)
    STATES[state]()
    before = _precision_flags()
    seen: list[dict] = []
    handle = torch.nn.modules.module.register_module_forward_hook(
        lambda m, i, o: seen.append(_precision_flags()) if isinstance(m, torch.nn.Conv2d) else None)
    try:
        for name, call in paths.items():
            seen.clear()
            call()
            assert seen, f"{name}: no convolution ran"
            for flags in seen:
                leaves = {k: v for k, v in flags.items() if k.endswith(".fp32_precision")}
                assert set(leaves.values()) <= {"ieee"}, f"{name}: {leaves}"  # what the kernels read
                assert flags["cuda.matmul.allow_tf32"] in (False, "refused"), name
                assert flags["cudnn.allow_tf32"] in (False, "refused"), name
                assert flags["float32_matmul_precision"] in ("highest", "refused"), name
                assert not flags["cudnn.benchmark"] and flags["cudnn.deterministic"], name  # repeatable on CUDA
            if fp32_precision_leaves():  # torch >= 2.9: the leaves above were checked
                assert len(leaves) == 6
            else:  # older torch: the legacy flags are the truth, and readable
                assert seen[0]["cudnn.allow_tf32"] is False and seen[0]["cuda.matmul.allow_tf32"] is False
            assert _precision_flags() == before, f"{name} did not restore the flags"
    finally:
        handle.remove()

    def fail(m, i, o):
        raise RuntimeError("boom")

    handle = torch.nn.modules.module.register_module_forward_hook(fail)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            paths["extract_checkpoint"]()
    finally:
        handle.remove()
    assert _precision_flags() == before


def test_training_state_is_tf32_on_cuda_so_the_extraction_guard_matters(restore_precision):
    """The control: the flags a CUDA training process leaves behind do allow TF32."""
    _tf32_on_as_training_leaves_it()
    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_latents_equal_cpu_latents_to_float32_precision(tmp_path, restore_precision):
    """GPU and CPU latents of one checkpoint agree to float32 precision (TF32 would give ~1e-3),
    even after a training configuration turned TF32 on in the process."""
    from latentgraph.nets.extraction import extract_layers

    data = load_dataset({"dataset": "synthetic", "synthetic": {"n_classes": 4, "n_per_class": 32, "image_size": 16}})
    spec = model_spec({"stem": "cifar", "width": 32, "input_size": 32}, data.num_classes)
    torch.manual_seed(0)
    model = build_model(**spec).eval()
    ckpt = save_checkpoint(tmp_path / "e.pt", model, spec, epoch=1, seed=0)
    _tf32_on_as_training_leaves_it()  # TF32 and cuDNN autotuning on, as a training job leaves them
    layers = ["layer2", "layer3", "avgpool"]
    out = {}
    for dev in ("cpu", "cuda"):
        from latentgraph.nets.models import model_from_checkpoint

        net, _ = model_from_checkpoint(ckpt)
        out[dev] = extract_layers(net, data.test, 32, torch.device(dev), layers, batch_size=16, reduce="avg")
    assert torch.backends.cudnn.allow_tf32 and torch.backends.cudnn.benchmark  # restored after the extraction
    for layer in layers:
        c, g = out["cpu"][0][layer].astype(np.float64), out["cuda"][0][layer].astype(np.float64)
        rel = np.linalg.norm(g - c) / np.linalg.norm(c)
        assert rel < 1e-5, f"{layer}: relative difference {rel:.2e} between GPU and CPU latents"
    np.testing.assert_array_equal(out["cpu"][2], out["cuda"][2])  # same samples, same order
    net, _ = model_from_checkpoint(ckpt)
    again = extract_layers(net, data.test, 32, torch.device("cuda"), layers, batch_size=16, reduce="avg")
    for layer in layers:  # and GPU latents repeat bit for bit (no autotuning during extraction)
        np.testing.assert_array_equal(again[0][layer], out["cuda"][0][layer])
