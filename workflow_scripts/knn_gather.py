"""Rule knn_gather (knn.shards > 1): join the shards of one exact kNN search into its table."""

from _common import start

start(snakemake)

from latentgraph.experiments.sharding import gather_knn_shards
from latentgraph.io import read_latents, write_knn

lat = read_latents(snakemake.input.latents)
table = gather_knn_shards(
    list(snakemake.input.shards),
    lat,
    metadata={k: lat.metadata.get(k) for k in ("dataset", "split", "run", "seed", "epoch", "test_accuracy")},
)
write_knn(snakemake.output[0], table, metadata={"latents": snakemake.input.latents})
