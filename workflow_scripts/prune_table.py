"""Rule prune_table: every pruning round compared with round 0 (Tables 5.8-5.11), CSV and Markdown, and per sample."""

from _common import start

start(snakemake)

import numpy as np

from latentgraph.compare.intervals import pruning_intervals
from latentgraph.compare.per_sample import write_per_sample
from latentgraph.experiments.pruning import pruning_markdown, pruning_per_sample, pruning_table, read_summary
from latentgraph.io import read_knn, read_latents
from latentgraph.utils import LatentGraphError, atomic_path, write_text_atomic

p = snakemake.params
pairs = [(read_knn(g), read_summary(s)) for g, s in zip(snakemake.input.graphs, snakemake.input.summaries, strict=True)]
# inputs are round 0, then every (rate, round >= 1) in the order of rules/prune.smk's PRUNE_STATES
keys = [(r, i) for r in p.rates for i in range(1, int(p.rounds) + 1)]
rounds = dict(zip(keys, pairs[1:], strict=True))
df = pruning_table(pairs[0], rounds, p.ks, directed=p.directed)
if p.resamples:  # the resampling intervals of every round's similarities to round 0
    iv = pruning_intervals(pairs[0][0], {key: g for key, (g, _) in rounds.items()}, p.ks, level=p.ci,
                           resamples=p.resamples, seed=p.ci_seed, directed=p.directed)
    df = df.merge(iv, on=["rate", "round", "k"], how="left", validate="one_to_one")
# per sample: each round's predictions from its latents (the kNN rule keeps their rows)
predictions = {}
for key, (g, _), path in zip([0, *keys], pairs, snakemake.input.latents, strict=True):
    lat = read_latents(path)
    if not np.array_equal(lat.sample_id, g.sample_id):
        raise LatentGraphError(f"{path}: rows differ from its kNN graph's")
    if lat.prediction is not None:
        predictions[key] = lat.prediction
samples = pruning_per_sample(pairs[0][0], {k: g for k, (g, _) in rounds.items()}, p.ks,
                             directed=p.directed, predictions=predictions)
with atomic_path(snakemake.output.table) as tmp:
    df.to_csv(tmp, index=False, float_format="%.10g")
write_text_atomic(snakemake.output.markdown, pruning_markdown(df, title=p.title))
write_per_sample(samples, snakemake.output.per_sample)
