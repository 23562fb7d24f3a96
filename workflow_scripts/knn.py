"""Rule knn: the kNN table of one latents file at the largest configured k (exact, or approximate with its recall)."""

from _common import start

start(snakemake)

from latentgraph.execution import execution_settings
from latentgraph.graphs.knn_approx import build_knn_table
from latentgraph.io import read_latents, write_knn

p = snakemake.params
method = getattr(p, "method", "exact")  # an approximate method's params exist only with it
lat = read_latents(snakemake.input[0])
# an approximate table below knn.min_recall raises here, before anything is written
table = build_knn_table(
    lat.X,
    int(p.k),
    labels=lat.labels,
    sample_id=lat.sample_id,
    metric=p.metric,
    method=method,
    params=p.method_params if method != "exact" else None,
    recall_queries=int(p.recall_queries) if method != "exact" else 1000,
    recall_ks=p.recall_ks if method != "exact" else None,
    min_recall=p.min_recall if method != "exact" else None,
    seed=int(p.knn_seed) if method != "exact" else 0,
    backend=execution_settings(snakemake.config, "knn")["backend"],  # results do not depend on it
    threads=snakemake.threads,
    metadata={k: lat.metadata.get(k) for k in ("dataset", "split", "run", "seed", "epoch", "test_accuracy")},
)
write_knn(snakemake.output[0], table, metadata={"latents": snakemake.input[0]})
