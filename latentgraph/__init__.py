"""latentgraph: explore the latent spaces of deep networks with network science.

A small library of plain functions over arrays (the Snakemake workflow is a thin layer on
top of it):

- :func:`knn` / :func:`knn_graph` - exact k-nearest-neighbour tables and graphs (L1);
- :func:`jaccard` / :func:`cns` - graph average Jaccard and class neighbourhood similarity;
- :func:`mutual_knn`, :func:`cka_linear`, :func:`spectral_distance`, :func:`hubness`,
  :func:`permutation_null` - measures beyond the thesis (:mod:`latentgraph.compare.measures`);
- :func:`read_latents` / :func:`write_latents` - the Parquet latents format.

Importing the package is cheap: heavy dependencies load when a function needs them.
"""

from __future__ import annotations

from .utils import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "knn": "latentgraph.graphs.knn",
    "knn_graph": "latentgraph.graphs.knn",
    "knn_table": "latentgraph.graphs.knn",
    "adjacency": "latentgraph.graphs.knn",
    "KnnTable": "latentgraph.graphs.knn",
    "jaccard": "latentgraph.compare.similarity",
    "cns": "latentgraph.compare.similarity",
    "jaccard_per_vertex": "latentgraph.compare.similarity",
    "cns_per_vertex": "latentgraph.compare.similarity",
    "compare_tables": "latentgraph.compare.similarity",
    "mutual_knn": "latentgraph.compare.measures",
    "cns_symmetric": "latentgraph.compare.measures",
    "cka_linear": "latentgraph.compare.measures",
    "laplacian_spectrum": "latentgraph.compare.measures",
    "spectral_distance": "latentgraph.compare.measures",
    "hubness": "latentgraph.compare.measures",
    "permutation_null": "latentgraph.compare.measures",
    "read_latents": "latentgraph.io",
    "write_latents": "latentgraph.io",
    "read_knn": "latentgraph.io",
    "write_knn": "latentgraph.io",
    "Latents": "latentgraph.io",
    "LatentGraphError": "latentgraph.utils",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
