"""Rule stability_measures: the stability table's extra measures as Markdown and a figure."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

import pandas as pd

from latentgraph.experiments.stability import MEASURE_NAMES, stability_markdown
from latentgraph.plotting import plot_stability_measures
from latentgraph.utils import setup_logging, write_text_atomic

setup_logging(snakemake.log[0])

df = pd.read_csv(snakemake.input[0])
extra = [m for m in MEASURE_NAMES if m in df.columns and m not in ("jaccard", "cns")]
write_text_atomic(snakemake.output.markdown, stability_markdown(df, title=snakemake.params.title, measures=extra))
plot_stability_measures(df, snakemake.output.figure)
