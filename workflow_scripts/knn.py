"""Rule knn: the exact kNN table of one latents file at the largest configured k."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

from latentgraph.execution import execution_settings
from latentgraph.graphs.knn import knn_table
from latentgraph.io import read_latents, write_knn
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])

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
