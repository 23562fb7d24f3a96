"""Rule class_distances_gather (classgraph.shards > 1): add the shards of the class fold, write the matrix."""

from _common import start

start(snakemake)

from latentgraph.experiments.classgraph import write_class_distances
from latentgraph.experiments.sharding import gather_class_distances, read_class_shard
from latentgraph.io import read_knn, read_latents

paths = list(snakemake.input.shards)
cd = gather_class_distances(
    [read_class_shard(p) for p in paths],
    read_knn(snakemake.input.knn),
    read_latents(snakemake.input.latents),
    metric=snakemake.params.metric,
    paths=paths,
)
write_class_distances(snakemake.output[0], cd)
