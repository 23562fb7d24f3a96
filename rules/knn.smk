# Stage 3: exact kNN table of each latents file, searched once at the largest k.


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
        k=max(K_VALUES),
        metric=config["knn"]["metric"],
    script:
        "../workflow_scripts/knn.py"
