# Stage: the class graph (thesis 4.2, 5.2). Latents of a trained run at one epoch, or of a
# pretrained network (state-dict file, no training) -> class distance matrix (all-pairs
# shortest paths on the sample kNN graph, streamed) -> class kNN graph, statistics,
# communities, GraphML/GEXF -> figures.
from pathlib import Path

from latentgraph.config import CLASSGRAPH_FILES, classgraph_source

CLASSGRAPH = config["classgraph"]
CLASSGRAPH_SOURCE = classgraph_source(
    config
)  # a trained run at an epoch, or pretrained
CLASSGRAPH_TAG = CLASSGRAPH_SOURCE["tag"]  # A/epoch_015 or pretrained
CLASSGRAPH_DIR = f"{RESULTS}/classgraph/{CLASSGRAPH_TAG}"
CLASSGRAPH_LOGS = f"{RESULTS}/logs/classgraph/{CLASSGRAPH_TAG}"
CLASSGRAPH_BENCHMARKS = f"{RESULTS}/benchmarks/classgraph/{CLASSGRAPH_TAG}"
# sampled sources (classgraph.sources_per_class): params only when set, so that the
# default (all sources, exact) keeps its params
CLASSGRAPH_SAMPLED_PARAMS = (
    {}
    if RESULT["classgraph"]["sources_per_class"] is None
    else {
        "sources_per_class": RESULT["classgraph"]["sources_per_class"],
        "sources_seed": RESULT["classgraph"]["seed"],
    }
)
# the latents the class graph is built from
CLASSGRAPH_LATENTS = (
    f"{RESULTS}/latents/pretrained/{config['latents']['split']}.parquet"
    if CLASSGRAPH_SOURCE["kind"] == "pretrained"
    else latents_path(CLASSGRAPH_SOURCE["run"], CLASSGRAPH_SOURCE["epoch"])
)
# a pretrained source's state-dict file, an input once it exists (dry runs work without it)
PRETRAINED_WEIGHTS = (CLASSGRAPH["source"].get("pretrained") or {}).get("weights")
PRETRAINED_WEIGHTS_INPUT = (
    [PRETRAINED_WEIGHTS]
    if PRETRAINED_WEIGHTS and Path(PRETRAINED_WEIGHTS).exists()
    else []
)
# classgraph.shards = S > 1: the class distances from S jobs (rule class_distance_shard,
# whole classes each), joined by rule class_distances_gather; the matrix equals rule
# class_distances's bitwise. Execution only (not in params); the ruleorder below picks the
# writer. The shards read the sample kNN graph from a kNN table: rule knn's table of the
# source run and epoch when it is exact and deep enough, else rule class_knn's.
CLASSGRAPH_SHARDS = int(CLASSGRAPH["shards"])
CLASSGRAPH_KNN = (
    knn_path(CLASSGRAPH_SOURCE["run"], CLASSGRAPH_SOURCE["epoch"])
    if CLASSGRAPH_SOURCE["kind"] == "trained"
    and RESULT["knn"]["method"] == "exact"
    and CLASSGRAPH["k"] <= max(K_VALUES)
    else f"{CLASSGRAPH_DIR}/knn.parquet"
)
CLASSGRAPH_SHARD_FILES = expand(
    f"{CLASSGRAPH_DIR}/shards/class_distances.shard_{{shard}}_of_{CLASSGRAPH_SHARDS}.npz",
    shard=range(CLASSGRAPH_SHARDS),
)
# final targets (rule all)
CLASSGRAPH_TARGETS = (
    [f"{CLASSGRAPH_DIR}/{name}" for name in CLASSGRAPH_FILES.values()]
    if CLASSGRAPH["enabled"]
    else []
)


rule pretrained_latents:
    input:
        weights=PRETRAINED_WEIGHTS_INPUT,
    output:
        f"{RESULTS}/latents/pretrained/{{split}}.parquet",
    log:
        f"{RESULTS}/logs/pretrained_latents/{{split}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/pretrained_latents/{{split}}.tsv"
    conda:
        TORCH_ENV
    threads: RESOURCES["latents"]["threads"]
    resources:
        **gpu_resources(),
        mem_mb=RESOURCES["latents"]["mem_mb"],
        runtime=RESOURCES["latents"]["runtime"],
    params:
        weights=PRETRAINED_WEIGHTS,
        data=RESULT["data"],
        model=RESULT["model"],
        layer=config["latents"]["layer"],
        split=lambda wc: wc.split,
    script:
        "../workflow_scripts/pretrained_latents.py"


rule class_distances:
    input:
        CLASSGRAPH_LATENTS,
    output:
        f"{CLASSGRAPH_DIR}/class_distances.parquet",
    log:
        f"{CLASSGRAPH_LOGS}/class_distances.log",
    benchmark:
        f"{CLASSGRAPH_BENCHMARKS}/class_distances.tsv"
    conda:
        "../envs/graph.yaml"
    threads: RESOURCES["graph"]["threads"]
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        **CLASSGRAPH_SAMPLED_PARAMS,
        k=CLASSGRAPH["k"],
        weights=CLASSGRAPH["weights"],
        metric=config["knn"]["metric"],
    script:
        "../workflow_scripts/class_distances.py"


