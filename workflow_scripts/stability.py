"""Rule stability: Jaccard and CNS epoch to epoch and seed to seed, as CSV and Markdown, and per sample."""

from _common import start

start(snakemake)

import numpy as np

from latentgraph.compare.per_sample import write_per_sample
from latentgraph.compare.registry import needing_latents
from latentgraph.experiments.stability import stability_markdown, stability_per_sample, stability_table
from latentgraph.io import read_knn, read_latents
from latentgraph.utils import LatentGraphError, atomic_path, write_text_atomic

p = snakemake.params
paths = iter(snakemake.input.graphs)
graphs = {(run, int(e)): read_knn(next(paths)) for run in p.runs for e in p.epochs}
# the latents of every graph (same rows: the knn rule keeps their order): the predictions of the
# per-sample table, and the measures of the latents (cka, procrustes, ...)
use_latents = p.measures is not None and bool(set(p.measures["extra"]) & set(needing_latents()))
lpaths = iter(snakemake.input.latents)
latents, predictions = {}, {}
for run in p.runs:
    for e in p.epochs:
        path, g = next(lpaths), graphs[(run, int(e))]
        lat = read_latents(path)
        if not np.array_equal(lat.sample_id, g.sample_id):
            raise LatentGraphError(f"{path}: rows differ from its kNN graph's")
        if use_latents:
            latents[(run, int(e))] = lat.X
        if lat.prediction is not None:
            predictions[(run, int(e))] = lat.prediction
if p.measures is None:  # measures.enabled: false -> the thesis's table only
    df = stability_table(graphs, p.runs, p.epochs, p.ks, directed=p.directed)
else:
    m = p.measures
    df = stability_table(graphs, p.runs, p.epochs, p.ks, directed=p.directed, measures=m["extra"],
                         latents=latents if use_latents else None, n_eigs=m["n_eigs"],
                         n_perm=m["null_permutations"], seed=m["seed"], ci=m.get("ci", 0.95),
                         resamples=m.get("resamples", 0))
per_sample = stability_per_sample(graphs, p.runs, p.epochs, p.ks, directed=p.directed, predictions=predictions)
with atomic_path(snakemake.output.table) as tmp:
    df.to_csv(tmp, index=False, float_format="%.6f")
write_text_atomic(snakemake.output.markdown, stability_markdown(df, title=p.title))
write_per_sample(per_sample, snakemake.output.per_sample)
