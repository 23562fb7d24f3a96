"""Rule stability: Jaccard and CNS epoch to epoch and seed to seed, as CSV and Markdown."""

from _common import start

start(snakemake)

import numpy as np

from latentgraph.experiments.stability import stability_markdown, stability_table
from latentgraph.io import read_knn, read_latents
from latentgraph.utils import atomic_path, write_text_atomic

p = snakemake.params
paths = iter(snakemake.input.graphs)
graphs = {(run, int(e)): read_knn(next(paths)) for run in p.runs for e in p.epochs}
if p.measures is None:  # measures.enabled: false -> the thesis's table only
    df = stability_table(graphs, p.runs, p.epochs, p.ks, directed=p.directed)
else:
    latents = None
    if snakemake.input.latents:  # measure cka: latents in the graphs' row order
        lpaths = iter(snakemake.input.latents)
        latents = {}
        for run in p.runs:
            for e in p.epochs:
                lat, g = read_latents(next(lpaths)), graphs[(run, int(e))]
                if not np.array_equal(lat.sample_id, g.sample_id):
                    raise ValueError(f"{lat.metadata['source']}: rows differ from its kNN graph's")
                latents[(run, int(e))] = lat.X
    m = p.measures
    df = stability_table(graphs, p.runs, p.epochs, p.ks, directed=p.directed, measures=m["extra"],
                         latents=latents, n_eigs=m["n_eigs"], n_perm=m["null_permutations"], seed=m["seed"],
                         ci=m.get("ci", 0.95), resamples=m.get("resamples", 0))
with atomic_path(snakemake.output.table) as tmp:
    df.to_csv(tmp, index=False, float_format="%.6f")
write_text_atomic(snakemake.output.markdown, stability_markdown(df, title=p.title))
