"""Rules per_sample_*: where a stage's instability lies - its per-sample table summarised as CSV, Markdown, figure."""

from _common import start

start(snakemake)

from latentgraph.compare.per_sample import per_sample_markdown, per_sample_summary, read_per_sample
from latentgraph.plotting import plot_per_sample
from latentgraph.utils import atomic_path, write_text_atomic

p = snakemake.params
summary = per_sample_summary(read_per_sample(snakemake.input[0]), by=p.by)
with atomic_path(snakemake.output.table) as tmp:
    summary.to_csv(tmp, index=False, float_format="%.6f")
write_text_atomic(snakemake.output.markdown, per_sample_markdown(summary, by=p.by, title=p.title))
plot_per_sample(summary, snakemake.output.figure, by=p.by, title=p.title)
