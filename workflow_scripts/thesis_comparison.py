"""Rule thesis_comparison: the thesis's published values beside ours, as CSV and Markdown."""

from _common import start

start(snakemake)

from latentgraph.experiments.thesis import compare_to_thesis, comparison_markdown
from latentgraph.utils import atomic_path, write_text_atomic

inp = snakemake.input
df = compare_to_thesis(
    inp.reference,
    stability=inp.get("stability"),
    noise_summary=inp.get("noise_summary"),
    latent_graph_stats=inp.get("latent_graph_stats"),
    classgraph_stats=inp.get("classgraph_stats"),
    pruning=inp.get("pruning"),
    dataset=snakemake.params.dataset,
)
with atomic_path(snakemake.output.table) as tmp:
    df.to_csv(tmp, index=False)
write_text_atomic(snakemake.output.markdown, comparison_markdown(df, snakemake.params.title))
