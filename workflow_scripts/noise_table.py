"""Rule noise_table: all (p, repeat) points as one table, their mean and std over repeats, and all per-sample values."""

from _common import start

start(snakemake)

import pandas as pd

from latentgraph.compare.intervals import mean_intervals
from latentgraph.compare.per_sample import read_per_sample, write_per_sample
from latentgraph.experiments.noise import COLUMNS, summarise_noise
from latentgraph.utils import atomic_path

df = pd.concat([pd.read_csv(f) for f in snakemake.input.points], ignore_index=True)
df = df[COLUMNS + [c for c in df.columns if c.endswith(("_lo", "_hi"))]]
df = df.sort_values(["p", "repeat", "k"], kind="stable").reset_index(drop=True)
with atomic_path(snakemake.output.table) as tmp:
    df.to_csv(tmp, index=False, float_format="%.8g")
with atomic_path(snakemake.output.summary) as tmp:
    # the interval columns: the mean over the draws of one (p, k) of each draw's interval
    summary = summarise_noise(df).merge(mean_intervals(df, ["p", "k"]), on=["p", "k"], how="left")
    summary.to_csv(tmp, index=False, float_format="%.8g")
# the per-sample values of every point, in the table's (p, repeat) order
samples = pd.concat([read_per_sample(f) for f in snakemake.input.per_sample], ignore_index=True)
write_per_sample(samples.sort_values(["p", "repeat", "k"], kind="stable"), snakemake.output.per_sample)
