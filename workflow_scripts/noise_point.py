"""Rule noise_point: one (p, repeat) of the noise sweep - Jaccard, CNS per k and the head's accuracy, and per sample."""

from _common import start

start(snakemake)

import logging

from latentgraph.compare.per_sample import write_per_sample
from latentgraph.execution import execution_settings
from latentgraph.experiments.noise import check_clean_accuracy, noise_point, parse_p_key, variance_vector
from latentgraph.head import read_head
from latentgraph.io import read_knn, read_latents
from latentgraph.utils import LatentGraphError, atomic_path, stable_seed

log = logging.getLogger("latentgraph.experiments.noise")

p = snakemake.params
pv = parse_p_key(p.p)
lat = read_latents(snakemake.input.latents)
clean = read_knn(snakemake.input.knn)
W, b = read_head(snakemake.input.head)
# the kNN rule keeps the latents' row order: vertex i of the graph is row i of the latents
if clean.n != lat.n or (clean.sample_id != lat.sample_id).any() or (clean.labels != lat.labels).any():
    raise LatentGraphError(f"{snakemake.input.knn} does not hold the samples of {snakemake.input.latents} in order")
clean_acc = check_clean_accuracy(lat.X, lat.labels, lat.prediction, W, b, lat.metadata.get("test_accuracy"),
                                 where=snakemake.input.latents)
df, samples = noise_point(lat.X, lat.labels, clean, W, b, pv, p.repeat, p.seed, p.ks, directed=p.directed, metric=p.metric,
                          backend=execution_settings(snakemake.config, "knn")["backend"], threads=snakemake.threads,
                          var=variance_vector(lat.X), per_sample=True, ci=p.ci, resamples=p.resamples,
                          ci_seed=stable_seed(p.seed, "noise-ci", p.p, p.repeat))
if pv == 0:
    # the experiment's anchor: no noise = the model's own test accuracy and the clean graph
    if df["accuracy"].iloc[0] != clean_acc:
        raise LatentGraphError(f"p = 0 gives accuracy {df['accuracy'].iloc[0]}, the model's is {clean_acc}")
    if not ((df["jaccard"] == 1.0).all() and (df["cns"] == 1.0).all()):
        raise LatentGraphError(f"p = 0 does not reproduce the clean graph: {df.to_dict('records')}")
    log.info("p = 0 reproduces the clean graph and the test accuracy %.4f", clean_acc)
with atomic_path(snakemake.output.table) as tmp:
    df.to_csv(tmp, index=False, float_format="%.8g")
write_per_sample(samples, snakemake.output.per_sample)
