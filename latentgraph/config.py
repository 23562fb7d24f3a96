"""Checks of a workflow config beyond what its JSON schema can say.

The schema (``schemas/config.schema.yaml``) checks keys, types, ranges and allowed values
and fills in defaults; :func:`check_config` then checks how the parts fit together (a
window inside the trained epochs, comparisons of runs that exist, ...). Pure Python, so
the Snakefile can call it before any job runs.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

from .execution import (  # noqa: F401 - the config API in one place
    EXECUTION_KEYWORD,
    SCHEMA_PATH,
    execution_keys,
    execution_settings,
    normalise_config,
    result_config,
)
from .utils import CLASSGRAPH_FILES, LatentGraphError  # noqa: F401 - CLASSGRAPH_FILES: the workflow reads it here


def _fail(key: str, msg: str) -> None:
    raise LatentGraphError(f"config key {key}: {msg}")


def load_schema(path: str) -> dict[str, Any]:
    """Read a YAML (or JSON) schema file (a fresh copy: callers may change it).

    Parameters
    ----------
    path : str
        The schema file (e.g. :data:`SCHEMA_PATH`); read once per process and cached.

    Returns
    -------
    dict
        The schema.
    """
    import copy

    return copy.deepcopy(_read_schema(str(path)))


@functools.lru_cache(maxsize=4)
def _read_schema(path: str) -> dict[str, Any]:
    import yaml

    with open(path) as fh:
        return yaml.safe_load(fh)


def schema_errors(config: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every schema violation of ``config`` as one readable line each.

    Each line names the key (dotted path) and, for unknown keys and bad choices, what is
    allowed, e.g. ``data.datset: unknown key; allowed keys: dataset, root, ...``.

    Parameters
    ----------
    config : dict
        The config as given (before defaults are filled in).
    schema : dict
        The JSON schema (:func:`load_schema`).

    Returns
    -------
    list of str
        The problems, sorted by key path; empty when the config is valid.
    """
    from jsonschema import Draft202012Validator

    lines = []
    validator = Draft202012Validator(schema)
    for err in sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path]):
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        sub = err.schema if isinstance(err.schema, dict) else {}
        if err.validator == "additionalProperties":
            allowed = sorted(sub.get("properties", {}))
            extra = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
            for key in extra:
                key_path = f"{where}.{key}" if err.absolute_path else key
                lines.append(f"{key_path}: unknown key; allowed keys: {', '.join(allowed)}")
            if not extra:
                lines.append(f"{where}: {err.message}")
        elif err.validator == "enum":
            lines.append(f"{where}: {err.instance!r} is not allowed; allowed values: "
                         f"{', '.join(repr(v) for v in err.validator_value)}")
        else:
            lines.append(f"{where}: {err.message}")
    return lines


def validate_config(config: dict[str, Any], schema_path: str) -> None:
    """Raise :class:`LatentGraphError` listing every schema violation of ``config``.

    Runs before ``snakemake.utils.validate`` (which fills in the defaults) so that a bad
    config stops the workflow with one readable line per problem.

    Parameters
    ----------
    config : dict
        The config as given.
    schema_path : str
        The schema file.

    Raises
    ------
    LatentGraphError
        When the config violates the schema, with one line per problem (:func:`schema_errors`).
    """
    errors = schema_errors(config, load_schema(schema_path))
    if errors:
        raise LatentGraphError("invalid config:\n  " + "\n  ".join(errors))


def epoch_window(config: dict[str, Any]) -> list[int]:
    """The epochs whose latents are studied (``stability.epochs`` = [first, last], inclusive).

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).

    Returns
    -------
    list of int
        first, first + 1, ..., last.
    """
    first, last = config["stability"]["epochs"]
    return list(range(int(first), int(last) + 1))


