"""Rule plot_path_lengths: the distribution of weighted shortest-path lengths (Fig 5.5)."""

from _common import start

start(snakemake)

import json

from latentgraph.plotting import plot_path_lengths

with open(snakemake.input[0]) as fh:
    stats = json.load(fh)
plot_path_lengths(stats, snakemake.output[0], title=snakemake.params.title)
