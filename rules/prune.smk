# Stage: lottery-ticket iterative magnitude pruning (thesis 2.6, 4.3, 5.3, Tables 5.8-5.11).
# Round 0 (the unpruned network, shared by all rates) lives in prune/round_00; round i of
# rate p in prune/rate_<p>/round_<ii> and depends only on round i-1, so raising
# pruning.rounds or adding a rate adds jobs and reruns nothing.
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
# the weights survivors are reset to: theta0, or round 0's rewind point
PRUNE_RESET_CHECKPOINT = (
    f"{RESULTS}/prune/round_00/rewind.pt"
    if PRUNE["reset"] == "rewind"
    else checkpoint_path(PRUNE["run"], 0)
)
# folders of every round of every configured rate (round 0 once; prune_dir: rules/common.smk)
PRUNE_STATES = [prune_dir(None, 0)] + [
    prune_dir(r, i) for r in PRUNE_RATES for i in range(1, PRUNE_ROUNDS + 1)
]
# the figures' reference lines: the seed-to-seed level of the stability stage, when it runs
PRUNE_PLOT_INPUTS = {"table": f"{RESULTS}/tables/pruning.csv"}
if config["stability"]["enabled"]:
    PRUNE_PLOT_INPUTS["stability"] = f"{RESULTS}/tables/stability.csv"
# final targets (rule all)
PRUNE_TARGETS = (
    [
        f"{RESULTS}/tables/pruning.csv",
        f"{RESULTS}/tables/pruning.md",
        f"{RESULTS}/figures/pruning_cns.png",
        f"{RESULTS}/figures/pruning_jaccard.png",
        f"{RESULTS}/per_sample/pruning.parquet",
        f"{RESULTS}/tables/per_sample_pruning.csv",
        f"{RESULTS}/tables/per_sample_pruning.md",
        f"{RESULTS}/figures/per_sample_pruning.png",
    ]
    if config["pruning"]["enabled"]
    else []
)


rule prune_round0:
    input:
        theta0=checkpoint_path(PRUNE["run"], 0),
    output:
        **(
            {"rewind": f"{RESULTS}/prune/round_00/rewind.pt"}
            if PRUNE["reset"] == "rewind"
            else {}
        ),
        model=f"{RESULTS}/prune/round_00/model.pt",
        mask=f"{RESULTS}/prune/round_00/mask.pt",
        history=f"{RESULTS}/prune/round_00/history.csv",
        summary=f"{RESULTS}/prune/round_00/summary.json",
    log:
        f"{RESULTS}/logs/prune/round_00.log",
    benchmark:
        f"{RESULTS}/benchmarks/prune/round_00.tsv"
    conda:
        TORCH_ENV
    threads: RESOURCES["train"]["threads"]
    resources:
        **gpu_resources(),
        mem_mb=RESOURCES["train"]["mem_mb"],
        runtime=RESOURCES["train"]["runtime"],
    params:
        data=TRAIN_DATA,
        seed=RESULT["train"]["runs"].get(PRUNE["run"]),
        pruning=PRUNE_ROUND0_PARAMS,
        amp=config["train"]["amp"],
        rate=None,
        round=0,
    script:
        "../workflow_scripts/prune_round.py"


rule prune_round:
    input:
        theta0=checkpoint_path(PRUNE["run"], 0),
        previous=lambda wc: f"{prune_dir(wc.rate, int(wc.rnd) - 1)}/model.pt",
        previous_mask=lambda wc: f"{prune_dir(wc.rate, int(wc.rnd) - 1)}/mask.pt",
        reset=PRUNE_RESET_CHECKPOINT,
    output:
        model=f"{RESULTS}/prune/rate_{{rate}}/round_{{rnd}}/model.pt",
        mask=f"{RESULTS}/prune/rate_{{rate}}/round_{{rnd}}/mask.pt",
        history=f"{RESULTS}/prune/rate_{{rate}}/round_{{rnd}}/history.csv",
        summary=f"{RESULTS}/prune/rate_{{rate}}/round_{{rnd}}/summary.json",
    log:
        f"{RESULTS}/logs/prune/rate_{{rate}}/round_{{rnd}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/prune/rate_{{rate}}/round_{{rnd}}.tsv"
    wildcard_constraints:
        rate="|".join(re.escape(r) for r in PRUNE_RATES),
        rnd=r"0[1-9]|[1-9]\d+",
    conda:
        TORCH_ENV
    threads: RESOURCES["train"]["threads"]
    resources:
        **gpu_resources(),
        mem_mb=RESOURCES["train"]["mem_mb"],
        runtime=RESOURCES["train"]["runtime"],
    params:
        data=TRAIN_DATA,
        seed=RESULT["train"]["runs"].get(PRUNE["run"]),
        pruning=PRUNE_PARAMS,
        amp=config["train"]["amp"],
        rate=lambda wc: float(wc.rate),
        round=lambda wc: int(wc.rnd),
    script:
        "../workflow_scripts/prune_round.py"


