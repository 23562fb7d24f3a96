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
