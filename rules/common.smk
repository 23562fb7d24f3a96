# Shared set-up: config validation, result paths and target lists.
import sys

from snakemake.utils import validate

# The workflow uses its own copy of the library, also inside conda envs (scripts do the same).
sys.path.insert(0, workflow.basedir)

from latentgraph.config import (  # noqa: E402
    check_config,
    epoch_window,
    knn_on_gpu,
    normalise_config,
    result_config,
    validate_config,
)

# one readable line per problem first, then Snakemake's validation, which fills in defaults
validate_config(config, f"{workflow.basedir}/schemas/config.schema.yaml")
validate(config, "../schemas/config.schema.yaml")
# canonical form (keys sorted, numbers typed by the schema), in place: scripts see it too
_canonical = normalise_config(config)
config.clear()
config.update(_canonical)
check_config(config)

# Rule params come from RESULT only: the config without its execution-only keys (schema:
# x-execution-only), so device, workers, inference batch sizes, backends and resources are
# never rerun triggers. Scripts read those through latentgraph.config.execution_settings.
RESULT = result_config(config)
# what a training run's result depends on in the data section (class names only label outputs)
TRAIN_DATA = {k: v for k, v in RESULT["data"].items() if k != "class_names"}

R = f"results/{config['name']}"
RUNS = list(config["train"]["runs"])
EPOCHS = int(config["train"]["epochs"])
WINDOW = epoch_window(config)
KS = sorted(config["knn"]["k"])
RES = config["resources"]

# Every job that runs torch (train, latents, head, the prune rounds and their latents,
# pretrained and layer latents) uses TORCH_ENV: on GPU configs conda-forge's CUDA build of
# PyTorch (envs/torch-gpu.yaml, pinned to CUDA 12: an unpinned env solved on a login node
# without a GPU gets the CPU build), else envs/torch.yaml.
TORCH_ENV = "../envs/torch-gpu.yaml" if RES["gpu"] else "../envs/torch.yaml"


def _main_process():
    """True in the Snakemake process the user started, false in a cluster job's own Snakemake."""
    return not (
        getattr(workflow, "remote_exec", False)
        or getattr(workflow, "subprocess_exec", False)
    )


# GPU configs: say which torch build and which GPUs this process sees, before any job is
# submitted (latentgraph.gpu: reads torch's files and runs nvidia-smi, never imports torch).
# CPU configs skip it, so their start-up stays as it was.
GPU_REPORT = None
if RES["gpu"] and _main_process():
    from snakemake.logging import logger
    from snakemake.settings.types import DeploymentMethod

    from latentgraph.gpu import startup_report

    _methods = workflow.deployment_settings.deployment_method
    GPU_REPORT = startup_report(
        RES["gpu"],
        use_conda=DeploymentMethod.CONDA in _methods,
        env_file=TORCH_ENV.removeprefix("../"),
    )
    (logger.warning if GPU_REPORT.problems else logger.info)(GPU_REPORT.text())


onstart:
    # Local runs only (the executor is known here, not while the Snakefile is read): GPU
    # jobs at once must not exceed what one GPU takes (profiles/default: resources gpu=1).
    if GPU_REPORT is not None and workflow.local_exec:
        from snakemake.logging import logger
        from latentgraph.gpu import gpu_limit_problem

        _limit = workflow.global_resources.get("gpu")
        _problem = gpu_limit_problem(
            getattr(_limit, "value", _limit), len(GPU_REPORT.gpus.names)
        )
        if _problem:
            logger.warning(f"WARNING: {_problem}")


wildcard_constraints:
    run="[A-Za-z0-9_]+",
    epoch=r"\d{3}",


def ep(epoch):
    """Epoch numbers appear zero-padded in file names (epoch_010)."""
    return f"{int(epoch):03d}"


def checkpoint_path(run, epoch):
    return f"{R}/train/{run}/epoch_{ep(epoch)}.pt"


def latents_path(run, epoch):
    return f"{R}/latents/{run}/epoch_{ep(epoch)}.parquet"


