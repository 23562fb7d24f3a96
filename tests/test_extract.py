"""Latent extraction: the stored latents are fc's input, predictions are the head applied to
the stored latents, metadata describes the source."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from latentgraph.data import load_dataset  # noqa: E402
from latentgraph.extract import extract_checkpoint, head_predict, head_weights  # noqa: E402
from latentgraph.io import read_latents  # noqa: E402
from latentgraph.models import build_model, model_spec, save_checkpoint  # noqa: E402

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
