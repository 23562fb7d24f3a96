# Stage 3: kNN table of each latents file, searched once at the largest k: exact (the
# default), or approximate (knn.method ivf / hnsw) with its recall measured and checked.

# params of an approximate method; none for exact, so that exact jobs keep their params
KNN_METHOD_PARAMS = (
    {}
    if RESULT["knn"]["method"] == "exact"
    else {
        "method": RESULT["knn"]["method"],
        "method_params": RESULT["knn"][RESULT["knn"]["method"]],
        "recall_queries": RESULT["knn"]["recall_queries"],
        "min_recall": RESULT["knn"]["min_recall"],
        "knn_seed": RESULT["knn"]["seed"],
        "recall_ks": K_VALUES,
    }
)


rule knn:
    input:
        f"{RESULTS}/latents/{{run}}/epoch_{{epoch}}.parquet",
    output:
        f"{RESULTS}/knn/{{run}}/epoch_{{epoch}}.parquet",
    log:
        f"{RESULTS}/logs/knn/{{run}}/epoch_{{epoch}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/knn/{{run}}/epoch_{{epoch}}.tsv"
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
        **KNN_METHOD_PARAMS,
        k=max(K_VALUES),
        metric=config["knn"]["metric"],
    script:
        "../workflow_scripts/knn.py"


# knn.shards = S > 1: the same table from S jobs (rule knn_shard: one block of query rows
# each, against all latents), joined by rule knn_gather; identical to rule knn's table.
# Execution only (not in params). The ruleorder picks the writer of the table; rule knn's
# text stays as it was, so that its finished tables are not rerun (Snakemake's code trigger).
KNN_SHARDS = int(config["knn"]["shards"])
if KNN_SHARDS == 1:

    ruleorder: knn > knn_gather

else:

    ruleorder: knn_gather > knn


rule knn_shard:
    input:
        f"{RESULTS}/latents/{{run}}/epoch_{{epoch}}.parquet",
    output:
        temp(
            f"{RESULTS}/knn/{{run}}/epoch_{{epoch}}.shard_{{shard}}_of_{KNN_SHARDS}.npz"
        ),
    log:
        f"{RESULTS}/logs/knn/{{run}}/epoch_{{epoch}}.shard_{{shard}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/knn/{{run}}/epoch_{{epoch}}.shard_{{shard}}.tsv"
    group:
        "shards"
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
        "../workflow_scripts/knn_shard.py"


rule knn_gather:
    input:
        latents=f"{RESULTS}/latents/{{run}}/epoch_{{epoch}}.parquet",
        shards=expand(
            f"{RESULTS}/knn/{{{{run}}}}/epoch_{{{{epoch}}}}.shard_{{shard}}_of_{KNN_SHARDS}.npz",
            shard=range(KNN_SHARDS),
        ),
    output:
        f"{RESULTS}/knn/{{run}}/epoch_{{epoch}}.parquet",
    log:
        f"{RESULTS}/logs/knn/{{run}}/epoch_{{epoch}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/knn/{{run}}/epoch_{{epoch}}.tsv"
    group:
        KNN_GROUP
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        k=max(K_VALUES),
        metric=config["knn"]["metric"],
    script:
        "../workflow_scripts/knn_gather.py"