def check_config(config: dict[str, Any]) -> None:
    """Raise :class:`LatentGraphError` naming the key when parts of the config disagree.

    Runs every check of this module; a stability window that straddles a learning-rate
    step gives a :class:`WindowWarning`.

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).

    Raises
    ------
    LatentGraphError
        Naming the key, at the first problem found.
    """
    train = config["train"]
    runs = train["runs"]
    epochs = int(train["epochs"])
    if not runs:
        _fail("train.runs", "needs at least one run (name: seed)")
    seeds = list(runs.values())
    if len(set(seeds)) != len(seeds):
        _fail("train.runs", f"two runs share a seed ({runs}); runs must differ in their seed")
    stab = config["stability"]
    if not stab.get("enabled", True):
        stab = None
    for r in stab["runs"] if stab else []:
        if r not in runs:
            _fail("stability.runs", f"run {r!r} is not trained; trained runs: {sorted(runs)}")
    if stab:
        first, last = stab["epochs"]
        if first >= last:
            _fail("stability.epochs", f"[{first}, {last}] must be increasing: [first, last] with first < last")
        if not 0 <= first < last <= epochs:
            _fail("stability.epochs", f"window [{first}, {last}] must lie inside the trained epochs 0..{epochs}")
        for message in window_step_warnings(config):
            warnings.warn(message, WindowWarning, stacklevel=2)
    ks = config["knn"]["k"]
    if len(set(ks)) != len(ks):
        _fail("knn.k", f"values repeat: {ks}")
    if int(config["knn"].get("shards", 1)) > 1 and config["knn"].get("method", "exact") != "exact":
        _fail("knn.shards", f"{config['knn']['shards']} shards need knn.method exact (an approximate index is built "
                            f"over all latents at once), got method {config['knn']['method']!r}; use shards: 1")
    if config["data"]["dataset"] in ("cifar100", "imagefolder") and not config["data"].get("root"):
        _fail("data.root", f"dataset {config['data']['dataset']!r} needs a root folder")
    check_noise_config(config)
    _check_pruning(config)
    check_classgraph(config)
    check_model_arch(config)
    check_measures_config(config)
    check_layers_config(config)
    check_layer_names_known(config)
    check_sizes(config)


# --------------------------------------------------------------------------- checks against the data and model


#: Sample counts of the datasets whose size is known before any file is read: (train, test).
KNOWN_SIZES = {"digits": 1797, "cifar100": (50000, 10000)}


def split_size(config: dict[str, Any], split: str | None = None) -> int | None:
    """Number of samples of ``split`` (default ``latents.split``), or None when only the data can tell.

    Reproduces the stratified splits of :mod:`latentgraph.nets.data` (scikit-learn's
    ``train_test_split``: ``ceil(fraction * n)`` samples go to the held-out part) for the
    bundled digits and the synthetic set, and CIFAR-100's fixed 50,000 / 10,000 split.

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).
    split : {"train", "val", "test"}, optional
        The split; None: ``latents.split`` (default ``"test"``).

    Returns
    -------
    int or None
        The number of samples; None for datasets read from files (imagefolder).
    """
    import math

    data = config["data"]
    split = split or config.get("latents", {}).get("split", "test")
    dataset = data["dataset"]
    if dataset in ("digits", "synthetic"):
        if dataset == "digits":
            n = KNOWN_SIZES["digits"]
        else:
            syn = data.get("synthetic") or {}
            n = int(syn.get("n_classes", 4)) * int(syn.get("n_per_class", 40))
        n_test = math.ceil(float(data.get("test_fraction", 0.5)) * n)
        n_train = n - n_test
    elif dataset == "cifar100":
        n_train, n_test = KNOWN_SIZES["cifar100"]
    else:
        return None
    if split == "test":
        return n_test
    n_val = math.ceil(float(data.get("val_fraction", 0.0) or 0.0) * n_train)
    return n_val if split == "val" else n_train - n_val


#: Default of ``resources.knn_gpu_min_samples`` (the schema's): the smallest latents split whose
#: kNN jobs ask SLURM for a GPU on GPU configs. Estimated crossover (docs/gpu.md, "Which kNN
#: searches use the GPU"): a GPU job's fixed cost (allocation, start-up of CUDA and FAISS's GPU
#: build) is estimated at 25-40 s, which the CPU kernel reached near N = 40,000-50,000 when this
#: was set; it now takes about 6e-9 s x N^2 at d = 512 on 2 cores (14.5 s at N = 50,000), so the
#: break-even moved to about 65,000-85,000. Kept: the GPU's cost is unmeasured, and a change
#: would rerun ImageNet-sized kNN jobs under --use-conda (they would change environment).
KNN_GPU_MIN_SAMPLES = 40_000
#: The split size assumed when only the data can tell (imagefolder): ImageNet's validation set.
UNKNOWN_SPLIT_SIZE = 50_000