def knn_path(run, epoch):
    return f"{R}/knn/{run}/epoch_{ep(epoch)}.parquet"


# kNN jobs (knn, prune_knn, layer_compare; all search the latents of one split) ask for a
# GPU only where it pays: on GPU configs whose split has at least
# resources.knn_gpu_min_samples samples (latentgraph.config.knn_on_gpu). Those run FAISS's
# GPU build (envs/graph-gpu.yaml); all others search on the CPU (envs/graph.yaml).
KNN_GPU = knn_on_gpu(config)
GRAPH_ENV = "../envs/graph-gpu.yaml" if KNN_GPU else "../envs/graph.yaml"
# CPU kNN jobs (one per latents file) go to a cluster in bundles (profiles/slurm:
# group-components); GPU jobs are not bundled, or a bundle would ask for one GPU per job it
# runs side by side.
KNN_GROUP = None if KNN_GPU else "knn"


def head_path(run, epoch):
    """The fc head (weight, bias) of a checkpoint as .npz (rule head, rules/noise.smk)."""
    return f"{R}/heads/{run}/epoch_{ep(epoch)}.npz"


def gpu_resources():
    """GPU requests for the torch jobs (absent on CPU-only configs).

    With ``resources.gpu_partition`` set, the jobs that ask for a GPU (and only they) go to
    that SLURM partition; the others keep the profile's defaults.
    """
    res = {}
    if RES["gpu"]:
        res["gpu"] = RES["gpu"]
        if RES.get("gpu_model"):
            res["gpu_model"] = RES["gpu_model"]
        if RES.get("gpu_partition"):
            res["slurm_partition"] = RES["gpu_partition"]
    return res


def knn_resources():
    """GPU requests for the kNN jobs: those of the torch jobs where KNN_GPU, else none."""
    return gpu_resources() if KNN_GPU else {}


def all_targets():
    """The final outputs of every enabled stage."""
    targets = []
    if config["stability"]["enabled"]:
        targets += [
            f"{R}/figures/training.png",
            f"{R}/tables/training.csv",
            f"{R}/tables/stability.csv",
            f"{R}/tables/stability.md",
            f"{R}/figures/stability.png",
        ]
    if config.get("noise", {}).get("enabled", False):
        targets += NOISE_TARGETS  # rules/noise.smk
    if config.get("pruning", {}).get("enabled", False):
        targets += prune_targets()  # defined below
    if config.get("classgraph", {}).get("enabled"):
        targets += classgraph_targets()
    if config["report"]["thesis_reference"]:
        targets += [
            f"{R}/tables/thesis_comparison.csv",
            f"{R}/tables/thesis_comparison.md",
        ]
    if MEASURES is not None and config["stability"]["enabled"]:
        targets += measures_targets()  # rules/measures.smk
    if LAYERS is not None:
        targets += layers_targets()  # rules/measures.smk
    return targets


# ---- pruning (rules/prune.smk): round folders, reset weights and targets
import re

from latentgraph.nets.pruning import rate_label

PRUNE = RESULT["pruning"]
PRUNE_RATES = [rate_label(p) for p in PRUNE["rates"]]
PRUNE_ROUNDS = int(PRUNE["rounds"])
# what determines a round's result besides its rate and index (not `rates`, `rounds`)
PRUNE_PARAMS = {
    k: v for k, v in PRUNE.items() if k not in ("enabled", "rates", "rounds", "run")
}
# round 0 prunes nothing: scope does not matter, and reset only when it saves a rewind point
PRUNE_ROUND0_PARAMS = {
    k: v
    for k, v in PRUNE_PARAMS.items()
    if k not in ("scope", "reset", "rewind_epoch") or PRUNE["reset"] == "rewind"
}


def prune_dir(rate, rnd):
    """Folder of one pruning round (round 0 is shared by every rate)."""
    rnd = int(rnd)
    if rnd == 0:
        return f"{R}/prune/round_00"
    return f"{R}/prune/rate_{rate}/round_{rnd:02d}"


