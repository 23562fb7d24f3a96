# Stage 4: Jaccard and CNS epoch to epoch and seed to seed (thesis Tables 5.2-5.5).

# latents of the stability graphs: the predictions of the per-sample table (and the measure cka)
STABILITY_LATENTS = [
    latents_path(r, e) for r in config["stability"]["runs"] for e in WINDOW
]
# final targets (rule all)
STABILITY_TARGETS = (
    [
        f"{RESULTS}/tables/stability.csv",
        f"{RESULTS}/tables/stability.md",
        f"{RESULTS}/figures/stability.png",
        f"{RESULTS}/per_sample/stability.parquet",
        f"{RESULTS}/tables/per_sample_stability.csv",
        f"{RESULTS}/tables/per_sample_stability.md",
        f"{RESULTS}/figures/per_sample_stability.png",
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
        per_sample=f"{RESULTS}/per_sample/stability.parquet",
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


rule per_sample_stability:
    input:
        f"{RESULTS}/per_sample/stability.parquet",
    output:
        table=report(
            f"{RESULTS}/tables/per_sample_stability.csv",
            caption="../report/per_sample.rst",
            category="2. Stability",
        ),
        markdown=f"{RESULTS}/tables/per_sample_stability.md",
        figure=report(
            f"{RESULTS}/figures/per_sample_stability.png",
            caption="../report/per_sample.rst",
            category="2. Stability",
        ),
    log:
        f"{RESULTS}/logs/per_sample_stability.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        by=["comparison"],
        title=f"Per-sample stability, epoch to epoch and seed to seed: {config['name']}",
    script:
        "../workflow_scripts/per_sample_analysis.py"
