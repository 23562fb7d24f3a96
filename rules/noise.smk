# Stage: robustness of one latent representation to Gaussian noise (thesis 4.1, 5.1.1).
# One job per (p, repeat): extending the grid or the repeats computes only the new points.
# The noise jobs search a kNN table each, so on GPU configs they run where the knn jobs run.

from latentgraph.config import noise_target
from latentgraph.experiments.noise import canonical_grid

NOISE = config["noise"]
NOISE_RUN, NOISE_EPOCH = noise_target(config)
NOISE_KEYS = canonical_grid(NOISE["grid"]) if NOISE["enabled"] else []
NOISE_DIR = f"{RESULTS}/noise/{{run}}/epoch_{{epoch}}"

# every (p, repeat) result file of the configured run and epoch
NOISE_POINTS = [
    f"{RESULTS}/noise/{NOISE_RUN}/epoch_{epoch_label(NOISE_EPOCH)}/p_{key}/repeat_{r}.csv"
    for key in NOISE_KEYS
    for r in range(int(NOISE["repeats"]))
]
# their per-sample values (one Parquet file beside each point)
NOISE_PER_SAMPLE = [
    f.removesuffix(".csv") + ".per_sample.parquet" for f in NOISE_POINTS
]
# final targets (rule all)
NOISE_TARGETS = (
    [
        f"{RESULTS}/tables/latent_variance.csv",
        f"{RESULTS}/tables/noise.csv",
        f"{RESULTS}/tables/noise_summary.csv",
        f"{RESULTS}/tables/noise_chance.csv",
        f"{RESULTS}/tables/latent_graph_stats.json",
        f"{RESULTS}/figures/noise_jaccard.png",
        f"{RESULTS}/figures/noise_cns.png",
        f"{RESULTS}/figures/noise_accuracy.png",
        f"{RESULTS}/figures/path_lengths.png",
        f"{RESULTS}/per_sample/noise.parquet",
        f"{RESULTS}/tables/per_sample_noise.csv",
        f"{RESULTS}/tables/per_sample_noise.md",
        f"{RESULTS}/figures/per_sample_noise.png",
    ]
    if NOISE["enabled"]
    else []
)


rule head:
    input:
        f"{RESULTS}/train/{{run}}/epoch_{{epoch}}.pt",
    output:
        f"{RESULTS}/heads/{{run}}/epoch_{{epoch}}.npz",
    log:
        f"{RESULTS}/logs/head/{{run}}/epoch_{{epoch}}.log",
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=RESOURCES["latents"]["mem_mb"],
        runtime=RESOURCES["latents"]["runtime"],
    script:
        "../workflow_scripts/head.py"


rule noise_point:
    input:
        latents=f"{RESULTS}/latents/{{run}}/epoch_{{epoch}}.parquet",
        knn=f"{RESULTS}/knn/{{run}}/epoch_{{epoch}}.parquet",
        head=f"{RESULTS}/heads/{{run}}/epoch_{{epoch}}.npz",
    output:
        table=f"{NOISE_DIR}/p_{{p}}/repeat_{{repeat}}.csv",
        per_sample=f"{NOISE_DIR}/p_{{p}}/repeat_{{repeat}}.per_sample.parquet",
    log:
        f"{RESULTS}/logs/noise/{{run}}/epoch_{{epoch}}/p_{{p}}/repeat_{{repeat}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/noise/{{run}}/epoch_{{epoch}}/p_{{p}}/repeat_{{repeat}}.tsv"
    wildcard_constraints:
        p=r"[0-9][0-9.e+-]*",
        repeat=r"\d+",
    group:
        "noise_points"
    conda:
        "../envs/graph.yaml"
    threads: RESOURCES["noise"]["threads"]
    resources:
        mem_mb=RESOURCES["noise"]["mem_mb"],
        runtime=RESOURCES["noise"]["runtime"],
    params:
        p=lambda wc: wc.p,
        repeat=lambda wc: int(wc.repeat),
        seed=NOISE["seed"],
        ks=K_VALUES,
        directed=config["knn"]["directed"],
        metric=config["knn"]["metric"],
        ci=INTERVALS["ci"],
        resamples=INTERVALS["resamples"],
    script:
        "../workflow_scripts/noise_point.py"


rule noise_table:
    input:
        points=NOISE_POINTS,
        per_sample=NOISE_PER_SAMPLE,
    output:
        table=report(
            f"{RESULTS}/tables/noise.csv",
            caption="../report/noise.rst",
            category="3. Noise",
            subcategory="tables",
        ),
        summary=report(
            f"{RESULTS}/tables/noise_summary.csv",
            caption="../report/noise.rst",
            category="3. Noise",
            subcategory="tables",
        ),
        per_sample=f"{RESULTS}/per_sample/noise.parquet",
    log:
        f"{RESULTS}/logs/noise_table.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    script:
        "../workflow_scripts/noise_table.py"


