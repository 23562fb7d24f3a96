"""One source of defaults: every library default equals the schema's (schemas/config.schema.yaml).

The workflow always hands the library a validated config (the schema fills in every
missing key), so the schema decides what a workflow run does. A library user who leaves
a key out gets the library's default instead; the two must agree. This module walks the
schema and compares each default with the library's:

- the field defaults of the settings dataclasses (``TrainSettings``, ``PruneSettings``);
- the settings built from an empty config section (``TrainSettings.from_config({})``,
  ``PruneSettings.from_config({})``, ``prune.train_settings({}, {})``,
  ``prune.round_data_config({}, {})``, ``config.measures_settings``,
  ``config.layers_settings``, ``models.model_spec``, ``data.load_dataset``);
- the keyword defaults of the functions that take a config key's value (:data:`KEYWORDS`).

It is data-driven so that a new key cannot slip through: every field of a settings object
must be mapped to a schema path (or listed in :data:`LIBRARY_ONLY` with a reason), every
key a settings builder returns must be mapped, every schema key of a checked section must
be covered by some library default (or listed in :data:`WORKFLOW_ONLY` with a reason), and
every top-level schema section is either checked or listed in :data:`SECTIONS_NOT_CHECKED`.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from helpers import SCHEMA

from latentgraph.execution import resolve_ref

# --------------------------------------------------------------------------- the schema


def _load_schema() -> dict[str, Any]:
    with open(SCHEMA) as fh:
        return yaml.safe_load(fh)


def schema_defaults(node: dict[str, Any] | None = None, prefix: str = "",
                    schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """Dotted path -> default of every leaf key of the schema.

    An object whose default is a mapping (``{}``) is walked into; any other key with a
    default (a number, a list, null, an object whose default is null) is a leaf.
    """
    schema = _load_schema() if schema is None else schema
    node = schema if node is None else node
    out: dict[str, Any] = {}
    for key, sub in node.get("properties", {}).items():
        sub = resolve_ref(sub, schema)
        path = f"{prefix}{key}"
        if "properties" in sub and isinstance(sub.get("default", {}), dict):
            out.update(schema_defaults(sub, f"{path}.", schema))
        elif "default" in sub:
            out[path] = sub["default"]
    return out


DEFAULTS = schema_defaults()
SECTIONS = sorted(_load_schema()["properties"])

# --------------------------------------------------------------------------- what the library defaults are


@dataclass(frozen=True)
class LibraryDefault:
    """One library default and the schema key it must equal.

    ``differs`` names why this default is allowed to differ (an explicit, reasoned
    exception); the test then checks that it still does differ, so a stale exception fails.
    """

    where: str
    path: str
    value: Any
    differs: str | None = None


#: TrainSettings field -> schema path of the ``train`` section.
TRAIN_FIELDS = {
    "epochs": "train.epochs",
    "batch_size": "train.batch_size",
    "lr": "train.optimizer.lr",
    "momentum": "train.optimizer.momentum",
    "weight_decay": "train.optimizer.weight_decay",
    "nesterov": "train.optimizer.nesterov",
    "milestones": "train.scheduler.milestones",
    "gamma": "train.scheduler.gamma",
    "device": "train.device",
    "amp": "train.amp",
    "channels_last": "train.channels_last",
    "num_workers": "train.num_workers",
    "eval_batch_size": "train.eval_batch_size",
    "deterministic": "train.deterministic",
}

#: TrainSettings field -> schema path, for the pruning rounds (``prune.train_settings``): the
#: hyper-parameters come from ``pruning``, where and how fast it runs from ``train``.
PRUNE_TRAIN_FIELDS = {
    **TRAIN_FIELDS,
    "epochs": "pruning.early_stopping.max_epochs",
    "batch_size": "pruning.batch_size",
    "lr": "pruning.optimizer.lr",
    "momentum": "pruning.optimizer.momentum",
    "weight_decay": "pruning.optimizer.weight_decay",
    "nesterov": "pruning.optimizer.nesterov",
    "milestones": "pruning.scheduler.milestones",
    "gamma": "pruning.scheduler.gamma",
}

#: PruneSettings field -> schema path of the ``pruning`` section.
PRUNE_FIELDS = {
    "scope": "pruning.scope",
    "reset": "pruning.reset",
    "rewind_epoch": "pruning.rewind_epoch",
    "patience": "pruning.early_stopping.patience",
    "max_epochs": "pruning.early_stopping.max_epochs",
    "min_delta": "pruning.early_stopping.min_delta",
}

#: Settings fields that are no config key, with the reason.
LIBRARY_ONLY = {
    ("TrainSettings", "threads"): "the job's thread count (snakemake threads / resources.*.threads), not a train key",
}

#: model_spec key -> schema path (``num_classes`` comes from the data, not the config).
MODEL_SPEC_KEYS = {"arch": "model.arch", "stem": "model.stem", "width": "model.width", "input_size": "model.input_size"}
MODEL_SPEC_DERIVED = frozenset({"num_classes"})

#: measures_settings key -> schema path.
MEASURES_KEYS = {"extra": "measures.extra", "n_eigs": "measures.n_eigs",
                 "null_permutations": "measures.null_permutations", "seed": "measures.seed", "ci": "measures.ci",
                 "resamples": "measures.resamples"}

#: layers_settings key -> schema path (epoch and k: null = the stand-ins for train.epochs and knn.k).
LAYERS_KEYS = {"runs": "layers.runs", "epoch": "layers.epoch", "layers": "layers.layers", "reduce": "layers.reduce",
               "k": "layers.k"}
STAND_IN_EPOCHS = 7  # train.epochs seen by layers_settings (layers.epoch null -> this)
STAND_IN_KS = [3, 5]  # knn.k seen by layers_settings (layers.k null -> this)

#: Function keyword defaults that take a config key's value: "module:function" -> {parameter: schema path}.
KEYWORDS: dict[str, dict[str, str]] = {
    # data
    "latentgraph.nets.data:load_digits_bundle": {"test_fraction": "data.test_fraction", "split_seed": "data.split_seed"},
    "latentgraph.nets.data:load_synthetic_bundle": {
        "n_classes": "data.synthetic.n_classes", "n_per_class": "data.synthetic.n_per_class",
        "image_size": "data.synthetic.image_size", "noise": "data.synthetic.noise",
        "test_fraction": "data.test_fraction", "seed": "data.split_seed"},
    "latentgraph.nets.data:load_cifar100_bundle": {"download": "data.download", "augment": "data.augment"},
    "latentgraph.nets.data:load_imagefolder_bundle": {
        "input_size": "model.input_size", "train_dir": "data.train_dir", "val_dir": "data.val_dir",
        "augment": "data.augment", "require_train": "data.require_train"},
    # model
    "latentgraph.nets.models:build_model": {"arch": "model.arch", "stem": "model.stem", "width": "model.width"},
    # train
    "latentgraph.nets.training:resolve_device": {"name": "train.device"},
    "latentgraph.nets.training:evaluate": {"batch_size": "train.eval_batch_size", "amp": "train.amp",
                                   "num_workers": "train.num_workers", "channels_last": "train.channels_last"},
    # latents
    "latentgraph.nets.extraction:extract": {"layer": "latents.layer", "batch_size": "latents.batch_size",
                                    "num_workers": "train.num_workers"},
    "latentgraph.nets.extraction:extract_layers": {"batch_size": "latents.batch_size", "num_workers": "train.num_workers"},
    "latentgraph.nets.extraction:extract_checkpoint": {"split": "latents.split", "layer": "latents.layer",
                                               "device": "train.device", "batch_size": "latents.batch_size",
                                               "num_workers": "train.num_workers"},
    # knn
    "latentgraph.graphs.knn:knn": {"metric": "knn.metric", "backend": "knn.backend"},
    "latentgraph.graphs.knn:knn_table": {"metric": "knn.metric", "backend": "knn.backend"},
    "latentgraph.graphs.knn_approx:build_knn_table": {
        "metric": "knn.metric", "backend": "knn.backend", "method": "knn.method", "recall_queries": "knn.recall_queries",
        "min_recall": "knn.min_recall", "seed": "knn.seed"},
    "latentgraph.experiments.stability:stability_table": {"directed": "knn.directed", "n_eigs": "measures.n_eigs",
                                              "seed": "measures.seed", "ci": "measures.ci"},
    # noise
    "latentgraph.experiments.noise:noise_point": {"directed": "knn.directed", "metric": "knn.metric", "backend": "knn.backend"},
    "latentgraph.experiments.noise:chance_level": {"draws": "noise.chance_repeats", "seed": "noise.seed",
                                       "directed": "knn.directed"},
    "latentgraph.experiments.noise:noise_l1_norm": {"samples": "noise.mc_samples", "seed": "noise.seed"},
    "latentgraph.graphs.path_stats:knn_graph_statistics": {"directed": "knn.directed", "bins": "noise.hist_bins",
                                                    "batch_size": "noise.path_batch_size"},
    "latentgraph.graphs.path_stats:graph_statistics": {"directed": "knn.directed", "bins": "noise.hist_bins",
                                                "batch_size": "noise.path_batch_size"},
    "latentgraph.graphs.path_stats:weighted_path_lengths": {"bins": "noise.hist_bins",
                                                     "batch_size": "noise.path_batch_size"},
    # classgraph
    "latentgraph.experiments.classgraph:class_distances": {"weights": "classgraph.weights", "batch_size": "classgraph.batch_size",
                                               "backend": "classgraph.backend"},
    "latentgraph.experiments.classgraph:class_distances_from_latents": {
        "k": "classgraph.k", "weights": "classgraph.weights", "metric": "knn.metric", "knn_backend": "knn.backend",
        "batch_size": "classgraph.batch_size", "backend": "classgraph.backend",
        "sources_per_class": "classgraph.sources_per_class", "seed": "classgraph.seed"},
    "latentgraph.experiments.classgraph:class_knn_graph": {"class_k": "classgraph.class_k"},
    "latentgraph.experiments.classgraph:analyse_class_graph": {"class_k": "classgraph.class_k", "seed": "classgraph.seed",
                                                   "n_hubs": "classgraph.hubs", "resolution": "classgraph.resolution"},
    "latentgraph.experiments.classgraph:write_class_graph": {"class_k": "classgraph.class_k", "seed": "classgraph.seed",
                                                 "n_hubs": "classgraph.hubs", "resolution": "classgraph.resolution"},
    # measures
    "latentgraph.compare.measures:compare": {"directed": "knn.directed", "n_eigs": "measures.n_eigs",
                                             "ci": "measures.ci"},
    "latentgraph.compare.measures:laplacian_spectrum": {"n_eigs": "measures.n_eigs"},
    "latentgraph.compare.measures:spectral_distance": {"n_eigs": "measures.n_eigs"},
    # layers
    "latentgraph.nets.extraction:extract_checkpoint_layers": {"split": "latents.split", "reduce": "layers.reduce",
                                                     "device": "train.device", "batch_size": "latents.batch_size",
                                                     "num_workers": "train.num_workers"},
    "latentgraph.experiments.layers:compare_layer": {"metric": "knn.metric", "directed": "knn.directed",
                                         "backend": "knn.backend", "n_eigs": "measures.n_eigs", "ci": "measures.ci"},
    # explore
    "latentgraph.explore.page:PageOptions": {"k": "explore.k", "seed": "explore.layout.seed",
                                             "n_neighbors": "explore.layout.n_neighbors",
                                             "directed": "knn.directed", "thumbnail_cap": "explore.thumbnails.cap",
                                             "hubs": "classgraph.hubs"},
    "latentgraph.explore.data:sample_layout": {"seed": "explore.layout.seed", "n_neighbors": "explore.layout.n_neighbors"},
    "latentgraph.explore.images:write_dataset_thumbnails": {"split": "latents.split", "size": "explore.thumbnails.size"},
}

#: Keyword defaults that may differ from their schema key, with the reason ("module:function", parameter).
KEYWORD_EXCEPTIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("latentgraph.compare.measures:compare", "n_perm"): (
        "measures.null_permutations",
        "0 = no permutation null: compare() computes only the columns asked for (documented, tested); the "
        "workflow passes measures.null_permutations"),
    ("latentgraph.experiments.stability:stability_table", "n_perm"): (
        "measures.null_permutations", "as compare(): 0 = no null columns unless asked for"),
    ("latentgraph.experiments.layers:compare_layer", "n_perm"): (
        "measures.null_permutations", "as compare(): 0 = no null columns unless asked for"),
    ("latentgraph.compare.measures:compare", "resamples"): (
        "measures.resamples", "0 = no interval columns: compare() computes only the columns asked for; the "
        "workflow passes measures.resamples"),
    ("latentgraph.experiments.stability:stability_table", "resamples"): (
        "measures.resamples", "as compare(): 0 = no interval columns unless asked for"),
    ("latentgraph.experiments.layers:compare_layer", "resamples"): (
        "measures.resamples", "as compare(): 0 = no interval columns unless asked for"),
}

#: Schema keys of checked sections that no library default covers, with the reason.
WORKFLOW_ONLY = {
    "data.root": "a path only the user knows (required by cifar100/imagefolder; null = none)",
    "data.class_names": "an optional file (null = none)",
    "train.runs": "the workflow's run names and seeds; train_run takes the seed as an argument",
    "train.optimizer.name": "one choice (sgd): make_optimizer builds SGD",
    "train.scheduler.name": "one choice (multistep): TrainSettings.lr_at is MultiStepLR",
    "knn.k": "the workflow's list of k; library functions take the k's as a required argument",
    "knn.shards": "how many jobs search one table (rules knn_shard, knn_gather); shard_rows takes the count",
    "classgraph.shards": "how many jobs fold one class graph (rule class_distance_shard); class_shards takes the count",
    "noise.enabled": "workflow switch",
    "measures.trajectory": "workflow switch (rule trajectory_map)",
    "noise.run": "which trained run (config.noise_target resolves null)",
    "noise.epoch": "which epoch (config.noise_target resolves null)",
    "noise.grid": "the workflow's noise levels, one job each; noise_point takes p as an argument",
    "noise.zoom_max": "plot_noise_* figure option (None = no zoom panel in the library)",
    "noise.repeats": "the workflow's number of draws per p (one job each); noise_point takes the repeat index",
    "noise.stats_k": "knn_graph_statistics takes k as a required argument",
    "classgraph.enabled": "workflow switch",
    "classgraph.source.run": "which trained run (config.classgraph_source)",
    "classgraph.source.epoch": "which epoch (config.classgraph_source resolves null)",
    "classgraph.source.pretrained": "which weights file (config.classgraph_source)",
    "pruning.enabled": "workflow switch",
    "pruning.run": "which trained run's theta0 (a job input)",
    "pruning.rates": "the workflow's rates, one job chain each; run_round takes the rate as an argument",
    "pruning.rounds": "the workflow's number of rounds (jobs); run_round takes the round index",
    "pruning.optimizer.name": "one choice (sgd): make_optimizer builds SGD",
    "pruning.scheduler.name": "one choice (multistep): TrainSettings.lr_at is MultiStepLR",
    "explore.enabled": "workflow switch (explore.plan.explore_pages returns no page)",
    "explore.runs": "which runs get a page (explore.plan.explore_pages resolves null)",
    "explore.epochs": "which epochs get a page (explore.plan.explore_pages resolves null)",
    "explore.compare": "which graph is shown beside (explore.plan.explore_pages: one input file each)",
    "explore.layout.method": "one choice (umap): sample_layout is UMAP",
    "explore.thumbnails.enabled": "workflow switch: the thumbnails job and input (rules/explore.smk)",
}

#: Top-level schema sections without library defaults to compare, with the reason.
SECTIONS_NOT_CHECKED = {
    "name": "the results folder; required, no default",
    "stability": "workflow-only: which runs and epochs are compared (stability_table takes them as arguments)",
    "report": "workflow-only: which report tables are written",
    "resources": "workflow-only: job resources of the rules",
}


def _field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    raise AssertionError(f"field {f.name} has no default")


def _mapped(where: str, values: dict[str, Any], mapping: dict[str, str], owner: str,
            skip: frozenset[str] = frozenset()) -> Iterator[LibraryDefault]:
    """One LibraryDefault per key of ``values``; a key that is neither mapped nor library-only fails."""
    unmapped = [k for k in values if k not in mapping and (owner, k) not in LIBRARY_ONLY and k not in skip]
    assert not unmapped, (f"{where}: {unmapped} map to no schema key; add them to the mapping in "
                          f"tests/test_defaults.py (or to LIBRARY_ONLY with a reason)")
    for k, path in mapping.items():
        assert k in values, f"{where} has no {k!r} (mapped to {path})"
        yield LibraryDefault(f"{where}.{k}", path, values[k])


def _train_settings_defaults() -> Iterator[LibraryDefault]:
    from latentgraph.nets.training import TrainSettings

    fields = {f.name: _field_default(f) for f in dataclasses.fields(TrainSettings)}
    yield from _mapped("TrainSettings field default", fields, TRAIN_FIELDS, "TrainSettings")
    yield from _mapped("TrainSettings.from_config({})", dataclasses.asdict(TrainSettings.from_config({})),
                       TRAIN_FIELDS, "TrainSettings")
    partial = TrainSettings.from_config({"optimizer": {}, "scheduler": {}})
    yield from _mapped("TrainSettings.from_config(empty subsections)", dataclasses.asdict(partial), TRAIN_FIELDS,
                       "TrainSettings")


def _prune_defaults() -> Iterator[LibraryDefault]:
    from latentgraph.nets.pruning import PruneSettings, round_data_config, train_settings

    fields = {f.name: _field_default(f) for f in dataclasses.fields(PruneSettings)}
    yield from _mapped("PruneSettings field default", fields, PRUNE_FIELDS, "PruneSettings")
    yield from _mapped("PruneSettings.from_config({})", dataclasses.asdict(PruneSettings.from_config({})),
                       PRUNE_FIELDS, "PruneSettings")
    yield from _mapped("prune.train_settings({}, {})", dataclasses.asdict(train_settings({}, {})),
                       PRUNE_TRAIN_FIELDS, "TrainSettings")
    yield from _mapped("prune.train_settings(empty subsections)",
                       dataclasses.asdict(train_settings({"optimizer": {}, "scheduler": {}, "early_stopping": {}}, {})),
                       PRUNE_TRAIN_FIELDS, "TrainSettings")
    yield from _mapped("prune.round_data_config({}, {})", round_data_config({}, {}),
                       {"val_fraction": "pruning.val_fraction"}, "round_data_config")


def _data_defaults() -> Iterator[LibraryDefault]:
    """``load_dataset`` reads ``dataset`` and ``val_fraction`` inline: load an empty section."""
    from latentgraph.nets.data import load_dataset

    bundle = load_dataset({})
    yield LibraryDefault("load_dataset({}).name", "data.dataset", bundle.name)
    # 0 = no validation split; any other fraction would hold one out
    yield LibraryDefault("load_dataset({}) validation split (None = fraction 0.0)", "data.val_fraction",
                         0.0 if bundle.val is None else f"a split of {len(bundle.val)} samples")


def _model_defaults() -> Iterator[LibraryDefault]:
    from latentgraph.nets.models import model_spec

    yield from _mapped("models.model_spec({}, 10)", model_spec({}, 10), MODEL_SPEC_KEYS, "model_spec",
                       skip=MODEL_SPEC_DERIVED)


def _measures_defaults() -> Iterator[LibraryDefault]:
    from latentgraph.config import measures_settings

    for where, cfg in (("config.measures_settings({})", {}), ("config.measures_settings({measures: {}})",
                                                              {"measures": {}})):
        m = measures_settings(cfg)
        yield LibraryDefault(f"{where} is not None", "measures.enabled", m is not None)
        if m is not None:
            yield from _mapped(where, m, MEASURES_KEYS, "measures_settings")
    m = measures_settings({"measures": {"enabled": True}})
    yield from _mapped("config.measures_settings({measures: {enabled: true}})", m, MEASURES_KEYS, "measures_settings")


def _layers_defaults() -> Iterator[LibraryDefault]:
    from latentgraph.config import layers_settings

    for where, cfg in (("config.layers_settings({})", {}), ("config.layers_settings({layers: {}})", {"layers": {}})):
        yield LibraryDefault(f"{where} is not None", "layers.enabled", layers_settings(cfg) is not None)
    cfg = {"layers": {"enabled": True}, "train": {"epochs": STAND_IN_EPOCHS}, "knn": {"k": list(STAND_IN_KS)}}
    lay = dict(layers_settings(cfg))
    # null defaults resolve to other sections: map the stand-ins back to null
    lay["epoch"] = None if lay["epoch"] == STAND_IN_EPOCHS else lay["epoch"]
    lay["k"] = None if lay["k"] == STAND_IN_KS else lay["k"]
    yield from _mapped("config.layers_settings({layers: {enabled: true}})", lay, LAYERS_KEYS, "layers_settings")


def _function(ref: str) -> Callable[..., Any]:
    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


def _keyword_defaults() -> Iterator[LibraryDefault]:
    for ref, params in KEYWORDS.items():
        sig = inspect.signature(_function(ref))
        for param, path in params.items():
            assert param in sig.parameters, f"{ref} has no parameter {param!r} (mapped to {path})"
            default = sig.parameters[param].default
            assert default is not inspect.Parameter.empty, f"{ref}({param}) has no default (mapped to {path})"
            yield LibraryDefault(f"{ref}({param}=...)", path, default)
    for (ref, param), (path, reason) in KEYWORD_EXCEPTIONS.items():
        default = inspect.signature(_function(ref)).parameters[param].default
        yield LibraryDefault(f"{ref}({param}=...)", path, default, differs=reason)


def _knn_method_defaults() -> Iterator[LibraryDefault]:
    """The parameters of the approximate kNN methods (knn.ivf, knn.hnsw): knn_approx.METHOD_DEFAULTS."""
    from latentgraph.graphs.knn_approx import METHOD_DEFAULTS

    for method, values in METHOD_DEFAULTS.items():
        yield from _mapped(f"knn_approx.METHOD_DEFAULTS[{method!r}]", values,
                           {key: f"knn.{method}.{key}" for key in values}, "METHOD_DEFAULTS")


SOURCES: dict[str, Callable[[], Iterator[LibraryDefault]]] = {
    "train": _train_settings_defaults,
    "pruning": _prune_defaults,
    "data": _data_defaults,
    "model": _model_defaults,
    "measures": _measures_defaults,
    "layers": _layers_defaults,
    "keywords": _keyword_defaults,
    "knn_methods": _knn_method_defaults,
}


def _all_defaults() -> list[LibraryDefault]:
    return [d for source in SOURCES.values() for d in source()]


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal kinds (0 == 0.0, but not True == 1, not (1,) == [1] loosely)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


# --------------------------------------------------------------------------- the tests


def test_schema_walk_finds_the_known_keys():
    """A sanity check of the walker itself (nested objects, $ref, null-default objects)."""
    assert DEFAULTS["train.epochs"] == 25 and DEFAULTS["train.optimizer.lr"] == 0.1
    assert DEFAULTS["pruning.early_stopping.patience"] == 3
    assert DEFAULTS["data.synthetic.n_classes"] == 4
    assert DEFAULTS["resources.train.mem_mb"] == 4000
    assert DEFAULTS["classgraph.source.pretrained"] is None and "classgraph.source.pretrained.weights" not in DEFAULTS
    assert DEFAULTS["train.runs"] == {"A": 0, "B": 1}


@pytest.mark.parametrize("source", list(SOURCES))
def test_library_defaults_equal_the_schema(source):
    """Each library default equals its schema key's default; the message lists every mismatch."""
    bad = []
    for d in SOURCES[source]():
        assert d.path in DEFAULTS, f"{d.where} is mapped to {d.path!r}, which the schema does not have"
        if d.differs is not None:
            continue
        if not _same(d.value, DEFAULTS[d.path]):
            bad.append(f"{d.where} = {d.value!r}, schema {d.path} = {DEFAULTS[d.path]!r}")
    assert not bad, "library defaults disagree with schemas/config.schema.yaml:\n  " + "\n  ".join(bad)


