"""Rule plot_layers: every measure against the layer."""

from _common import start

start(snakemake)

import pandas as pd

from latentgraph.plotting import plot_layers

plot_layers(pd.read_csv(snakemake.input[0]), snakemake.output[0], title=snakemake.params.title)
