"""Rule noise_table: all (p, repeat) points as one table, and their mean and std over repeats."""

from _common import start

start(snakemake)

import pandas as pd

from latentgraph.compare.intervals import mean_intervals
from latentgraph.experiments.noise import COLUMNS, summarise_noise
from latentgraph.utils import atomic_path

df = pd.concat([pd.read_csv(f) for f in snakemake.input], ignore_index=True)
df = df[COLUMNS + [c for c in df.columns if c.endswith(("_lo", "_hi"))]]
df = df.sort_values(["p", "repeat", "k"], kind="stable").reset_index(drop=True)
with atomic_path(snakemake.output.table) as tmp:
    df.to_csv(tmp, index=False, float_format="%.8g")
with atomic_path(snakemake.output.summary) as tmp:
    # the interval columns: the mean over the draws of one (p, k) of each draw's interval
    summary = summarise_noise(df).merge(mean_intervals(df, ["p", "k"]), on=["p", "k"], how="left")
    summary.to_csv(tmp, index=False, float_format="%.8g")
