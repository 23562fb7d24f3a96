"""Rule latent_variance: max, min and mean of the per-dimension variance of the latents (Table 5.1)."""

from _common import start

start(snakemake)

import pandas as pd

from latentgraph.experiments.noise import variance_summary, variance_vector
from latentgraph.io import read_latents
from latentgraph.utils import atomic_path

lat = read_latents(snakemake.input[0])
row = {"run": snakemake.params.run, "epoch": snakemake.params.epoch, "n": lat.n, "d": lat.dim}
row.update(variance_summary(variance_vector(lat.X)))
with atomic_path(snakemake.output[0]) as tmp:
    pd.DataFrame([row]).to_csv(tmp, index=False, float_format="%.8g")
