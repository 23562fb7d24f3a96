"""Rule layer_compare: every measure between the two runs' latents of one layer, per k, and per sample."""

from _common import start

start(snakemake)

from latentgraph.compare.per_sample import write_per_sample
from latentgraph.execution import execution_settings
from latentgraph.experiments.layers import compare_layer
from latentgraph.io import read_latents
from latentgraph.utils import atomic_path, stable_seed

p = snakemake.params
m = p.measures or {"extra": [], "n_eigs": 20, "null_permutations": 0, "seed": 0}
df, samples = compare_layer(
    read_latents(snakemake.input.a),
    read_latents(snakemake.input.b),
    p.ks,
    m["extra"],
    layer=p.layer,
    depth=p.depth,
    metric=p.metric,
    directed=p.directed,
    backend=execution_settings(snakemake.config, "knn")["backend"],  # results do not depend on it
    threads=snakemake.threads,
    n_eigs=m["n_eigs"],
    n_perm=m["null_permutations"],
    seed=stable_seed(m["seed"], "layers-null", p.layer),
    per_sample=True,
    ci=m.get("ci", 0.95),
    resamples=m.get("resamples", 0),
)
with atomic_path(snakemake.output.table) as tmp:
    df.to_csv(tmp, index=False, float_format="%.6f")
write_per_sample(samples, snakemake.output.per_sample)
