# Stage 4: Jaccard and CNS epoch to epoch and seed to seed (thesis Tables 5.2-5.5).


rule stability:
    input:
        graphs=[knn_path(r, e) for r in config["stability"]["runs"] for e in WINDOW],
        latents=stability_latents(),  # only for the measure cka (rules/common.smk)
    output:
        table=report(
            f"{R}/tables/stability.csv",
            caption="../report/stability.rst",
            category="2. Stability",
        ),
        markdown=f"{R}/tables/stability.md",
    log:
        f"{R}/logs/stability.log",
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
        directed=config["knn"]["directed"],
        measures=MEASURES,
        title=f"kNN-graph stability: {config['name']}",
    script:
        "../workflow_scripts/stability.py"


rule plot_stability:
    input:
        f"{R}/tables/stability.csv",
    output:
        report(
            f"{R}/figures/stability.png",
            caption="../report/stability_figure.rst",
            category="2. Stability",
        ),
    log:
        f"{R}/logs/plot_stability.log",
    conda:
        "../envs/graph.yaml"
    script:
        "../workflow_scripts/plot_stability.py"
