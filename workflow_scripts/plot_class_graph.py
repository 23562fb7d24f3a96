"""Rule plot_class_graph: layout figures (communities, accuracy) and the degree distribution."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

from latentgraph.experiments.classgraph import FIGURES, plot_class_graph_files
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])

out = snakemake.output
plot_class_graph_files(
    snakemake.input.nodes,
    snakemake.input.edges,
    snakemake.input.degrees,
    {key: getattr(out, key) for key in FIGURES},
    title=snakemake.params.title,
    n_labels=int(snakemake.params.hubs),
)
