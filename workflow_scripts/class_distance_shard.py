"""Rule class_distance_shard: one shard (whole classes) of the class fold (classgraph.shards)."""

from _common import start

start(snakemake)

from latentgraph.execution import execution_settings
from latentgraph.experiments.sharding import class_distance_shard, write_class_shard
from latentgraph.io import read_knn, read_latents

p = snakemake.params
cg = execution_settings(snakemake.config, "classgraph")
part = class_distance_shard(
    read_knn(snakemake.input.knn),
    read_latents(snakemake.input.latents),
    int(p.k),
    int(snakemake.wildcards.shard),
    int(cg["shards"]),
    weights=p.weights,
    sources_per_class=getattr(p, "sources_per_class", None),
    seed=int(getattr(p, "sources_seed", 0)),
    # speed knobs (results do not depend on them)
    batch_size=cg["batch_size"],
    n_jobs=snakemake.threads,
    backend=cg["backend"],
    progress=True,
)
write_class_shard(snakemake.output[0], part)