rule prune_latents:
    input:
        model=f"{RESULTS}/prune/{{state}}/model.pt",
        summary=f"{RESULTS}/prune/{{state}}/summary.json",
    output:
        f"{RESULTS}/prune/{{state}}/latents.parquet",
    log:
        f"{RESULTS}/logs/prune/{{state}}.latents.log",
    wildcard_constraints:
        state=r"round_00|rate_[^/]+/round_\d+",
    conda:
        TORCH_ENV
    threads: RESOURCES["latents"]["threads"]
    resources:
        **gpu_resources(),
        mem_mb=RESOURCES["latents"]["mem_mb"],
        runtime=RESOURCES["latents"]["runtime"],
    params:
        data=RESULT["data"],
        layer=config["latents"]["layer"],
        split=config["latents"]["split"],
        run=PRUNE["run"],
    script:
        "../workflow_scripts/prune_latents.py"


rule prune_knn:
    input:
        f"{RESULTS}/prune/{{state}}/latents.parquet",
    output:
        f"{RESULTS}/prune/{{state}}/knn.parquet",
    log:
        f"{RESULTS}/logs/knn/prune/{{state}}.log",
    wildcard_constraints:
        state=r"round_00|rate_[^/]+/round_\d+",
    group:
        KNN_GROUP
    conda:
        GRAPH_ENV
    threads: RESOURCES["graph"]["threads"]
    resources:
        **knn_resources(),
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        k=max(K_VALUES),
        metric=config["knn"]["metric"],
    script:
        "../workflow_scripts/knn.py"


rule prune_table:
    input:
        graphs=[f"{d}/knn.parquet" for d in PRUNE_STATES],
        summaries=[f"{d}/summary.json" for d in PRUNE_STATES],
        latents=[f"{d}/latents.parquet" for d in PRUNE_STATES],
    output:
        table=report(
            f"{RESULTS}/tables/pruning.csv",
            caption="../report/pruning.rst",
            category="5. Pruning",
        ),
        markdown=f"{RESULTS}/tables/pruning.md",
        per_sample=f"{RESULTS}/per_sample/pruning.parquet",
    log:
        f"{RESULTS}/logs/prune/table.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        rates=PRUNE_RATES,
        rounds=PRUNE_ROUNDS,
        ks=K_VALUES,
        directed=config["knn"]["directed"],
        ci=INTERVALS["ci"],
        resamples=INTERVALS["resamples"],
        ci_seed=INTERVALS["seed"],
        title=f"Lottery-ticket pruning: {config['name']}",
    script:
        "../workflow_scripts/prune_table.py"


rule plot_pruning:
    input:
        **PRUNE_PLOT_INPUTS,
    output:
        cns=report(
            f"{RESULTS}/figures/pruning_cns.png",
            caption="../report/pruning_figure.rst",
            category="5. Pruning",
        ),
        jaccard=report(
            f"{RESULTS}/figures/pruning_jaccard.png",
            caption="../report/pruning_figure.rst",
            category="5. Pruning",
        ),
    log:
        f"{RESULTS}/logs/prune/plot.log",
    conda:
        "../envs/graph.yaml"
    params:
        title=config["name"],
    script:
        "../workflow_scripts/plot_pruning.py"


rule per_sample_pruning:
    input:
        f"{RESULTS}/per_sample/pruning.parquet",
    output:
        table=report(
            f"{RESULTS}/tables/per_sample_pruning.csv",
            caption="../report/per_sample.rst",
            category="5. Pruning",
        ),
        markdown=f"{RESULTS}/tables/per_sample_pruning.md",
        figure=report(
            f"{RESULTS}/figures/per_sample_pruning.png",
            caption="../report/per_sample.rst",
            category="5. Pruning",
        ),
    log:
        f"{RESULTS}/logs/prune/per_sample.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        by=["rate", "round"],
        title=f"Per-sample stability under pruning (round 0 vs round i): {config['name']}",
    script:
        "../workflow_scripts/per_sample_analysis.py"