def test_keyword_exceptions_still_differ():
    """An exception whose default now equals the schema's is stale: move it to KEYWORDS."""
    stale = [d.where for d in _keyword_defaults() if d.differs is not None and _same(d.value, DEFAULTS[d.path])]
    assert not stale, f"these defaults equal the schema now; drop them from KEYWORD_EXCEPTIONS: {stale}"


def test_every_schema_key_is_covered():
    """Every key of a checked section has a library default above, or a reason in WORKFLOW_ONLY."""
    unknown = sorted(set(SECTIONS_NOT_CHECKED) - set(SECTIONS))
    assert not unknown, f"SECTIONS_NOT_CHECKED names sections the schema lacks: {unknown}"
    stale = sorted(k for k in WORKFLOW_ONLY if k not in DEFAULTS)
    assert not stale, f"WORKFLOW_ONLY names keys the schema lacks: {stale}"
    covered = {d.path for d in _all_defaults()}
    both = sorted(covered & set(WORKFLOW_ONLY))
    assert not both, f"these WORKFLOW_ONLY keys have a library default above; drop them from WORKFLOW_ONLY: {both}"
    checked = [s for s in SECTIONS if s not in SECTIONS_NOT_CHECKED]
    missing = sorted(p for p in DEFAULTS if p.split(".")[0] in checked and p not in covered and p not in WORKFLOW_ONLY)
    assert not missing, ("schema keys without a library default to compare; map them in tests/test_defaults.py "
                         f"(or list them in WORKFLOW_ONLY with a reason): {missing}")


def test_validated_config_overrides_every_default():
    """The workflow's path: settings from a validated config equal those from the schema defaults,
    whatever the library defaults are (the config, filled by the schema, always wins)."""
    from helpers import full

    from latentgraph.config import layers_settings, measures_settings
    from latentgraph.nets.pruning import PruneSettings, train_settings
    from latentgraph.nets.training import TrainSettings

    cfg = full({"name": "x"})
    train = {k: v for k, v in cfg["train"].items() if k != "runs"}
    assert TrainSettings.from_config(train) == TrainSettings.from_config({})
    assert TrainSettings.from_config(train, epochs=3, threads=2) == TrainSettings.from_config({}, epochs=3, threads=2)
    assert PruneSettings.from_config(cfg["pruning"]) == PruneSettings.from_config({})
    assert train_settings(cfg["pruning"], cfg["train"]) == train_settings({}, {})
    assert measures_settings(cfg) == measures_settings({})
    lay = copy.deepcopy(cfg)
    lay["layers"]["enabled"] = True
    assert layers_settings(lay) == layers_settings({"layers": {"enabled": True}, "train": cfg["train"],
                                                    "knn": cfg["knn"]})
