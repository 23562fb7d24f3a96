"""Rule plot_stability: the stability table as a figure."""

from _common import start

start(snakemake)

import pandas as pd

from latentgraph.plotting import plot_stability

plot_stability(pd.read_csv(snakemake.input[0]), snakemake.output[0])
