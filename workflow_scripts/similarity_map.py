"""Rules layer_map and trajectory_map: every representation against every other, per measure and k."""

from _common import start

start(snakemake)

import pyarrow as pa

from latentgraph.compare.maps import similarity_map
from latentgraph.execution import execution_settings
from latentgraph.io import read_latents, write_parquet
from latentgraph.plotting import plot_map
from latentgraph.utils import atomic_path

p = snakemake.params
rows = [(n, read_latents(f)) for n, f in zip(p.rows, snakemake.input.rows, strict=True)]
cols = None if p.square else [(n, read_latents(f)) for n, f in zip(p.cols, snakemake.input.cols, strict=True)]
df = similarity_map(
    rows,
    cols,
    p.measures,
    p.ks,
    metric=p.metric,
    directed=p.directed,
    n_eigs=p.n_eigs,
    backend=execution_settings(snakemake.config, "knn")["backend"],  # results do not depend on it
    threads=snakemake.threads,
)
with atomic_path(snakemake.output.table) as tmp:
    write_parquet(pa.Table.from_pandas(df, preserve_index=False), tmp)
plot_map(df, snakemake.output.figure, title=snakemake.params.title, xlabel=p.xlabel, ylabel=p.ylabel)
