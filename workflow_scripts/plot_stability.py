"""Rule plot_stability: the stability table as a figure."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

import pandas as pd

from latentgraph.plotting import plot_stability
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])
plot_stability(pd.read_csv(snakemake.input[0]), snakemake.output[0])
