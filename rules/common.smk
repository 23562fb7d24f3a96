# Shared set-up of every stage: config validation, the settings and envs the rule files
# use, and the path functions of the result layout. Each stage's own settings, inputs and
# final targets live in its rule file (rules/<stage>.smk); `rule all` (Snakefile) collects
# those targets. Nothing here refers to a name defined in a later file.
#
# Snakemake's linter wants functions (`def`) in this file only, not beside rules: the rule
# files hold constants and one-line lambdas.
import sys

from snakemake.logging import logger
from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

# The workflow uses its own copy of the library, also inside conda envs (scripts do the same:
# workflow_scripts/_common.py).
sys.path.insert(0, workflow.basedir)

from latentgraph.config import (  # noqa: E402
    check_config,
    epoch_window,
    knn_on_gpu,
    layers_settings,
    measures_settings,
    normalise_config,
    result_config,
    validate_config,
)
from latentgraph.gpu import gpu_limit_problem, startup_report  # noqa: E402

# ---- validation
# one readable line per problem first, then Snakemake's validation, which fills in defaults
validate_config(config, f"{workflow.basedir}/schemas/config.schema.yaml")
validate(config, "../schemas/config.schema.yaml")
# canonical form (keys sorted, numbers typed by the schema), in place: scripts see it too
_canonical = normalise_config(config)
config.clear()
config.update(_canonical)
check_config(config)

# ---- settings every stage reads
# Rule params come from RESULT only: the config without its execution-only keys (schema:
# x-execution-only), so device, workers, inference batch sizes, backends and resources are
# never rerun triggers. Scripts read those through latentgraph.config.execution_settings.
RESULT = result_config(config)
# what a training run's result depends on in the data section (class names only label outputs)
TRAIN_DATA = {k: v for k, v in RESULT["data"].items() if k != "class_names"}

RESULTS = f"results/{config['name']}"  # every result file of this config lives here
RUNS = list(config["train"]["runs"])
EPOCHS = int(config["train"]["epochs"])
WINDOW = epoch_window(config)  # the epochs the stability graphs compare
K_VALUES = sorted(config["knn"]["k"])
RESOURCES = config["resources"]
# measures beyond the thesis (rule stability and rules/measures.smk), layer-by-layer
# comparison (rules/measures.smk): None when disabled
MEASURES = measures_settings(config)
LAYERS = layers_settings(config)
# resampling intervals of the noise and pruning tables (measures.ci/resamples; none when disabled)
INTERVALS = (
    {"ci": MEASURES["ci"], "resamples": MEASURES["resamples"], "seed": MEASURES["seed"]}
    if MEASURES is not None
    else {"ci": 0.95, "resamples": 0, "seed": 0}
)

# Every job that runs torch (train, latents, head, the prune rounds and their latents,
# pretrained and layer latents) uses TORCH_ENV: on GPU configs conda-forge's CUDA build of
# PyTorch (envs/torch-gpu.yaml, pinned to CUDA 12: an unpinned env solved on a login node
# without a GPU gets the CPU build), else envs/torch.yaml.
TORCH_ENV = "../envs/torch-gpu.yaml" if RESOURCES["gpu"] else "../envs/torch.yaml"

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

# ---- GPU start-up report
# GPU configs: say which torch build and which GPUs this process sees, before any job is
# submitted (latentgraph.gpu: reads torch's files and runs nvidia-smi, never imports torch),
# in the Snakemake process the user started only (not in a cluster job's own Snakemake).
# CPU configs skip it, so their start-up stays as it was.
MAIN_PROCESS = not (
    getattr(workflow, "remote_exec", False)
    or getattr(workflow, "subprocess_exec", False)
)
GPU_REPORT = None
if RESOURCES["gpu"] and MAIN_PROCESS:
    GPU_REPORT = startup_report(
        RESOURCES["gpu"],
        use_conda=DeploymentMethod.CONDA
        in workflow.deployment_settings.deployment_method,
        env_file=TORCH_ENV.removeprefix("../"),
    )
    (logger.warning if GPU_REPORT.problems else logger.info)(GPU_REPORT.text())


onstart:
    # Local runs only (the executor is known here, not while the Snakefile is read): GPU
    # jobs at once must not exceed what one GPU takes (profiles/default: resources gpu=1).
    if GPU_REPORT is not None and workflow.local_exec:
        _limit = workflow.global_resources.get("gpu")
        _problem = gpu_limit_problem(
            getattr(_limit, "value", _limit), len(GPU_REPORT.gpus.names)
        )
        if _problem:
            logger.warning(f"WARNING: {_problem}")


wildcard_constraints:
    run="[A-Za-z0-9_]+",
    epoch=r"\d{3}",
    shard=r"\d+",


# ---- path and resource functions (of the names above only)
def epoch_label(epoch):
    """Epoch numbers appear zero-padded in file names (epoch_010)."""
    return f"{int(epoch):03d}"


def checkpoint_path(run, epoch):
    return f"{RESULTS}/train/{run}/epoch_{epoch_label(epoch)}.pt"


def latents_path(run, epoch):
    return f"{RESULTS}/latents/{run}/epoch_{epoch_label(epoch)}.parquet"


def knn_path(run, epoch):
    return f"{RESULTS}/knn/{run}/epoch_{epoch_label(epoch)}.parquet"


def prune_dir(rate, rnd):
    """Folder of one pruning round (rules/prune.smk; round 0 is shared by every rate)."""
    rnd = int(rnd)
    if rnd == 0:
        return f"{RESULTS}/prune/round_00"
    return f"{RESULTS}/prune/rate_{rate}/round_{rnd:02d}"


def gpu_resources():
    """GPU requests for the torch jobs (absent on CPU-only configs).

    With ``resources.gpu_partition`` set, the jobs that ask for a GPU (and only they) go to
    that SLURM partition; the others keep the profile's defaults.
    """
    res = {}
    if RESOURCES["gpu"]:
        res["gpu"] = RESOURCES["gpu"]
        if RESOURCES.get("gpu_model"):
            res["gpu_model"] = RESOURCES["gpu_model"]
        if RESOURCES.get("gpu_partition"):
            res["slurm_partition"] = RESOURCES["gpu_partition"]
    return res


def knn_resources():
    """GPU requests for the kNN jobs: those of the torch jobs where KNN_GPU, else none."""
    return gpu_resources() if KNN_GPU else {}
