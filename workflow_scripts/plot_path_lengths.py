"""Rule plot_path_lengths: the distribution of weighted shortest-path lengths (Fig 5.5)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

import json

from latentgraph.plotting import plot_path_lengths
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])

with open(snakemake.input[0]) as fh:
    stats = json.load(fh)
plot_path_lengths(stats, snakemake.output[0], title=snakemake.params.title)
