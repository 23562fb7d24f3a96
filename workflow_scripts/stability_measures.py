"""Rule stability_measures: the stability table's extra measures as Markdown and a figure."""

from _common import start

start(snakemake)

import pandas as pd

from latentgraph.experiments.stability import MEASURE_NAMES, stability_markdown
from latentgraph.plotting import plot_stability_measures
from latentgraph.utils import write_text_atomic

df = pd.read_csv(snakemake.input[0])
extra = [m for m in MEASURE_NAMES if m in df.columns and m not in ("jaccard", "cns")]
write_text_atomic(snakemake.output.markdown, stability_markdown(df, title=snakemake.params.title, measures=extra))
plot_stability_measures(df, snakemake.output.figure)
