# Beyond the thesis: hubness of every stability graph, the stability table's extra measures
# as tables and a figure, and the layer-by-layer comparison of two runs (latentgraph.compare.measures,
# latentgraph.experiments.layers). The extra columns of tables/stability.csv come from rule stability.


rule hubness:
    input:
        graphs=[knn_path(r, e) for r in config["stability"]["runs"] for e in WINDOW],
    output:
        table=report(
            f"{R}/tables/hubness.csv",
            caption="../report/hubness.rst",
            category="6. Beyond the thesis",
        ),
        markdown=f"{R}/tables/hubness.md",
    log:
        f"{R}/logs/hubness.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RES["graph"]["mem_mb"],
        runtime=RES["graph"]["runtime"],
    params:
        runs=config["stability"]["runs"],
        epochs=WINDOW,
        ks=KS,
        title=f"Hubness of the kNN graphs: {config['name']}",
    script:
        "../workflow_scripts/hubness.py"


rule stability_measures:
    input:
        f"{R}/tables/stability.csv",
    output:
        markdown=f"{R}/tables/stability_measures.md",
        figure=report(
            f"{R}/figures/stability_measures.png",
            caption="../report/measures.rst",
            category="6. Beyond the thesis",
        ),
    log:
        f"{R}/logs/stability_measures.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RES["graph"]["mem_mb"],
        runtime=RES["graph"]["runtime"],
    params:
        title=f"Measures beyond the thesis: {config['name']}",
    script:
        "../workflow_scripts/stability_measures.py"


if LAYERS is not None:
    LAYER_RUN_A, LAYER_RUN_B = LAYERS["runs"]
    LAYER_DIR = (
        f"{R}/layers/compare/{LAYER_RUN_A}_vs_{LAYER_RUN_B}/epoch_{ep(LAYERS['epoch'])}"
    )

    rule layer_latents:
        input:
            checkpoint=f"{R}/train/{{run}}/epoch_{{epoch}}.pt",
        output:
            [
                f"{R}/layers/{{run}}/epoch_{{epoch}}/{layer}.parquet"
                for layer in LAYERS["layers"]
            ],
        log:
            f"{R}/logs/layer_latents/{{run}}/epoch_{{epoch}}.log",
        benchmark:
            f"{R}/benchmarks/layer_latents/{{run}}/epoch_{{epoch}}.tsv"
        conda:
            TORCH_ENV
        threads: RES["latents"]["threads"]
        resources:
            **gpu_resources(),
            mem_mb=RES["latents"]["mem_mb"],
            runtime=RES["latents"]["runtime"],
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
            a=layer_latents_path(LAYER_RUN_A, "{layer}"),
            b=layer_latents_path(LAYER_RUN_B, "{layer}"),
        output:
            f"{LAYER_DIR}/{{layer}}.csv",
        log:
            f"{R}/logs/layer_compare/{{layer}}.log",
        benchmark:
            f"{R}/benchmarks/layer_compare/{{layer}}.tsv"
        wildcard_constraints:
            layer="[A-Za-z0-9_.]+",
        conda:
            GRAPH_ENV
        threads: RES["graph"]["threads"]
        resources:
            **knn_resources(),
            mem_mb=RES["graph"]["mem_mb"],
            runtime=RES["graph"]["runtime"],
        params:
            ks=LAYERS["k"],
            metric=config["knn"]["metric"],
            directed=config["knn"]["directed"],
            measures=MEASURES,
            layer=lambda wc: wc.layer,
            depth=lambda wc: LAYERS["layers"].index(wc.layer),
        script:
            "../workflow_scripts/layer_compare.py"

    rule layers_table:
        input:
            [f"{LAYER_DIR}/{layer}.csv" for layer in LAYERS["layers"]],
        output:
            table=report(
                f"{R}/tables/layers.csv",
                caption="../report/layers.rst",
                category="6. Beyond the thesis",
            ),
            markdown=f"{R}/tables/layers.md",
        log:
            f"{R}/logs/layers_table.log",
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
            f"{R}/tables/layers.csv",
        output:
            report(
                f"{R}/figures/layers.png",
                caption="../report/layers.rst",
                category="6. Beyond the thesis",
            ),
        log:
            f"{R}/logs/plot_layers.log",
        conda:
            "../envs/graph.yaml"
        params:
            title=(
                f"Layer by layer: run {LAYER_RUN_A} vs run {LAYER_RUN_B}, epoch {LAYERS['epoch']}"
                f" ({LAYERS['reduce']})"
            ),
        script:
            "../workflow_scripts/plot_layers.py"
