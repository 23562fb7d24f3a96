"""Any layer, any model: several modules in one pass (flattened or average-pooled), a
torchvision model that is not a ResNet loaded from a state-dict file, the layer-by-layer
table, and the workflow's new columns and tables (from the tiny run)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from latentgraph.compare.measures import columns, compare  # noqa: E402
from latentgraph.experiments.layers import KEY_COLUMNS, compare_layer, layers_markdown  # noqa: E402
from latentgraph.io import Latents, read_latents  # noqa: E402
from latentgraph.nets.data import load_dataset  # noqa: E402
from latentgraph.nets.extraction import (  # noqa: E402
    extract,
    extract_checkpoint_layers,  # noqa: E402
    extract_layers,
)
from latentgraph.nets.models import build_model, model_spec, save_checkpoint  # noqa: E402
from latentgraph.utils import LatentGraphError  # noqa: E402

DATA = {"dataset": "synthetic", "synthetic": {"n_classes": 3, "n_per_class": 10, "image_size": 8}}


@pytest.fixture(scope="module")
def net_and_data():
    data = load_dataset(DATA)
    spec = model_spec({"stem": "cifar", "width": 4, "input_size": 8}, data.num_classes)
    torch.manual_seed(0)
    return build_model(**spec).eval(), data, spec


def test_extract_layers_is_one_pass_of_single_extracts(net_and_data):
    model, data, _ = net_and_data
    dev = torch.device("cpu")
    feats, labels, ids, pred = extract_layers(model, data.test, 8, dev, ["layer1", "layer3", "avgpool"],
                                              batch_size=7)
    assert feats["layer1"].shape == (len(data.test), 4 * 8 * 8) and feats["layer3"].shape == (len(data.test), 16 * 2 * 2)
    for name in ("layer1", "layer3", "avgpool"):
        X, lab, sid, p = extract(model, data.test, 8, dev, layer=name, batch_size=7)
        np.testing.assert_array_equal(feats[name], X)
        np.testing.assert_array_equal(labels, lab)
        np.testing.assert_array_equal(ids, sid)
    # average pooling: the mean over each channel's map, from a manual forward pass
    avg, *_ = extract_layers(model, data.test, 8, dev, ["layer1"], reduce="avg")
    x = torch.nn.functional.interpolate(data.test.images, size=(8, 8), mode="bilinear", align_corners=False)
    with torch.no_grad():
        h = model.layer1(model.maxpool(model.relu(model.bn1(model.conv1(x)))))
    np.testing.assert_allclose(avg["layer1"], h.mean(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(feats["layer1"], h.flatten(1).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(pred, model(x).argmax(1).numpy())
    with pytest.raises(LatentGraphError, match="ran 2 times"):  # ResNet blocks call their ReLU twice
        extract_layers(model, data.test, 8, dev, ["layer1.0.relu"])
    with pytest.raises(LatentGraphError, match="without repeats"):
        extract_layers(model, data.test, 8, dev, ["layer1", "layer1"])


def test_checkpoint_layers_and_the_layer_table(net_and_data, tmp_path):
    model, data, spec = net_and_data
    ckpts = {}
    for run, seed in (("A", 0), ("B", 1)):
        torch.manual_seed(seed)
        ckpts[run] = save_checkpoint(tmp_path / f"{run}.pt", build_model(**spec), spec, epoch=3, seed=seed)
    outs = {run: {name: tmp_path / run / f"{name}.parquet" for name in ("layer2", "avgpool")} for run in "AB"}
    dims = extract_checkpoint_layers(ckpts["A"], data, outs["A"], reduce="flatten", device="cpu",
                                     metadata={"run": "A"})
    extract_checkpoint_layers(ckpts["B"], data, outs["B"], reduce="flatten", device="cpu")
    assert dims == {"layer2": 8 * 4 * 4, "avgpool": 32}
    lat = read_latents(outs["A"]["layer2"])
    assert lat.metadata["layer"] == "layer2" and lat.metadata["reduce"] == "flatten" and lat.metadata["run"] == "A"
    assert lat.metadata["depth"] == 0 and lat.metadata["epoch"] == 3
    frames = []
    for depth, name in enumerate(("layer2", "avgpool")):
        a, b = read_latents(outs["A"][name]), read_latents(outs["B"][name])
        df = compare_layer(a, b, [2, 5], ["cns_sym", "mutual_knn", "cka", "spectral", "hubness"], layer=name,
                           depth=depth, backend="numpy", n_eigs=8, n_perm=4, seed=1)
        assert list(df.columns) == KEY_COLUMNS + columns(
            ["jaccard", "cns", "cns_sym", "mutual_knn", "cka", "spectral", "hubness"], null=True)
        # the measures are those of compare() on the two kNN tables
        from latentgraph.graphs.knn import knn_table

        ta = knn_table(a.X, 5, a.labels, a.sample_id, backend="numpy")
        tb = knn_table(b.X, 5, b.labels, b.sample_id, backend="numpy")
        ref = compare(ta, tb, [2, 5], ["jaccard", "cns", "cns_sym", "mutual_knn", "cka", "spectral", "hubness"],
                      xa=a.X, xb=b.X, n_eigs=8, n_perm=4, seed=1)
        pd.testing.assert_frame_equal(df.drop(columns=KEY_COLUMNS[:-1]), ref)
        frames.append(df)
    md = layers_markdown(pd.concat(frames), title="t")
    assert md.count("## k = ") == 2 and "| layer2 | 128 |" in md and "| avgpool | 32 |" in md
    # a latents file that is too small for k names the file
    small = Latents(a.X[:4], a.labels[:4], a.sample_id[:4], metadata={"source": "tiny.parquet"})
    with pytest.raises(LatentGraphError, match="tiny.parquet: k=5"):
        compare_layer(small, small, [5], [], layer="x")


def test_any_torchvision_model_from_a_state_dict_file_at_a_named_layer(tmp_path):
    from helpers import make_imagefolder

    from latentgraph.nets.pretrained import extract_pretrained

    root = make_imagefolder(tmp_path / "imnet")
    torch.manual_seed(0)
    net = torchvision.models.mobilenet_v3_small(weights=None, num_classes=3).eval()
    torch.save(net.state_dict(), tmp_path / "mnv3.pth")
    data_cfg = {"dataset": "imagefolder", "root": str(root), "require_train": False}
    model_cfg = {"arch": "mobilenet_v3_small", "input_size": 32}
    meta = extract_pretrained(tmp_path / "mnv3.pth", data_cfg, model_cfg, tmp_path / "f3.parquet", device="cpu",
                              layer="features.3", reduce="avg", batch_size=5)
    lat = read_latents(tmp_path / "f3.parquet")
    assert lat.X.shape == (12, 24) and lat.metadata["arch"] == "mobilenet_v3_small"
    assert lat.metadata["layer"] == "features.3" and lat.metadata["reduce"] == "avg"
    # against torchvision's own module on the same preprocessed images
    bundle = load_dataset(data_cfg, input_size=32)
    x = torch.stack([bundle.test[i][0] for i in range(12)])
    with torch.no_grad():
        ref = net.features[:4](x).mean(dim=(2, 3)).numpy()
        logits = net(x).numpy()
    np.testing.assert_allclose(lat.X, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(lat.prediction, logits.argmax(1))  # no fc head: the network's own output
    assert meta["test_accuracy"] == lat.accuracy
    # the classifier's input is reachable too, and the extract command does the same
    from latentgraph.cli import main

    assert main(["extract", str(tmp_path / "mnv3.pth"), "--arch", "mobilenet_v3_small", "--root", str(root),
                 "--input-size", "32", "--layer", "avgpool", "--device", "cpu", "-o",
                 str(tmp_path / "pool.parquet")]) == 0
    pool = read_latents(tmp_path / "pool.parquet")
    with torch.no_grad():
        np.testing.assert_allclose(pool.X, net.avgpool(net.features(x)).flatten(1).numpy(), rtol=1e-5, atol=1e-6)
    assert main(["extract", str(tmp_path / "mnv3.pth"), "--arch", "mobilenet_v9", "--root", str(root),
                 "-o", str(tmp_path / "x.parquet")]) == 2
    assert not (tmp_path / "x.parquet").exists()


# --------------------------------------------------------------------------- the workflow (tiny run)


@pytest.mark.slow
def test_tiny_run_new_columns_hubness_and_layers(tiny_run):
    from helpers import TINY, load_yaml

    cfg = load_yaml(TINY)
    R = tiny_run / "results" / "tiny"
    st = pd.read_csv(R / "tables" / "stability.csv")
    extra = ["cns_ba", "cns_sym", "mutual_knn", "spectral", "cka"]
    assert list(st.columns[:7]) == ["comparison", "run", "epoch_a", "epoch_b", "k", "jaccard", "cns"]
    assert list(st.columns[7:12]) == extra
    assert all(f"{c}_null" in st.columns and f"{c}_null_std" in st.columns for c in ["jaccard", "cns", *extra])
    assert (st["jaccard"] > st["jaccard_null"]).all() and (st["mutual_knn"] > st["mutual_knn_null"]).all()
    assert (st["spectral_null"] == st["spectral"]).all()
    assert st.groupby(["comparison", "run", "epoch_a"])["cka"].nunique().eq(1).all()  # one CKA per pair
    assert "| chance |" in (R / "tables" / "stability.md").read_text()
    assert "Mutual kNN alignment" in (R / "tables" / "stability_measures.md").read_text()
    hub = pd.read_csv(R / "tables" / "hubness.csv")
    assert len(hub) == 2 * 2 * 2 and set(hub["k"]) == {2, 4}  # runs x epochs x k
    lay = pd.read_csv(R / "tables" / "layers.csv")
    layers = cfg["layers"]["layers"]
    assert list(lay.drop_duplicates("layer")["layer"]) == layers and len(lay) == len(layers) * 2
    assert (lay["dim_a"] == lay["dim_b"]).all() and lay.loc[lay["layer"] == "layer1", "dim_a"].iloc[0] == 4 * 8 * 8
    # the avgpool layer of the layer stage is the spine's latents: its row equals the
    # seed-to-seed stability row at the same epoch (computed by different jobs)
    last = cfg["train"]["epochs"]
    seed_rows = st[(st["comparison"] == "seed") & (st["epoch_a"] == last)].set_index("k")
    pool = lay[lay["layer"] == "avgpool"].set_index("k")
    for c in ["jaccard", "cns", "cns_ba", "mutual_knn", "spectral", "cka"]:
        np.testing.assert_allclose(pool[c], seed_rows[c], atol=1e-6)
    for name in ("layers.png", "stability_measures.png"):
        assert (R / "figures" / name).stat().st_size > 10_000
