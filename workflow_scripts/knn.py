"""Rule knn: the exact kNN table of one latents file at the largest configured k."""

from _common import start

start(snakemake)

from latentgraph.execution import execution_settings
from latentgraph.graphs.knn import knn_table
from latentgraph.io import read_latents, write_knn

lat = read_latents(snakemake.input[0])
table = knn_table(
    lat.X,
    int(snakemake.params.k),
    labels=lat.labels,
    sample_id=lat.sample_id,
    metric=snakemake.params.metric,
    backend=execution_settings(snakemake.config, "knn")["backend"],  # results do not depend on it
    threads=snakemake.threads,
    metadata={k: lat.metadata.get(k) for k in ("dataset", "split", "run", "seed", "epoch", "test_accuracy")},
)
write_knn(snakemake.output[0], table, metadata={"latents": snakemake.input[0]})
