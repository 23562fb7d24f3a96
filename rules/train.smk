# Stage 1: train each run (one seed) with the fixed scheme; checkpoints for epochs 0..E.


rule train:
    output:
        checkpoints=[checkpoint_path("{run}", e) for e in range(EPOCHS + 1)],
        history=f"{R}/train/{{run}}/history.csv",
    log:
        f"{R}/logs/train/{{run}}.log",
    benchmark:
        f"{R}/benchmarks/train/{{run}}.tsv"
    conda:
        TORCH_ENV
    threads: RES["train"]["threads"]
    resources:
        **gpu_resources(),
        mem_mb=RES["train"]["mem_mb"],
        runtime=RES["train"]["runtime"],
    params:
        seed=lambda wc: RESULT["train"]["runs"][wc.run],
        model=RESULT["model"],
        data=TRAIN_DATA,
        train={k: v for k, v in RESULT["train"].items() if k != "runs"},
        work_dir=lambda wc: f"{R}/train/{wc.run}/_work",
    script:
        "../workflow_scripts/train.py"


rule training_summary:
    input:
        histories=expand(f"{R}/train/{{run}}/history.csv", run=RUNS),
    output:
        table=report(
            f"{R}/tables/training.csv",
            caption="../report/training_table.rst",
            category="1. Training",
        ),
        figure=report(
            f"{R}/figures/training.png",
            caption="../report/training.rst",
            category="1. Training",
        ),
    log:
        f"{R}/logs/training_summary.log",
    conda:
        "../envs/graph.yaml"
    params:
        runs=RUNS,
        window=[WINDOW[0], WINDOW[-1]],
    script:
        "../workflow_scripts/training_summary.py"