def knn_on_gpu(config: dict[str, Any]) -> bool:
    """Whether the kNN jobs of ``config`` (rules knn, prune_knn, layer_compare) run on a GPU.

    They search the latents of one split (``latents.split``): a GPU pays only for large
    ones, so a GPU config (``resources.gpu`` >= 1) sends them to a GPU, in
    ``envs/graph-gpu.yaml`` and unbundled, when the split has at least
    ``resources.knn_gpu_min_samples`` samples; smaller splits search on CPU nodes in
    ``envs/graph.yaml``, bundled like a CPU config's.

    Parameters
    ----------
    config
        A workflow config (validated, or with ``resources`` keys left out: they take the
        schema's defaults).

    Returns
    -------
    bool
        True when the kNN jobs ask for a GPU. A split whose size only the data can tell
        (imagefolder) counts as :data:`UNKNOWN_SPLIT_SIZE` samples.
    """
    res = config.get("resources") or {}
    if not res.get("gpu"):
        return False
    n = split_size(config)
    n = UNKNOWN_SPLIT_SIZE if n is None else n
    return n >= int(res.get("knn_gpu_min_samples", KNN_GPU_MIN_SAMPLES))


def check_sizes(config: dict[str, Any]) -> None:
    """Neighbour counts below, and eigenvalue and shard counts at most, the number of samples (when known).

    Checks ``knn.k``, ``knn.shards``, ``classgraph.k``, ``measures.n_eigs`` and ``layers.k`` against
    :func:`split_size`; nothing when only the data can tell the size.

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).

    Raises
    ------
    LatentGraphError
        Naming the key, at the first problem found.
    """
    n = split_size(config)
    if n is None:
        return
    where = f"the {config.get('latents', {}).get('split', 'test')} split of {config['data']['dataset']} has N={n} samples"
    kmax = max(int(k) for k in config["knn"]["k"])
    if kmax >= n:
        _fail("knn.k", f"k={kmax} must be smaller than the number of samples: {where}")
    if int(config["knn"].get("shards", 1)) > n:
        _fail("knn.shards", f"{config['knn']['shards']} must be at most the number of samples: {where}")
    cg = config.get("classgraph") or {}
    if cg.get("enabled", True) and not (cg.get("source") or {}).get("pretrained") and int(cg.get("k", 4)) >= n:
        _fail("classgraph.k", f"{cg['k']} must be smaller than the number of samples: {where}")
    m = measures_settings(config)
    if m is not None and "spectral" in m["extra"] and m["n_eigs"] > n:
        _fail("measures.n_eigs", f"{m['n_eigs']} must be at most the number of samples: {where}")
    lay = layers_settings(config)
    if lay is not None and max(lay["k"]) >= n:
        _fail("layers.k", f"k={max(lay['k'])} must be smaller than the number of samples: {where}")


def check_layer_names_known(config: dict[str, Any]) -> None:
    """Layer names against the model's modules, without torch.

    Only for the architectures the package describes (resnet18); other architectures are
    checked when the train job starts (:func:`latentgraph.nets.models.check_config_layer_names`).

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).

    Raises
    ------
    LatentGraphError
        When a requested layer is not a module of the model.
    """
    from .nets.models import ARCHS, check_layer_names, requested_layers, resnet18_module_names

    arch = config.get("model", {}).get("arch", "resnet18")
    if arch in ARCHS:
        check_layer_names(requested_layers(config), resnet18_module_names(), arch)


class WindowWarning(UserWarning):
    """A stability window whose compared checkpoints straddle a learning-rate step."""


def checkpoint_lr(config: dict[str, Any], epoch: int) -> float | None:
    """Learning rate that produced checkpoint ``epoch`` (None for ``epoch_000``, theta0).

    Checkpoint ``epoch_e`` holds the weights after ``e`` epochs; its last epoch (0-based
    index ``e - 1``) trained at ``lr * gamma ** (milestones <= e - 1)``
    (:meth:`latentgraph.nets.training.TrainSettings.lr_at`, MultiStepLR's rule).

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).
    epoch : int
        The checkpoint's epoch.

    Returns
    -------
    float or None
        The learning rate; None for ``epoch`` <= 0.
    """
    from .nets.training import TrainSettings  # torch-free at import; the one schedule rule and its defaults

    if int(epoch) <= 0:
        return None
    return TrainSettings.from_config(config["train"]).lr_at(int(epoch) - 1)


