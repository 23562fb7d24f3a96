# Stage 4: Jaccard and CNS epoch to epoch and seed to seed (thesis Tables 5.2-5.5).

from latentgraph.compare.registry import needing_latents

# latents of the stability graphs: inputs of the stability table only for measures of the latents (cka, ...)
STABILITY_LATENTS = (
    [latents_path(r, e) for r in config["stability"]["runs"] for e in WINDOW]
    if MEASURES is not None and set(MEASURES["extra"]) & set(needing_latents())
    else []
)
# final targets (rule all)
STABILITY_TARGETS = (
    [
        f"{RESULTS}/tables/stability.csv",
        f"{RESULTS}/tables/stability.md",
        f"{RESULTS}/figures/stability.png",
    ]
    if config["stability"]["enabled"]
    else []
)


rule stability:
    input:
        graphs=[knn_path(r, e) for r in config["stability"]["runs"] for e in WINDOW],
        latents=STABILITY_LATENTS,
    output:
        table=report(
            f"{RESULTS}/tables/stability.csv",
            caption="../report/stability.rst",
            category="2. Stability",
        ),
        markdown=f"{RESULTS}/tables/stability.md",
    log:
        f"{RESULTS}/logs/stability.log",
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
        directed=config["knn"]["directed"],
        measures=MEASURES,
        title=f"kNN-graph stability: {config['name']}",
    script:
        "../workflow_scripts/stability.py"


rule plot_stability:
    input:
        f"{RESULTS}/tables/stability.csv",
    output:
        report(
            f"{RESULTS}/figures/stability.png",
            caption="../report/stability_figure.rst",
            category="2. Stability",
        ),
    log:
        f"{RESULTS}/logs/plot_stability.log",
    conda:
        "../envs/graph.yaml"
    script:
        "../workflow_scripts/plot_stability.py"
