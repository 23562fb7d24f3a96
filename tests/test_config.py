"""The config schema and the cross-key checks: every shipped config is valid, bad ones
fail with a message that names the key and what is allowed."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from conftest import REPO, SCHEMA, full, load_yaml
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
    assert epoch_window(cfg) == [10, 11, 12, 13, 14, 15]


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
    bad["measures"]["extra"] = ["rsa"]
    with pytest.raises(LatentGraphError, match=r"measures\.extra\.0: 'rsa' is not allowed"):
        validate_config(bad, SCHEMA)
    bad = copy.deepcopy(tiny_config)
    bad["layers"]["layers"] = ["layer 1"]
    with pytest.raises(LatentGraphError, match=r"layers\.layers\.0: 'layer 1' does not match"):
        validate_config(bad, SCHEMA)