def window_step_warnings(config: dict[str, Any]) -> list[str]:
    """One message per compared pair of the stability window that straddles a learning-rate step.

    Epoch-to-epoch pairs ``(t, t+1)`` whose checkpoints were trained at different learning
    rates compare across a step; the seed comparisons at the checkpoints before the window's
    last step compare networks that the rest of the window has left behind. Users may want
    that, so it is a warning, not an error.

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).

    Returns
    -------
    list of str
        The messages; empty when stability is disabled or no pair straddles a step.
    """
    stab = config.get("stability") or {}
    if not stab.get("enabled", True):
        return []
    first, last = (int(e) for e in stab["epochs"])
    messages = []
    for t in range(max(first, 1), last):
        lr_a, lr_b = checkpoint_lr(config, t), checkpoint_lr(config, t + 1)
        if lr_a != lr_b:
            messages.append(
                f"stability.epochs [{first}, {last}]: the pair ({t}, {t + 1}) straddles a learning-rate step "
                f"(checkpoint {t} trained at lr {lr_a:g}, checkpoint {t + 1} at {lr_b:g}; train.scheduler.milestones "
                f"{list(config['train'].get('scheduler', {}).get('milestones', []))}); the seed comparison at "
                f"checkpoint {t} is before the step. A window after the step starts at checkpoint {t + 1}")
    return messages


def noise_target(config: dict[str, Any]) -> tuple[str, int]:
    """The (run, epoch) whose latents the noise experiment perturbs, with the null defaults resolved.

    ``noise.run`` null = the first run of ``train.runs`` by name (a mapping has no order);
    ``noise.epoch`` null = the last epoch of the stability window when stability is enabled,
    else ``train.epochs``.

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).

    Returns
    -------
    tuple of (str, int)
        The run's name and the epoch.
    """
    noise = config.get("noise", {})
    run = noise.get("run")
    if run is None:
        run = sorted(config["train"]["runs"])[0]
    epoch = noise.get("epoch")
    if epoch is None:
        stab = config.get("stability", {})
        epoch = int(stab["epochs"][1]) if stab.get("enabled", True) and "epochs" in stab else int(config["train"]["epochs"])
    return str(run), int(epoch)


def check_noise_config(config: dict[str, Any]) -> None:
    """Cross-key checks of the ``noise`` section (run trained, epoch trained, grid, stats_k).

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).

    Raises
    ------
    LatentGraphError
        Naming the key, at the first problem found.
    """
    from .experiments.noise import canonical_grid

    noise = config.get("noise")
    if not noise or not noise.get("enabled", True):
        return
    runs = config["train"]["runs"]
    epochs = int(config["train"]["epochs"])
    run, epoch = noise_target(config)
    if run not in runs:
        _fail("noise.run", f"run {run!r} is not trained; trained runs: {sorted(runs)}")
    if not 0 <= epoch <= epochs:
        _fail("noise.epoch", f"epoch {epoch} is not trained; allowed: 0..{epochs} (train.epochs)")
    try:
        canonical_grid(noise.get("grid", []))
    except LatentGraphError as exc:
        _fail("noise.grid", str(exc))
    kmax = max(config["knn"]["k"])
    stats_k = int(noise.get("stats_k", 4))
    if stats_k > kmax:
        _fail("noise.stats_k", f"{stats_k} is larger than the largest knn.k ({kmax}); the clean graph is searched at {kmax}")
    if int(noise.get("hist_bins", 100)) % 2:
        _fail("noise.hist_bins", "must be even")


def _check_pruning(config: dict[str, Any]) -> None:
    """Cross-key checks of the ``pruning`` section (lottery tickets, thesis §4.3)."""
    pr = config.get("pruning")
    if not pr or not pr.get("enabled", True):
        return
    runs = config["train"]["runs"]
    if pr.get("run", "A") not in runs:
        _fail("pruning.run", f"run {pr.get('run')!r} is not trained; trained runs: {sorted(runs)}")
    rates = [float(p) for p in pr.get("rates", [])]
    for p in rates:
        if not 0.0 < p < 1.0:
            _fail("pruning.rates", f"every rate must lie in the open interval (0, 1), got {p}")
    if len(set(rates)) != len(rates):
        _fail("pruning.rates", f"values repeat: {pr.get('rates')}")
    es = pr.get("early_stopping", {}) or {}
    if pr.get("reset", "init") == "rewind":
        j, max_epochs = int(pr.get("rewind_epoch", 1)), int(es.get("max_epochs", 30))
        if not 1 <= j < max_epochs:
            _fail("pruning.rewind_epoch", f"{j} must lie in 1..early_stopping.max_epochs-1 = 1..{max_epochs - 1}")



