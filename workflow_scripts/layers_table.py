"""Rule layers_table: the per-layer comparisons as one CSV and Markdown tables."""

from _common import start

start(snakemake)

import pandas as pd

from latentgraph.experiments.layers import layers_markdown
from latentgraph.utils import atomic_path, write_text_atomic

df = pd.concat([pd.read_csv(f) for f in snakemake.input], ignore_index=True)
with atomic_path(snakemake.output.table) as tmp:
    df.to_csv(tmp, index=False, float_format="%.6f")
write_text_atomic(snakemake.output.markdown, layers_markdown(df, title=snakemake.params.title))
