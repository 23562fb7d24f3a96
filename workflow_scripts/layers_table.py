"""Rule layers_table: the per-layer comparisons as one CSV and Markdown tables, and all per-sample values."""

from _common import start

start(snakemake)

import pandas as pd

from latentgraph.compare.per_sample import read_per_sample, write_per_sample
from latentgraph.experiments.layers import layers_markdown
from latentgraph.utils import atomic_path, write_text_atomic

df = pd.concat([pd.read_csv(f) for f in snakemake.input.tables], ignore_index=True)
with atomic_path(snakemake.output.table) as tmp:
    df.to_csv(tmp, index=False, float_format="%.6f")
write_text_atomic(snakemake.output.markdown, layers_markdown(df, title=snakemake.params.title))
samples = pd.concat([read_per_sample(f) for f in snakemake.input.per_sample], ignore_index=True)
write_per_sample(samples, snakemake.output.per_sample)