def prune_reset_checkpoint():
    """The weights survivors are reset to: theta0, or round 0's rewind point."""
    if PRUNE["reset"] == "rewind":
        return f"{R}/prune/round_00/rewind.pt"
    return checkpoint_path(PRUNE["run"], 0)


def prune_states():
    """Folders of every round of every configured rate (round 0 once)."""
    return [prune_dir(None, 0)] + [
        prune_dir(r, i) for r in PRUNE_RATES for i in range(1, PRUNE_ROUNDS + 1)
    ]


def prune_targets():
    return [
        f"{R}/tables/pruning.csv",
        f"{R}/tables/pruning.md",
        f"{R}/figures/pruning_cns.png",
        f"{R}/figures/pruning_jaccard.png",
    ]


def prune_plot_inputs(wildcards):
    inputs = {"table": f"{R}/tables/pruning.csv"}
    if config["stability"]["enabled"]:
        inputs["stability"] = f"{R}/tables/stability.csv"
    return inputs


def classgraph_dir():
    """results/<name>/classgraph/<run>/epoch_NNN, or .../classgraph/pretrained."""
    from latentgraph.config import classgraph_source

    return f"{R}/classgraph/{classgraph_source(config)['tag']}"


def classgraph_latents():
    """The latents the class graph is built from (trained run at an epoch, or pretrained)."""
    from latentgraph.config import classgraph_source

    src = classgraph_source(config)
    if src["kind"] == "pretrained":
        return f"{R}/latents/pretrained/{config['latents']['split']}.parquet"
    return latents_path(src["run"], src["epoch"])


def classgraph_targets():
    from latentgraph.config import CLASSGRAPH_FILES

    return [f"{classgraph_dir()}/{n}" for n in CLASSGRAPH_FILES.values()]


def classgraph_weights(wildcards):
    """A pretrained source's state-dict file, as an input once it exists (dry runs work without it)."""
    from pathlib import Path

    src = config["classgraph"]["source"].get("pretrained") or {}
    w = src.get("weights")
    return [w] if w and Path(w).exists() else []


# ---- report (rules/report.smk)
def thesis_comparison_inputs(wildcards):
    """Whichever of the enabled stages' result files the comparison can use."""
    inputs = {}
    if config["stability"]["enabled"]:
        inputs["stability"] = f"{R}/tables/stability.csv"
    if config["noise"]["enabled"]:
        inputs["noise_summary"] = f"{R}/tables/noise_summary.csv"
        inputs["latent_graph_stats"] = f"{R}/tables/latent_graph_stats.json"
    if config["classgraph"]["enabled"]:
        inputs["classgraph_stats"] = f"{classgraph_dir()}/stats.json"
    if config["pruning"]["enabled"]:
        inputs["pruning"] = f"{R}/tables/pruning.csv"
    return inputs


# ---- measures beyond the thesis and the layer-by-layer comparison (rules/measures.smk)
from latentgraph.config import layers_settings, measures_settings

MEASURES = measures_settings(config)  # None when measures.enabled is false
LAYERS = layers_settings(config)  # None when layers.enabled is false


def stability_latents():
    """Latents of the stability graphs, inputs of the stability table only for the measure cka."""
    if MEASURES is None or "cka" not in MEASURES["extra"]:
        return []
    return [latents_path(r, e) for r in config["stability"]["runs"] for e in WINDOW]


def layer_latents_path(run, layer):
    return f"{R}/layers/{run}/epoch_{ep(LAYERS['epoch'])}/{layer}.parquet"


def measures_targets():
    targets = []
    if set(MEASURES["extra"]) - {"hubness"}:
        targets += [
            f"{R}/tables/stability_measures.md",
            f"{R}/figures/stability_measures.png",
        ]
    if "hubness" in MEASURES["extra"]:
        targets += [f"{R}/tables/hubness.csv", f"{R}/tables/hubness.md"]
    return targets


def layers_targets():
    return [
        f"{R}/tables/layers.csv",
        f"{R}/tables/layers.md",
        f"{R}/figures/layers.png",
    ]
