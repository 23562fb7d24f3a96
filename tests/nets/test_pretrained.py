"""Tests of latentgraph.nets.pretrained: latents of a network loaded from a plain state-dict file."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_imagefolder

from latentgraph.io import read_latents
from latentgraph.utils import LatentGraphError


def test_extract_pretrained_from_state_dict(tmp_path):
    torch = pytest.importorskip("torch")
    from latentgraph.nets.models import build_model
    from latentgraph.nets.pretrained import extract_pretrained

    root = make_imagefolder(tmp_path / "imnet")
    model_cfg = {"arch": "resnet18", "stem": "imagenet", "width": 4, "input_size": 16}
    torch.manual_seed(0)
    net = build_model("resnet18", 3, "imagenet", 4).eval()
    torch.save({f"module.{k}": v for k, v in net.state_dict().items()}, tmp_path / "w.pth")  # DataParallel style
    data_cfg = {"dataset": "imagefolder", "root": str(root), "require_train": False,
                "class_names": str(root / "names.txt")}
    meta = extract_pretrained(tmp_path / "w.pth", data_cfg, model_cfg, tmp_path / "lat.parquet", device="cpu",
                              batch_size=5)
    lat = read_latents(tmp_path / "lat.parquet")
    assert lat.X.shape == (12, 32) and lat.metadata["class_names"] == ["class 0", "class 1", "class 2"]
    assert lat.metadata["weights_file"] == str(tmp_path / "w.pth") and meta["test_accuracy"] == lat.accuracy
    np.testing.assert_array_equal(lat.labels, np.repeat([0, 1, 2], 4))
    # the latents are the loaded network's avgpool output on the resized, centre-cropped images
    from latentgraph.nets.data import load_dataset

    bundle = load_dataset(data_cfg, input_size=16)
    x = torch.stack([bundle.test[i][0] for i in range(12)])
    feats = []
    h = net.avgpool.register_forward_hook(lambda m, i, o: feats.append(o.flatten(1)))
    with torch.no_grad():
        net(x)
    h.remove()
    np.testing.assert_allclose(lat.X, feats[0].numpy(), rtol=1e-5, atol=1e-6)
    # weights that do not fit, and a missing file: clear errors, nothing written
    torch.save(build_model("resnet18", 5, "imagenet", 4).state_dict(), tmp_path / "bad.pth")
    with pytest.raises(LatentGraphError, match="do not fit"):
        extract_pretrained(tmp_path / "bad.pth", data_cfg, model_cfg, tmp_path / "x.parquet", device="cpu")
    with pytest.raises(LatentGraphError, match="does not exist"):
        extract_pretrained(tmp_path / "nope.pth", data_cfg, model_cfg, tmp_path / "x.parquet", device="cpu")
    assert not (tmp_path / "x.parquet").exists()
