"""Rule thesis_comparison: the thesis's published values beside ours, as CSV and Markdown."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

from latentgraph.experiments.thesis import compare_to_thesis, comparison_markdown
from latentgraph.utils import atomic_path, setup_logging, write_text_atomic

setup_logging(snakemake.log[0])

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
