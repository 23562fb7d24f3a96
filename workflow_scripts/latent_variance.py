"""Rule latent_variance: max, min and mean of the per-dimension variance of the latents (Table 5.1)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

import pandas as pd

from latentgraph.experiments.noise import variance_summary, variance_vector
from latentgraph.io import read_latents
from latentgraph.utils import atomic_path, setup_logging

setup_logging(snakemake.log[0])

lat = read_latents(snakemake.input[0])
row = {"run": snakemake.params.run, "epoch": snakemake.params.epoch, "n": lat.n, "d": lat.dim}
row.update(variance_summary(variance_vector(lat.X)))
with atomic_path(snakemake.output[0]) as tmp:
    pd.DataFrame([row]).to_csv(tmp, index=False, float_format="%.8g")
