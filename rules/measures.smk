# Beyond the thesis: hubness of every stability graph, the stability table's extra measures
# as tables and a figure, and the layer-by-layer comparison of two runs (latentgraph.compare.measures,
# latentgraph.experiments.layers). The extra columns of tables/stability.csv come from rule stability.

# final targets (rule all): the tables and figure of the extra measures (with the stability
# stage, whose graphs they measure), and of the layer-by-layer comparison
MEASURES_TARGETS = []
if MEASURES is not None and config["stability"]["enabled"]:
    if set(MEASURES["extra"]) - {"hubness"}:
        MEASURES_TARGETS += [
            f"{RESULTS}/tables/stability_measures.md",
            f"{RESULTS}/figures/stability_measures.png",
        ]
    if "hubness" in MEASURES["extra"]:
        MEASURES_TARGETS += [
            f"{RESULTS}/tables/hubness.csv",
            f"{RESULTS}/tables/hubness.md",
        ]
LAYERS_TARGETS = (
    [
        f"{RESULTS}/tables/layers.csv",
        f"{RESULTS}/tables/layers.md",
        f"{RESULTS}/figures/layers.png",
        f"{RESULTS}/per_sample/layers.parquet",
        f"{RESULTS}/tables/per_sample_layers.csv",
        f"{RESULTS}/tables/per_sample_layers.md",
        f"{RESULTS}/figures/per_sample_layers.png",
        f"{RESULTS}/tables/layer_map.parquet",
        f"{RESULTS}/figures/layer_map.png",
    ]
    if LAYERS is not None
    else []
)
# the pair measures of the maps: Jaccard, CNS and the extra measures (hubness is per graph)
MAP_MEASURES = (
    ["jaccard", "cns"] + [m for m in MEASURES["extra"] if m != "hubness"]
    if MEASURES is not None
    else ["jaccard", "cns"]
)
TRAJECTORY = (
    MEASURES is not None
    and bool((config.get("measures") or {}).get("trajectory", False))
    and config["stability"]["enabled"]
)
TRAJECTORY_EPOCHS = list(range(int(config["train"]["epochs"]) + 1))
if TRAJECTORY:
    MEASURES_TARGETS += [
        f"{RESULTS}/tables/trajectory_map.parquet",
        f"{RESULTS}/figures/trajectory_map.png",
    ]


rule trajectory_map:
    input:
        rows=[
            latents_path(r, e)
            for r in config["stability"]["runs"]
            for e in TRAJECTORY_EPOCHS
        ],
    output:
        table=f"{RESULTS}/tables/trajectory_map.parquet",
        figure=report(
            f"{RESULTS}/figures/trajectory_map.png",
            caption="../report/maps.rst",
            category="6. Beyond the thesis",
        ),
    log:
        f"{RESULTS}/logs/trajectory_map.log",
    benchmark:
        f"{RESULTS}/benchmarks/trajectory_map.tsv"
    conda:
        GRAPH_ENV
    threads: RESOURCES["graph"]["threads"]
    resources:
        **knn_resources(),
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        rows=[
            f"{r}:{e}" for r in config["stability"]["runs"] for e in TRAJECTORY_EPOCHS
        ],
        cols=None,
        square=True,
        ks=K_VALUES,
        metric=config["knn"]["metric"],
        directed=config["knn"]["directed"],
        measures=MAP_MEASURES,
        n_eigs=MEASURES["n_eigs"] if MEASURES is not None else 20,
        title=f"Trajectory map: every saved epoch of every run ({config['name']})",
        xlabel="run:epoch",
        ylabel="run:epoch",
    script:
        "../workflow_scripts/similarity_map.py"


rule hubness:
    input:
        graphs=[knn_path(r, e) for r in config["stability"]["runs"] for e in WINDOW],
    output:
        table=report(
            f"{RESULTS}/tables/hubness.csv",
            caption="../report/hubness.rst",
            category="6. Beyond the thesis",
        ),
        markdown=f"{RESULTS}/tables/hubness.md",
    log:
        f"{RESULTS}/logs/hubness.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        runs=config["stability"]["runs"],
        epochs=WINDOW,
        ks=K_VALUES,
        title=f"Hubness of the kNN graphs: {config['name']}",
    script:
        "../workflow_scripts/hubness.py"


