"""Rule plot_class_graph: layout figures (communities, accuracy) and the degree distribution."""

from _common import start

start(snakemake)

from latentgraph.experiments.classgraph import FIGURES, plot_class_graph_files

out = snakemake.output
plot_class_graph_files(
    snakemake.input.nodes,
    snakemake.input.edges,
    snakemake.input.degrees,
    {key: getattr(out, key) for key in FIGURES},
    title=snakemake.params.title,
    n_labels=int(snakemake.params.hubs),
)