if CLASSGRAPH_SHARDS == 1:

    ruleorder: class_distances > class_distances_gather

else:

    ruleorder: class_distances_gather > class_distances


rule class_knn:
    input:
        CLASSGRAPH_LATENTS,
    output:
        f"{CLASSGRAPH_DIR}/knn.parquet",
    log:
        f"{CLASSGRAPH_LOGS}/class_knn.log",
    benchmark:
        f"{CLASSGRAPH_BENCHMARKS}/class_knn.tsv"
    conda:
        GRAPH_ENV
    threads: RESOURCES["graph"]["threads"]
    resources:
        **knn_resources(),
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        k=CLASSGRAPH["k"],
        metric=config["knn"]["metric"],
    script:
        "../workflow_scripts/knn.py"


rule class_distance_shard:
    input:
        latents=CLASSGRAPH_LATENTS,
        knn=CLASSGRAPH_KNN,
    output:
        temp(
            f"{CLASSGRAPH_DIR}/shards/class_distances.shard_{{shard}}_of_{CLASSGRAPH_SHARDS}.npz"
        ),
    log:
        f"{CLASSGRAPH_LOGS}/class_distances.shard_{{shard}}.log",
    benchmark:
        f"{CLASSGRAPH_BENCHMARKS}/class_distances.shard_{{shard}}.tsv"
    group:
        "shards"
    conda:
        "../envs/graph.yaml"
    threads: RESOURCES["graph"]["threads"]
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        **CLASSGRAPH_SAMPLED_PARAMS,
        k=CLASSGRAPH["k"],
        weights=CLASSGRAPH["weights"],
        metric=config["knn"]["metric"],
    script:
        "../workflow_scripts/class_distance_shard.py"


rule class_distances_gather:
    input:
        latents=CLASSGRAPH_LATENTS,
        knn=CLASSGRAPH_KNN,
        shards=CLASSGRAPH_SHARD_FILES,
    output:
        f"{CLASSGRAPH_DIR}/class_distances.parquet",
    log:
        f"{CLASSGRAPH_LOGS}/class_distances.log",
    benchmark:
        f"{CLASSGRAPH_BENCHMARKS}/class_distances.tsv"
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        **CLASSGRAPH_SAMPLED_PARAMS,
        k=CLASSGRAPH["k"],
        weights=CLASSGRAPH["weights"],
        metric=config["knn"]["metric"],
    script:
        "../workflow_scripts/class_distances_gather.py"


rule class_graph:
    input:
        f"{CLASSGRAPH_DIR}/class_distances.parquet",
    output:
        nodes=report(
            f"{CLASSGRAPH_DIR}/nodes.csv",
            caption="../report/classgraph.rst",
            category="4. Class graph",
        ),
        edges=report(
            f"{CLASSGRAPH_DIR}/edges.csv",
            caption="../report/classgraph.rst",
            category="4. Class graph",
        ),
        graphml=f"{CLASSGRAPH_DIR}/class_graph.graphml",
        gexf=f"{CLASSGRAPH_DIR}/class_graph.gexf",
        stats=report(
            f"{CLASSGRAPH_DIR}/stats.json",
            caption="../report/classgraph.rst",
            category="4. Class graph",
        ),
        summary=f"{CLASSGRAPH_DIR}/summary.md",
        degrees=report(
            f"{CLASSGRAPH_DIR}/degree_distribution.csv",
            caption="../report/classgraph.rst",
            category="4. Class graph",
        ),
    log:
        f"{CLASSGRAPH_LOGS}/class_graph.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        class_k=CLASSGRAPH["class_k"],
        seed=CLASSGRAPH["seed"],
        resolution=CLASSGRAPH["resolution"],
        hubs=CLASSGRAPH["hubs"],
        title=f"Class graph: {config['name']} ({CLASSGRAPH_TAG})",
    script:
        "../workflow_scripts/class_graph.py"


rule plot_class_graph:
    input:
        nodes=f"{CLASSGRAPH_DIR}/nodes.csv",
        edges=f"{CLASSGRAPH_DIR}/edges.csv",
        degrees=f"{CLASSGRAPH_DIR}/degree_distribution.csv",
    output:
        communities_png=report(
            f"{CLASSGRAPH_DIR}/class_graph.png",
            caption="../report/classgraph_figure.rst",
            category="4. Class graph",
        ),
        communities_svg=f"{CLASSGRAPH_DIR}/class_graph.svg",
        accuracy_png=report(
            f"{CLASSGRAPH_DIR}/class_graph_accuracy.png",
            caption="../report/classgraph_figure.rst",
            category="4. Class graph",
        ),
        degrees_png=report(
            f"{CLASSGRAPH_DIR}/degree_distribution.png",
            caption="../report/classgraph_figure.rst",
            category="4. Class graph",
        ),
    log:
        f"{CLASSGRAPH_LOGS}/plot_class_graph.log",
    conda:
        "../envs/graph.yaml"
    params:
        title=f"{config['name']} ({CLASSGRAPH_TAG})",
        hubs=CLASSGRAPH["hubs"],
    script:
        "../workflow_scripts/plot_class_graph.py"
