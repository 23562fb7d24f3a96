# Stage: lottery-ticket iterative magnitude pruning (thesis 2.6, 4.3, 5.3, Tables 5.8-5.11).
# Round 0 (the unpruned network, shared by all rates) lives in prune/round_00; round i of
# rate p in prune/rate_<p>/round_<ii> and depends only on round i-1, so raising
# pruning.rounds or adding a rate adds jobs and reruns nothing.


rule prune_round0:
    input:
        theta0=checkpoint_path(PRUNE["run"], 0),
    output:
        **(
            {"rewind": f"{R}/prune/round_00/rewind.pt"}
            if PRUNE["reset"] == "rewind"
            else {}
        ),
        model=f"{R}/prune/round_00/model.pt",
        mask=f"{R}/prune/round_00/mask.pt",
        history=f"{R}/prune/round_00/history.csv",
        summary=f"{R}/prune/round_00/summary.json",
    log:
        f"{R}/logs/prune/round_00.log",
    benchmark:
        f"{R}/benchmarks/prune/round_00.tsv"
    conda:
        TORCH_ENV
    threads: RES["train"]["threads"]
    resources:
        **gpu_resources(),
        mem_mb=RES["train"]["mem_mb"],
        runtime=RES["train"]["runtime"],
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
        reset=prune_reset_checkpoint(),
    output:
        model=f"{R}/prune/rate_{{rate}}/round_{{rnd}}/model.pt",
        mask=f"{R}/prune/rate_{{rate}}/round_{{rnd}}/mask.pt",
        history=f"{R}/prune/rate_{{rate}}/round_{{rnd}}/history.csv",
        summary=f"{R}/prune/rate_{{rate}}/round_{{rnd}}/summary.json",
    log:
        f"{R}/logs/prune/rate_{{rate}}/round_{{rnd}}.log",
    benchmark:
        f"{R}/benchmarks/prune/rate_{{rate}}/round_{{rnd}}.tsv"
    wildcard_constraints:
        rate="|".join(re.escape(r) for r in PRUNE_RATES),
        rnd=r"0[1-9]|[1-9]\d+",
    conda:
        TORCH_ENV
    threads: RES["train"]["threads"]
    resources:
        **gpu_resources(),
        mem_mb=RES["train"]["mem_mb"],
        runtime=RES["train"]["runtime"],
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
        model=f"{R}/prune/{{state}}/model.pt",
        summary=f"{R}/prune/{{state}}/summary.json",
    output:
        f"{R}/prune/{{state}}/latents.parquet",
    log:
        f"{R}/logs/prune/{{state}}.latents.log",
    wildcard_constraints:
        state=r"round_00|rate_[^/]+/round_\d+",
    conda:
        TORCH_ENV
    threads: RES["latents"]["threads"]
    resources:
        **gpu_resources(),
        mem_mb=RES["latents"]["mem_mb"],
        runtime=RES["latents"]["runtime"],
    params:
        data=RESULT["data"],
        layer=config["latents"]["layer"],
        split=config["latents"]["split"],
        run=PRUNE["run"],
    script:
        "../workflow_scripts/prune_latents.py"


rule prune_knn:
    input:
        f"{R}/prune/{{state}}/latents.parquet",
    output:
        f"{R}/prune/{{state}}/knn.parquet",
    log:
        f"{R}/logs/knn/prune/{{state}}.log",
    wildcard_constraints:
        state=r"round_00|rate_[^/]+/round_\d+",
    group:
        KNN_GROUP
    conda:
        GRAPH_ENV
    threads: RES["graph"]["threads"]
    resources:
        **knn_resources(),
        mem_mb=RES["graph"]["mem_mb"],
        runtime=RES["graph"]["runtime"],
    params:
        k=max(KS),
        metric=config["knn"]["metric"],
    script:
        "../workflow_scripts/knn.py"


rule prune_table:
    input:
        graphs=[f"{d}/knn.parquet" for d in prune_states()],
        summaries=[f"{d}/summary.json" for d in prune_states()],
    output:
        table=report(
            f"{R}/tables/pruning.csv",
            caption="../report/pruning.rst",
            category="5. Pruning",
        ),
        markdown=f"{R}/tables/pruning.md",
    log:
        f"{R}/logs/prune/table.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RES["graph"]["mem_mb"],
        runtime=RES["graph"]["runtime"],
    params:
        rates=PRUNE_RATES,
        rounds=PRUNE_ROUNDS,
        ks=KS,
        directed=config["knn"]["directed"],
        title=f"Lottery-ticket pruning: {config['name']}",
    script:
        "../workflow_scripts/prune_table.py"


rule plot_pruning:
    input:
        unpack(prune_plot_inputs),
    output:
        cns=report(
            f"{R}/figures/pruning_cns.png",
            caption="../report/pruning_figure.rst",
            category="5. Pruning",
        ),
        jaccard=report(
            f"{R}/figures/pruning_jaccard.png",
            caption="../report/pruning_figure.rst",
            category="5. Pruning",
        ),
    log:
        f"{R}/logs/prune/plot.log",
    conda:
        "../envs/graph.yaml"
    params:
        title=config["name"],
    script:
        "../workflow_scripts/plot_pruning.py"
