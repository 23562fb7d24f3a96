"""Rule training_summary: all runs' accuracy per epoch as one table and figure (Fig 5.1)."""

from _common import start

start(snakemake)

import pandas as pd

from latentgraph.plotting import plot_training
from latentgraph.utils import atomic_path

histories = {run: pd.read_csv(path) for run, path in zip(snakemake.params.runs, snakemake.input.histories, strict=True)}
table = pd.concat([h.assign(run=run) for run, h in histories.items()], ignore_index=True)
with atomic_path(snakemake.output.table) as tmp:
    table[["run"] + [c for c in table.columns if c != "run"]].to_csv(tmp, index=False)
plot_training(histories, snakemake.output.figure, window=tuple(snakemake.params.window))
