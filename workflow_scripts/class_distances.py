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
    # m seeded sources per class (with error bars) when classgraph.sources_per_class is set;
    # a class smaller than m fails here, before anything is written
    sources_per_class=getattr(p, "sources_per_class", None),
    seed=int(getattr(p, "sources_seed", 0)),
)
write_class_distances(snakemake.output[0], cd)
