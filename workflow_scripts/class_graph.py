"""Rule class_graph: class kNN graph, statistics, communities, GraphML/GEXF and tables."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

from latentgraph.experiments.classgraph import OUTPUTS, read_class_distances, write_class_graph
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])

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
