"""Rule knn_shard: one block of query rows of an exact kNN search, against all latents (knn.shards)."""

from _common import start

start(snakemake)

from latentgraph.execution import execution_settings
from latentgraph.experiments.sharding import knn_shard
from latentgraph.io import read_latents

p = snakemake.params
knn_shard(
    snakemake.output[0],
    read_latents(snakemake.input[0]),
    int(p.k),
    int(snakemake.wildcards.shard),
    int(snakemake.config["knn"]["shards"]),
    metric=p.metric,
    backend=execution_settings(snakemake.config, "knn")["backend"],  # results do not depend on it
    threads=snakemake.threads,
)