#: Number of classes of the datasets whose class count is known before any data is read.
KNOWN_CLASSES = {"digits": 10, "cifar100": 100}


def classgraph_source(config: dict[str, Any]) -> dict[str, Any]:
    """Where the class graph's latents come from, with the null epoch resolved.

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).

    Returns
    -------
    dict
        ``{"kind": "trained", "run", "epoch", "tag"}`` (epoch null = ``train.epochs``) or
        ``{"kind": "pretrained", "weights", "tag"}``; ``tag`` names its result folder.
    """
    src = config["classgraph"]["source"]
    if src.get("pretrained"):
        return {"kind": "pretrained", "weights": src["pretrained"]["weights"], "tag": "pretrained"}
    epoch = src.get("epoch")
    epoch = int(config["train"]["epochs"]) if epoch is None else int(epoch)
    return {"kind": "trained", "run": src["run"], "epoch": epoch, "tag": f"{src['run']}/epoch_{epoch:03d}"}


def check_classgraph(config: dict[str, Any]) -> None:
    """Cross-key checks of the ``classgraph`` section (called by :func:`check_config`).

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).

    Raises
    ------
    LatentGraphError
        Naming the key, at the first problem found.
    """
    cg = config.get("classgraph")
    if not cg or not cg.get("enabled", True):
        return
    src = classgraph_source(config)
    if src["kind"] == "trained":
        runs = config["train"]["runs"]
        if src["run"] not in runs:
            _fail("classgraph.source.run", f"run {src['run']!r} is not trained; trained runs: {sorted(runs)}")
        epochs = int(config["train"]["epochs"])
        if not 0 <= src["epoch"] <= epochs:
            _fail("classgraph.source.epoch", f"epoch {src['epoch']} must lie inside the trained epochs 0..{epochs}")
    data = config["data"]
    n_classes = KNOWN_CLASSES.get(data["dataset"])
    if data["dataset"] == "synthetic":
        n_classes = int((data.get("synthetic") or {}).get("n_classes", 4))
    if n_classes is not None and cg["class_k"] >= n_classes:
        _fail("classgraph.class_k", f"{cg['class_k']} must be smaller than the number of classes ({n_classes})")
    shards = int(cg.get("shards", 1))
    if n_classes is not None and shards > n_classes:
        _fail("classgraph.shards", f"{shards} must be at most the number of classes ({n_classes}): each shard "
                                   "computes whole classes")


# --------------------------------------------------------------------------- model, measures, layers


def check_model_arch(config: dict[str, Any]) -> None:
    """``model.arch``: resnet18 (with stem/width) or any torchvision classification model.

    Also checks that the noise experiment, when enabled, has an ``fc`` head to apply
    (:data:`FC_HEAD_ARCHS`).

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).

    Raises
    ------
    LatentGraphError
        Naming the key, at the first problem found.
    """
    from .nets.models import ARCHS, known_arch, unknown_arch_message

    model = config.get("model", {})
    arch = model.get("arch", "resnet18")
    if not known_arch(arch):
        _fail("model.arch", unknown_arch_message(arch))
    if arch not in ARCHS and (model.get("stem", "imagenet") != "imagenet" or int(model.get("width", 64)) != 64):
        _fail("model.stem", f"stem and width apply to arch resnet18 only; arch {arch!r} needs stem 'imagenet' and "
                            f"width 64 (got {model.get('stem')!r}, {model.get('width')})")
    noise = config.get("noise") or {}
    if noise.get("enabled", True) and not arch.startswith(FC_HEAD_ARCHS):
        _fail("noise.enabled", f"the noise experiment applies the network's fc head to its avgpool latents; arch "
                               f"{arch!r} has none (models with one: {', '.join(FC_HEAD_ARCHS)}*)")


#: torchvision families whose classifier is one linear ``fc`` on the ``avgpool`` output.
FC_HEAD_ARCHS = ("resnet", "resnext", "wide_resnet", "regnet", "googlenet", "inception")


