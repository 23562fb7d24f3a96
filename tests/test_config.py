"""The config schema and the cross-key checks: every shipped config is valid, bad ones
fail with a message that names the key and what is allowed."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from helpers import REPO, SCHEMA, full, load_yaml
from snakemake.utils import validate

from latentgraph.config import epoch_window, validate_config
from latentgraph.utils import LatentGraphError

CONFIGS = [REPO / "config.yaml", REPO / "tests" / "data" / "tiny.yaml", *sorted((REPO / "configs").glob("*.yaml"))]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: Path(p).name)
def test_shipped_configs_are_valid(path):
    full(load_yaml(path))


def test_defaults_are_filled_in():
    cfg = full({"name": "x"})
    assert cfg["knn"]["k"] == [4, 8, 16] and cfg["knn"]["metric"] == "l1"
    assert cfg["train"]["optimizer"]["lr"] == 0.1 and cfg["train"]["epochs"] == 25
    assert cfg["resources"]["train"]["mem_mb"] == 4000
    assert epoch_window(cfg) == [11, 12, 13, 14, 15, 16]


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["data"].update(datset="x"), r"data\.datset: unknown key; allowed keys: .*dataset"),
        (lambda c: c.update(nmae="x"), r"nmae: unknown key; allowed keys: .*name"),
        (lambda c: c["data"].update(dataset="mnist"), r"data\.dataset: 'mnist' is not allowed; allowed values: 'digits'"),
        (lambda c: c["knn"].update(metric="cosine"), r"knn\.metric: 'cosine' is not allowed; allowed values: 'l1', 'l2'"),
        (lambda c: c["knn"].update(k=[]), r"knn\.k: \[\] should be non-empty"),
        (lambda c: c["knn"].update(k=[0, 4]), r"knn\.k\.0: 0 is less than the minimum of 1"),
        (lambda c: c["train"].update(epochs="ten"), r"train\.epochs: 'ten' is not of type 'integer'"),
        (lambda c: c["model"].update(stem="vgg"), r"model\.stem: 'vgg' is not allowed"),
        (lambda c: c["train"]["optimizer"].update(lr=0), r"train\.optimizer\.lr: 0 is less than or equal"),
        (lambda c: c["stability"].update(epochs=[3]), r"stability\.epochs: \[3\] is too short"),
        (lambda c: c.update(name="has space"), r"name: 'has space' does not match"),
    ],
)
def test_schema_errors_name_the_key(tiny_config, edit, message):
    edit(tiny_config)
    with pytest.raises(LatentGraphError, match=message):
        validate_config(tiny_config, SCHEMA)
    with pytest.raises(Exception, match="Error validating config file"):
        validate(copy.deepcopy(tiny_config), SCHEMA)  # Snakemake's own validation agrees


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["stability"].update(runs=["A", "C"]), r"stability\.runs: run 'C' is not trained"),
        (lambda c: c["stability"].update(epochs=[2, 9]), r"stability\.epochs: window \[2, 9\] must lie inside"),
        (lambda c: c["train"].update(runs={"A": 1, "B": 1}), r"train\.runs: two runs share a seed"),
        (lambda c: c["knn"].update(k=[4, 4]), r"knn\.k: values repeat"),
        (lambda c: c["data"].update(dataset="cifar100"), r"data\.root: dataset 'cifar100' needs a root"),
    ],
)
def test_cross_key_errors(tiny_config, edit, message):
    edit(tiny_config)
    with pytest.raises(LatentGraphError, match=message):
        full(tiny_config)


def test_disabled_stability_skips_its_checks(tiny_config):
    tiny_config["stability"].update(enabled=False, runs=["Z"], epochs=[50, 60])
    full(tiny_config)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["model"].update(arch="resnet19"), r"model\.arch: unknown arch 'resnet19'.*e\.g\. resnet18"),
        (lambda c: c["model"].update(arch="resnet50"), r"model\.stem: stem and width apply to arch resnet18 only"),
        (lambda c: c["layers"].update(runs=["A", "C"]), r"layers\.runs: run 'C' is not trained"),
        (lambda c: c["layers"].update(runs=["A", "A"]), r"layers\.runs: compare two different runs"),
        (lambda c: c["layers"].update(epoch=9), r"layers\.epoch: epoch 9 is not trained"),
        (lambda c: c["layers"].update(layers=["layer1", "layer1"]), r"layers\.layers: values repeat"),
        (lambda c: c["measures"].update(extra=["cka", "cka"]), r"measures\.extra: values repeat"),
    ],
)
def test_measures_layers_and_arch_errors(tiny_config, edit, message):
    edit(tiny_config)
    with pytest.raises(LatentGraphError, match=message):
        full(tiny_config)


def test_measures_and_layers_schema(tiny_config):
    from latentgraph.config import layers_settings, measures_settings

    cfg = full({"name": "x"})
    assert cfg["measures"]["enabled"] and cfg["measures"]["n_eigs"] == 20 and not cfg["layers"]["enabled"]
    assert layers_settings(cfg) is None and measures_settings(cfg)["extra"][0] == "cns_sym"
    tiny = full(tiny_config)
    assert layers_settings(tiny) == {"runs": ["A", "B"], "epoch": 3, "layers": ["layer1", "layer4", "avgpool"],
                                     "reduce": "flatten", "k": [2, 4]}
    tiny_config["model"].update(arch="mobilenet_v3_small", stem="imagenet", width=64)
    with pytest.raises(LatentGraphError, match=r"noise\.enabled: .* arch 'mobilenet_v3_small' has none"):
        full(tiny_config)
    tiny_config["noise"]["enabled"] = False
    full(tiny_config)  # any torchvision classifier, with stem and width at their defaults
    tiny_config["model"].update(arch="resnet50")
    tiny_config["noise"]["enabled"] = True
    full(tiny_config)
    bad = copy.deepcopy(tiny_config)
    bad["measures"]["extra"] = ["no_such_measure"]
    with pytest.raises(LatentGraphError, match=r"measures\.extra\.0: 'no_such_measure' is not allowed"):
        validate_config(bad, SCHEMA)
    bad = copy.deepcopy(tiny_config)
    bad["layers"]["layers"] = ["layer 1"]
    with pytest.raises(LatentGraphError, match=r"layers\.layers\.0: 'layer 1' does not match"):
        validate_config(bad, SCHEMA)


# --------------------------------------------------------------------------- canonical params, execution-only keys


def _reordered(obj):
    """The same mapping with every level's keys in reverse order (what a sort_keys dump can do)."""
    if isinstance(obj, dict):
        return {k: _reordered(obj[k]) for k in reversed(list(obj))}
    if isinstance(obj, list):
        return [_reordered(v) for v in obj]
    return obj