rule stability_measures:
    input:
        f"{RESULTS}/tables/stability.csv",
    output:
        markdown=f"{RESULTS}/tables/stability_measures.md",
        figure=report(
            f"{RESULTS}/figures/stability_measures.png",
            caption="../report/measures.rst",
            category="6. Beyond the thesis",
        ),
    log:
        f"{RESULTS}/logs/stability_measures.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        title=f"Measures beyond the thesis: {config['name']}",
    script:
        "../workflow_scripts/stability_measures.py"


if LAYERS is not None:
    LAYER_RUN_A, LAYER_RUN_B = LAYERS["runs"]
    LAYER_EPOCH = epoch_label(LAYERS["epoch"])
    LAYER_DIR = (
        f"{RESULTS}/layers/compare/{LAYER_RUN_A}_vs_{LAYER_RUN_B}/epoch_{LAYER_EPOCH}"
    )

    rule layer_latents:
        input:
            checkpoint=f"{RESULTS}/train/{{run}}/epoch_{{epoch}}.pt",
        output:
            [
                f"{RESULTS}/layers/{{run}}/epoch_{{epoch}}/{layer}.parquet"
                for layer in LAYERS["layers"]
            ],
        log:
            f"{RESULTS}/logs/layer_latents/{{run}}/epoch_{{epoch}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/layer_latents/{{run}}/epoch_{{epoch}}.tsv"
        conda:
            TORCH_ENV
        threads: RESOURCES["latents"]["threads"]
        resources:
            **gpu_resources(),
            mem_mb=RESOURCES["latents"]["mem_mb"],
            runtime=RESOURCES["latents"]["runtime"],
        params:
            data=RESULT["data"],
            layers=LAYERS["layers"],
            reduce=LAYERS["reduce"],
            split=config["latents"]["split"],
            run=lambda wc: wc.run,
        script:
            "../workflow_scripts/layer_latents.py"

    rule layer_compare:
        input:
            a=f"{RESULTS}/layers/{LAYER_RUN_A}/epoch_{LAYER_EPOCH}/{{layer}}.parquet",
            b=f"{RESULTS}/layers/{LAYER_RUN_B}/epoch_{LAYER_EPOCH}/{{layer}}.parquet",
        output:
            table=f"{LAYER_DIR}/{{layer}}.csv",
            per_sample=f"{LAYER_DIR}/{{layer}}.per_sample.parquet",
        log:
            f"{RESULTS}/logs/layer_compare/{{layer}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/layer_compare/{{layer}}.tsv"
        wildcard_constraints:
            layer="[A-Za-z0-9_.]+",
        conda:
            GRAPH_ENV
        threads: RESOURCES["graph"]["threads"]
        resources:
            **knn_resources(),
            mem_mb=RESOURCES["graph"]["mem_mb"],
            runtime=RESOURCES["graph"]["runtime"],
        params:
            ks=LAYERS["k"],
            metric=config["knn"]["metric"],
            directed=config["knn"]["directed"],
            measures=MEASURES,
            layer=lambda wc: wc.layer,
            depth=lambda wc: LAYERS["layers"].index(wc.layer),
        script:
            "../workflow_scripts/layer_compare.py"

    rule layer_map:
        input:
            rows=[
                f"{RESULTS}/layers/{LAYER_RUN_A}/epoch_{LAYER_EPOCH}/{layer}.parquet"
                for layer in LAYERS["layers"]
            ],
            cols=[
                f"{RESULTS}/layers/{LAYER_RUN_B}/epoch_{LAYER_EPOCH}/{layer}.parquet"
                for layer in LAYERS["layers"]
            ],
        output:
            table=f"{RESULTS}/tables/layer_map.parquet",
            figure=report(
                f"{RESULTS}/figures/layer_map.png",
                caption="../report/maps.rst",
                category="6. Beyond the thesis",
            ),
        log:
            f"{RESULTS}/logs/layer_map.log",
        benchmark:
            f"{RESULTS}/benchmarks/layer_map.tsv"
        conda:
            GRAPH_ENV
        threads: RESOURCES["graph"]["threads"]
        resources:
            **knn_resources(),
            mem_mb=RESOURCES["graph"]["mem_mb"],
            runtime=RESOURCES["graph"]["runtime"],
        params:
            rows=LAYERS["layers"],
            cols=LAYERS["layers"],
            square=False,
            ks=LAYERS["k"],
            metric=config["knn"]["metric"],
            directed=config["knn"]["directed"],
            measures=MAP_MEASURES,
            n_eigs=MEASURES["n_eigs"] if MEASURES is not None else 20,
            title=(
                f"Layer x layer: run {LAYER_RUN_A} (rows) vs run {LAYER_RUN_B} (columns), "
                f"epoch {LAYERS['epoch']} ({LAYERS['reduce']})"
            ),
            xlabel=f"layer of run {LAYER_RUN_B}",
            ylabel=f"layer of run {LAYER_RUN_A}",
        script:
            "../workflow_scripts/similarity_map.py"

    rule layers_table:
        input:
            tables=[f"{LAYER_DIR}/{layer}.csv" for layer in LAYERS["layers"]],
            per_sample=[
                f"{LAYER_DIR}/{layer}.per_sample.parquet" for layer in LAYERS["layers"]
            ],
        output:
            table=report(
                f"{RESULTS}/tables/layers.csv",
                caption="../report/layers.rst",
                category="6. Beyond the thesis",
            ),
            markdown=f"{RESULTS}/tables/layers.md",
            per_sample=f"{RESULTS}/per_sample/layers.parquet",
        log:
            f"{RESULTS}/logs/layers_table.log",
        conda:
            "../envs/graph.yaml"
        params:
            title=(
                f"Layer by layer: run {LAYER_RUN_A} vs run {LAYER_RUN_B} at epoch "
                f"{LAYERS['epoch']} ({config['name']}, feature maps: {LAYERS['reduce']})"
            ),
        script:
            "../workflow_scripts/layers_table.py"

    rule plot_layers:
        input:
            f"{RESULTS}/tables/layers.csv",
        output:
            report(
                f"{RESULTS}/figures/layers.png",
                caption="../report/layers.rst",
                category="6. Beyond the thesis",
            ),
        log:
            f"{RESULTS}/logs/plot_layers.log",
        conda:
            "../envs/graph.yaml"
        params:
            title=(
                f"Layer by layer: run {LAYER_RUN_A} vs run {LAYER_RUN_B}, epoch {LAYERS['epoch']}"
                f" ({LAYERS['reduce']})"
            ),
        script:
            "../workflow_scripts/plot_layers.py"

    rule per_sample_layers:
        input:
            f"{RESULTS}/per_sample/layers.parquet",
        output:
            table=report(
                f"{RESULTS}/tables/per_sample_layers.csv",
                caption="../report/per_sample.rst",
                category="6. Beyond the thesis",
            ),
            markdown=f"{RESULTS}/tables/per_sample_layers.md",
            figure=report(
                f"{RESULTS}/figures/per_sample_layers.png",
                caption="../report/per_sample.rst",
                category="6. Beyond the thesis",
            ),
        log:
            f"{RESULTS}/logs/per_sample_layers.log",
        conda:
            "../envs/graph.yaml"
        threads: 1
        resources:
            mem_mb=RESOURCES["graph"]["mem_mb"],
            runtime=RESOURCES["graph"]["runtime"],
        params:
            by=["layer"],
            title=(
                f"Per-sample stability layer by layer: run {LAYER_RUN_A} vs run {LAYER_RUN_B} "
                f"({config['name']})"
            ),
        script:
            "../workflow_scripts/per_sample_analysis.py"
