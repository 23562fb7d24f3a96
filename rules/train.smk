# Stage 1: train each run (one seed) with the fixed scheme; checkpoints for epochs 0..E.

# final targets (rule all): the training summary marks the stability window, so it comes
# with the stability stage
TRAINING_TARGETS = (
    [f"{RESULTS}/figures/training.png", f"{RESULTS}/tables/training.csv"]
    if config["stability"]["enabled"]
    else []
)


rule train:
    output:
        checkpoints=[checkpoint_path("{run}", e) for e in range(EPOCHS + 1)],
        history=f"{RESULTS}/train/{{run}}/history.csv",
    log:
        f"{RESULTS}/logs/train/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{run}}.tsv"
    conda:
        TORCH_ENV
    threads: RESOURCES["train"]["threads"]
    resources:
        **gpu_resources(),
        mem_mb=RESOURCES["train"]["mem_mb"],
        runtime=RESOURCES["train"]["runtime"],
    params:
        seed=lambda wc: RESULT["train"]["runs"][wc.run],
        model=RESULT["model"],
        data=TRAIN_DATA,
        train={k: v for k, v in RESULT["train"].items() if k != "runs"},
        work_dir=lambda wc: f"{RESULTS}/train/{wc.run}/_work",
    script:
        "../workflow_scripts/train.py"


rule training_summary:
    input:
        histories=expand(f"{RESULTS}/train/{{run}}/history.csv", run=RUNS),
    output:
        table=report(
            f"{RESULTS}/tables/training.csv",
            caption="../report/training_table.rst",
            category="1. Training",
        ),
        figure=report(
            f"{RESULTS}/figures/training.png",
            caption="../report/training.rst",
            category="1. Training",
        ),
    log:
        f"{RESULTS}/logs/training_summary.log",
    conda:
        "../envs/graph.yaml"
    params:
        runs=RUNS,
        window=[WINDOW[0], WINDOW[-1]],
    script:
        "../workflow_scripts/training_summary.py"
