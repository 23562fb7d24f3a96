"""Rule class_graph: class kNN graph, statistics, communities, GraphML/GEXF and tables."""

from _common import start

start(snakemake)

from latentgraph.experiments.classgraph import OUTPUTS, read_class_distances, write_class_graph

p = snakemake.params
cd = read_class_distances(snakemake.input[0])
write_class_graph(
    cd,
    {key: getattr(snakemake.output, key) for key in OUTPUTS},
    int(p.class_k),
    seed=int(p.seed),
    n_hubs=int(p.hubs),
    resolution=float(p.resolution),
    title=p.title,
)
