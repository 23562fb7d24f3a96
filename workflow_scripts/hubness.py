"""Rule hubness: k-occurrence skewness, hub and antihub fractions of every stability graph."""

from _common import start

start(snakemake)

from latentgraph.experiments.measure_tables import hubness_markdown, hubness_table
from latentgraph.io import read_knn
from latentgraph.utils import atomic_path, write_text_atomic

p = snakemake.params
paths = iter(snakemake.input.graphs)
graphs = {(run, int(e)): read_knn(next(paths)) for run in p.runs for e in p.epochs}
df = hubness_table(graphs, p.runs, p.epochs, p.ks)
with atomic_path(snakemake.output.table) as tmp:
    df.to_csv(tmp, index=False, float_format="%.6f")
write_text_atomic(snakemake.output.markdown, hubness_markdown(df, title=p.title))