rule noise_chance:
    input:
        knn_path(NOISE_RUN, NOISE_EPOCH),
    output:
        report(
            f"{RESULTS}/tables/noise_chance.csv",
            caption="../report/noise_figure.rst",
            category="3. Noise",
            subcategory="tables",
        ),
    log:
        f"{RESULTS}/logs/noise_chance.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        ks=K_VALUES,
        directed=config["knn"]["directed"],
        draws=NOISE["chance_repeats"],
        seed=NOISE["seed"],
    script:
        "../workflow_scripts/noise_chance.py"


rule latent_variance:
    input:
        latents_path(NOISE_RUN, NOISE_EPOCH),
    output:
        report(
            f"{RESULTS}/tables/latent_variance.csv",
            caption="../report/latent_stats.rst",
            category="3. Noise",
            subcategory="latent statistics",
        ),
    log:
        f"{RESULTS}/logs/latent_variance.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        run=NOISE_RUN,
        epoch=NOISE_EPOCH,
    script:
        "../workflow_scripts/latent_variance.py"


rule latent_graph_stats:
    input:
        latents=latents_path(NOISE_RUN, NOISE_EPOCH),
        knn=knn_path(NOISE_RUN, NOISE_EPOCH),
    output:
        report(
            f"{RESULTS}/tables/latent_graph_stats.json",
            caption="../report/latent_stats.rst",
            category="3. Noise",
            subcategory="latent statistics",
        ),
    log:
        f"{RESULTS}/logs/latent_graph_stats.log",
    benchmark:
        f"{RESULTS}/benchmarks/latent_graph_stats.tsv"
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        run=NOISE_RUN,
        epoch=NOISE_EPOCH,
        k=NOISE["stats_k"],
        directed=config["knn"]["directed"],
        bins=NOISE["hist_bins"],
        mc_samples=NOISE["mc_samples"],
        seed=NOISE["seed"],
    script:
        "../workflow_scripts/latent_graph_stats.py"


rule plot_noise:
    input:
        summary=f"{RESULTS}/tables/noise_summary.csv",
        chance=f"{RESULTS}/tables/noise_chance.csv",
        latents=latents_path(NOISE_RUN, NOISE_EPOCH),
    output:
        jaccard=report(
            f"{RESULTS}/figures/noise_jaccard.png",
            caption="../report/noise_figure.rst",
            category="3. Noise",
            subcategory="figures",
        ),
        cns=report(
            f"{RESULTS}/figures/noise_cns.png",
            caption="../report/noise_figure.rst",
            category="3. Noise",
            subcategory="figures",
        ),
        accuracy=report(
            f"{RESULTS}/figures/noise_accuracy.png",
            caption="../report/noise_figure.rst",
            category="3. Noise",
            subcategory="figures",
        ),
    log:
        f"{RESULTS}/logs/plot_noise.log",
    conda:
        "../envs/graph.yaml"
    params:
        zoom_max=NOISE["zoom_max"],
        title=f"{config['name']}: run {NOISE_RUN}, epoch {NOISE_EPOCH}",
    script:
        "../workflow_scripts/plot_noise.py"


rule plot_path_lengths:
    input:
        f"{RESULTS}/tables/latent_graph_stats.json",
    output:
        report(
            f"{RESULTS}/figures/path_lengths.png",
            caption="../report/path_lengths.rst",
            category="3. Noise",
            subcategory="latent statistics",
        ),
    log:
        f"{RESULTS}/logs/plot_path_lengths.log",
    conda:
        "../envs/graph.yaml"
    params:
        title=f"{config['name']}: run {NOISE_RUN}, epoch {NOISE_EPOCH}",
    script:
        "../workflow_scripts/plot_path_lengths.py"


rule per_sample_noise:
    input:
        f"{RESULTS}/per_sample/noise.parquet",
    output:
        table=report(
            f"{RESULTS}/tables/per_sample_noise.csv",
            caption="../report/per_sample.rst",
            category="3. Noise",
            subcategory="per sample",
        ),
        markdown=f"{RESULTS}/tables/per_sample_noise.md",
        figure=report(
            f"{RESULTS}/figures/per_sample_noise.png",
            caption="../report/per_sample.rst",
            category="3. Noise",
            subcategory="per sample",
        ),
    log:
        f"{RESULTS}/logs/per_sample_noise.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        by=["p"],
        title=f"Per-sample stability under noise (clean vs noisy, pooled over repeats): {config['name']}",
    script:
        "../workflow_scripts/per_sample_analysis.py"