def measures_settings(config: dict[str, Any]) -> dict[str, Any] | None:
    """What determines the extra measures' values (``measures`` section), or None when disabled.

    Keys the section leaves out take the schema's defaults (``tests/test_defaults.py``
    keeps them equal).

    Parameters
    ----------
    config : dict
        A workflow config (the ``measures`` section may be partial or missing).

    Returns
    -------
    dict or None
        ``extra`` (list of str), ``n_eigs``, ``null_permutations`` and ``seed`` (int),
        ``ci`` (float) and ``resamples`` (int, 0 = no intervals); None when the section is disabled.

    Raises
    ------
    LatentGraphError
        For ``resamples`` 1 or ``ci`` outside (0, 1).
    """
    from .compare.intervals import check_level, check_resamples

    defaults = {"enabled": True, "extra": ["cns_sym", "mutual_knn", "spectral", "cka", "hubness"], "n_eigs": 20,
                "null_permutations": 10, "seed": 0, "ci": 0.95, "resamples": 200}
    m = {**defaults, **(config.get("measures") or {})}
    if not m["enabled"]:
        return None
    resamples = check_resamples(m["resamples"], "measures.resamples")
    return {"extra": list(m["extra"]), "n_eigs": int(m["n_eigs"]), "null_permutations": int(m["null_permutations"]),
            "seed": int(m["seed"]), "ci": check_level(m["ci"], "measures.ci") if resamples else 0.95,
            "resamples": resamples}


def check_measures_config(config: dict[str, Any]) -> None:
    """Cross-key checks of the ``measures`` section.

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).

    Raises
    ------
    LatentGraphError
        Naming the key, at the first problem found.
    """
    m = measures_settings(config)
    if m is None:
        return
    if len(set(m["extra"])) != len(m["extra"]):
        _fail("measures.extra", f"values repeat: {m['extra']}")


def layers_settings(config: dict[str, Any]) -> dict[str, Any] | None:
    """The ``layers`` section with its null defaults resolved, or None when disabled.

    Keys the section leaves out take the schema's defaults (``tests/test_defaults.py``).

    Parameters
    ----------
    config : dict
        A workflow config (the ``layers`` section may be partial or missing).

    Returns
    -------
    dict or None
        ``runs`` (two), ``epoch`` (null = train.epochs), ``layers``, ``reduce``, ``k``
        (sorted; null = knn.k); None when the section is disabled (its default).
    """
    defaults = {"enabled": False, "runs": ["A", "B"], "epoch": None,
                "layers": ["layer1", "layer2", "layer3", "layer4", "avgpool"], "reduce": "avg", "k": None}
    lay = {**defaults, **(config.get("layers") or {})}
    if not lay["enabled"]:
        return None
    epoch, k = lay["epoch"], lay["k"]
    return {
        "runs": list(lay["runs"]),
        "epoch": int(config["train"]["epochs"]) if epoch is None else int(epoch),
        "layers": list(lay["layers"]),
        "reduce": lay["reduce"],
        "k": sorted(int(x) for x in (config["knn"]["k"] if k is None else k)),
    }


def check_layers_config(config: dict[str, Any]) -> None:
    """Cross-key checks of the ``layers`` section (runs trained, epoch trained, no repeats).

    Parameters
    ----------
    config : dict
        A workflow config, validated by the schema (defaults filled in).

    Raises
    ------
    LatentGraphError
        Naming the key, at the first problem found.
    """
    lay = layers_settings(config)
    if lay is None:
        return
    runs = config["train"]["runs"]
    for r in lay["runs"]:
        if r not in runs:
            _fail("layers.runs", f"run {r!r} is not trained; trained runs: {sorted(runs)}")
    if lay["runs"][0] == lay["runs"][1]:
        _fail("layers.runs", f"compare two different runs, got {lay['runs']}")
    epochs = int(config["train"]["epochs"])
    if not 0 <= lay["epoch"] <= epochs:
        _fail("layers.epoch", f"epoch {lay['epoch']} is not trained; allowed: 0..{epochs} (train.epochs)")
    if len(set(lay["layers"])) != len(lay["layers"]):
        _fail("layers.layers", f"values repeat: {lay['layers']}")
    if len(set(lay["k"])) != len(lay["k"]):
        _fail("layers.k", f"values repeat: {lay['k']}")
