"""Rule noise_chance: Jaccard and CNS of the clean graph against random graphs of the same out-degree."""

from _common import start

start(snakemake)

from latentgraph.experiments.noise import chance_level
from latentgraph.io import read_knn
from latentgraph.utils import atomic_path

p = snakemake.params
df = chance_level(read_knn(snakemake.input[0]), p.ks, draws=p.draws, seed=p.seed, directed=p.directed)
with atomic_path(snakemake.output[0]) as tmp:
    df.to_csv(tmp, index=False, float_format="%.8g")
