"""Rule plot_layers: every measure against the layer."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

import pandas as pd

from latentgraph.plotting import plot_layers
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])
plot_layers(pd.read_csv(snakemake.input[0]), snakemake.output[0], title=snakemake.params.title)
