# Stage 3: exact kNN table of each latents file, searched once at the largest k.


rule knn:
    input:
        f"{R}/latents/{{run}}/epoch_{{epoch}}.parquet",
    output:
        f"{R}/knn/{{run}}/epoch_{{epoch}}.parquet",
    log:
        f"{R}/logs/knn/{{run}}/epoch_{{epoch}}.log",
    benchmark:
        f"{R}/benchmarks/knn/{{run}}/epoch_{{epoch}}.tsv"
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
