"""Rule class_distances: the class distance matrix (eq. 4.2) of one latents file."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

from latentgraph.execution import execution_settings
from latentgraph.experiments.classgraph import class_distances_from_latents, write_class_distances
from latentgraph.io import read_latents
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])

p = snakemake.params
cg = execution_settings(snakemake.config, "classgraph")
lat = read_latents(snakemake.input[0])
cd = class_distances_from_latents(
    lat,
    int(p.k),
    weights=p.weights,
    metric=p.metric,
    # speed knobs (results do not depend on them) come from the config directly
    knn_backend=execution_settings(snakemake.config, "knn")["backend"],
    threads=snakemake.threads,
    batch_size=cg["batch_size"],
    n_jobs=snakemake.threads,
    backend=cg["backend"],
    progress=True,
)
write_class_distances(snakemake.output[0], cd)
