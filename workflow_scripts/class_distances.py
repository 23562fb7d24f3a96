"""Rule class_distances: the class distance matrix (eq. 4.2) of one latents file."""

from _common import start

start(snakemake)

from latentgraph.execution import execution_settings
from latentgraph.experiments.classgraph import class_distances_from_latents, write_class_distances
from latentgraph.io import read_latents

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