def test_normalised_config_ignores_key_order_and_number_spelling(tiny_config):
    from latentgraph.config import normalise_config, result_config

    a = normalise_config(full(tiny_config))
    b = normalise_config(full(_reordered(tiny_config)))
    assert repr(a) == repr(b)  # Snakemake compares params by repr
    c = copy.deepcopy(tiny_config)
    c["train"]["optimizer"]["lr"] = 1  # an int where the schema says number ...
    c["train"]["epochs"] = 3.0  # ... and a float where it says integer
    c["noise"]["grid"] = [0, 0.5, 1]
    n = normalise_config(full(c))
    assert repr(n["train"]["optimizer"]["lr"]) == "1.0" and repr(n["train"]["epochs"]) == "3"
    assert repr(n["noise"]["grid"]) == "[0.0, 0.5, 1.0]"
    assert list(n) == sorted(n) and list(n["train"]) == sorted(n["train"])
    assert n["stability"]["runs"] == tiny_config["stability"]["runs"]  # list order is meaning: kept
    r = result_config(full(tiny_config))
    assert "device" not in r["train"] and "backend" not in r["knn"] and "resources" not in r
    assert "download" not in r["data"] and "lr" in r["train"]["optimizer"]


def test_execution_only_keys_are_declared_in_the_schema():
    from latentgraph.config import execution_keys, execution_settings

    keys = execution_keys()
    assert {"train.device", "train.num_workers", "train.eval_batch_size", "latents.batch_size", "knn.backend",
            "classgraph.backend", "classgraph.batch_size", "noise.path_batch_size", "resources"} <= set(keys)
    # what changes a result is never execution-only
    assert not {"train.amp", "train.optimizer", "knn.k", "knn.metric", "train.epochs", "data.dataset"} & set(keys)
    cfg = full({"name": "x"})
    assert execution_settings(cfg, "train") == {"device": "auto", "channels_last": True, "num_workers": 0,
                                                "eval_batch_size": 256, "deterministic": False}
    assert execution_settings(cfg, "knn") == {"backend": "auto", "shards": 1}
    assert {"knn.shards", "classgraph.shards"} <= set(keys)  # sharded or not, the same tables


