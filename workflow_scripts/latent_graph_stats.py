"""Rule latent_graph_stats: path statistics of the clean kNN graph and the L1 norm of a noise vector."""

from _common import start

start(snakemake)

import logging

from latentgraph.execution import execution_settings
from latentgraph.experiments.noise import noise_l1_norm, variance_vector
from latentgraph.graphs.path_stats import knn_graph_statistics
from latentgraph.io import read_knn, read_latents
from latentgraph.utils import write_json_atomic

log = logging.getLogger("latentgraph.graphs.path_stats")

p = snakemake.params
lat = read_latents(snakemake.input.latents)
table = read_knn(snakemake.input.knn)
stats = knn_graph_statistics(table, int(p.k), directed=p.directed, bins=int(p.bins),
                             batch_size=int(execution_settings(snakemake.config, "noise")["path_batch_size"]))
norm = noise_l1_norm(variance_vector(lat.X), p=1.0, samples=int(p.mc_samples), seed=int(p.seed))
median = stats["weighted"]["median"]
stats.update({
    "run": p.run,
    "epoch": int(p.epoch),
    "latent_dim": lat.dim,
    "noise_l1_norm": norm,
    "median_path_over_noise_norm": median / norm["mc_mean"] if norm["mc_mean"] > 0 else None,
})
log.info("median weighted (%s) shortest-path length %.4g; mean L1 norm of one noise vector at p = 1: %.4g "
         "(Monte Carlo, %d draws; exact %.4g); ratio %.3g", table.metric, median, norm["mc_mean"], norm["samples"],
         norm["exact_mean"], stats["median_path_over_noise_norm"] or float("nan"))
write_json_atomic(snakemake.output[0], stats)
