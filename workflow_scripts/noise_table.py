"""Rule noise_table: all (p, repeat) points as one table, and their mean and std over repeats."""

from _common import start

start(snakemake)

import pandas as pd

from latentgraph.experiments.noise import COLUMNS, summarise_noise
from latentgraph.utils import atomic_path

df = pd.concat([pd.read_csv(f) for f in snakemake.input], ignore_index=True)[COLUMNS]
df = df.sort_values(["p", "repeat", "k"], kind="stable").reset_index(drop=True)
with atomic_path(snakemake.output.table) as tmp:
    df.to_csv(tmp, index=False, float_format="%.8g")
with atomic_path(snakemake.output.summary) as tmp:
    summarise_noise(df).to_csv(tmp, index=False, float_format="%.8g")