# --------------------------------------------------------------------------- checks before any work


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["stability"].update(epochs=[3, 2]), r"stability\.epochs: \[3, 2\] must be increasing"),
        (lambda c: c.setdefault("latents", {}).update(layer="layer5"), r"latents\.layer: model 'resnet18' has no module 'layer5'"),
        (lambda c: c["layers"].update(layers=["layer1", "layer4.2"]), r"layers\.layers: .* no module 'layer4\.2'"),
        (lambda c: c["knn"].update(k=[2, 60]), r"knn\.k: k=60 must be smaller than the number of samples: "
                                               r"the test split of synthetic has N=60"),
        (lambda c: c["classgraph"].update(k=60), r"classgraph\.k: 60 must be smaller than the number of samples"),
        (lambda c: c["measures"].update(n_eigs=61), r"measures\.n_eigs: 61 must be at most the number of samples"),
        (lambda c: c["layers"].update(k=[60]), r"layers\.k: k=60 must be smaller"),
        (lambda c: c["knn"].update(shards=61), r"knn\.shards: 61 must be at most the number of samples: "
                                               r"the test split of synthetic has N=60"),
        (lambda c: c["knn"].update(shards=2, method="hnsw"), r"knn\.shards: 2 shards need knn\.method exact"),
        (lambda c: c["classgraph"].update(shards=5), r"classgraph\.shards: 5 must be at most the number of "
                                                     r"classes \(4\)"),
    ],
)
def test_errors_found_when_the_config_is_read(tiny_config, edit, message):
    edit(tiny_config)
    with pytest.raises(LatentGraphError, match=message):
        full(tiny_config)


def test_known_split_sizes_match_the_loaded_data(tiny_config):
    """The sizes checked at parse time are the sizes the data loader gives."""
    from latentgraph.config import split_size
    from latentgraph.nets.data import load_dataset

    for dataset, extra in (("synthetic", {"test_fraction": 0.3, "val_fraction": 0.25}),
                           ("digits", {"test_fraction": 0.5, "val_fraction": 0.1})):
        cfg = full(tiny_config)
        cfg["data"].update(dataset=dataset, **extra)
        bundle = load_dataset(cfg["data"])
        for split in ("train", "test", "val"):
            assert split_size(cfg, split) == len(getattr(bundle, split)), (dataset, split)


def test_layer_names_known_without_torch_are_the_models():
    from latentgraph.nets.models import build_model, resnet18_module_names

    for stem, width in (("cifar", 16), ("imagenet", 64), ("imagenet", 8)):
        built = [n for n, _ in build_model("resnet18", 10, stem, width).named_modules() if n]
        assert resnet18_module_names() == built


def test_window_straddling_a_learning_rate_step_warns(tiny_config):
    from latentgraph.config import WindowWarning, window_step_warnings

    tiny_config["train"]["scheduler"]["milestones"] = [2]  # checkpoint 2 before the step, 3 after
    with pytest.warns(WindowWarning, match=r"the pair \(2, 3\) straddles a learning-rate step"):
        full(tiny_config)
    tiny_config["train"]["scheduler"]["milestones"] = [1]
    assert window_step_warnings(full(tiny_config)) == []


@pytest.mark.parametrize("path", [REPO / "config.yaml", *sorted((REPO / "configs").glob("*.yaml"))],
                         ids=lambda p: Path(p).name)
def test_no_shipped_window_straddles_a_step(path):
    from latentgraph.config import window_step_warnings

    assert window_step_warnings(full(load_yaml(path))) == []


def test_thesis_window_maps_to_checkpoints_after_the_step():
    """The thesis's epochs 10-15 (numbered from 0, step at 10) are our checkpoints 11-16."""
    from latentgraph.config import checkpoint_lr
    from latentgraph.experiments.thesis import load_reference

    cfg = full(load_yaml(REPO / "configs" / "thesis_cifar100.yaml"))
    ref = load_reference(REPO / "report" / "thesis_tables.yaml")["stability"]
    first, last = (e + ref["checkpoint_offset"] for e in ref["window"])
    assert cfg["stability"]["epochs"] == [first, last] == [11, 16]
    assert [checkpoint_lr(cfg, e) for e in range(first, last + 1)] == pytest.approx([0.01] * 6)
    assert checkpoint_lr(cfg, 10) == pytest.approx(0.1)  # the thesis's epoch 9: before the step
