"""Rule stability: Jaccard and CNS epoch to epoch and seed to seed, as CSV and Markdown."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

from latentgraph.io import read_knn
from latentgraph.stability import stability_markdown, stability_table
from latentgraph.utils import atomic_path, setup_logging, write_text_atomic

setup_logging(snakemake.log[0])

p = snakemake.params
paths = iter(snakemake.input.graphs)
graphs = {(run, int(e)): read_knn(next(paths)) for run in p.runs for e in p.epochs}
df = stability_table(graphs, p.runs, p.epochs, p.ks, directed=p.directed)
with atomic_path(snakemake.output.table) as tmp:
    df.to_csv(tmp, index=False, float_format="%.6f")
write_text_atomic(snakemake.output.markdown, stability_markdown(df, title=p.title))
