"""Comparing two representations: graph average Jaccard and CNS (the thesis's measures) and the measures beyond it, with permutation nulls.

No PyTorch.

Modules: :mod:`.similarity`, :mod:`.measures`, :mod:`.registry` (the one list of measures),
:mod:`.shape` (Procrustes, CCA family, RSA, RBF CKA), :mod:`.neighbours` (CKNNA, kNN rank and
second-order cosine similarity), :mod:`.per_sample` (the values behind
every graph average).
Every public name below is importable from the package (loaded on first use).
"""

from __future__ import annotations

from ..utils import lazy_exports

#: public name -> the module that defines it
_EXPORTS = {
    "as_structure": ".similarity",
    "jaccard_per_vertex": ".similarity",
    "jaccard": ".similarity",
    "cns_per_vertex": ".similarity",
    "cns": ".similarity",
    "compare_tables": ".similarity",
    "mutual_knn_per_vertex": ".measures",
    "mutual_knn": ".measures",
    "cns_symmetric": ".measures",
    "LinearCKA": ".measures",
    "cka_linear": ".measures",
    "laplacian_spectrum": ".measures",
    "spectral_distance": ".measures",
    "spectral_distance_from": ".measures",
    "k_occurrence": ".measures",
    "hubness": ".measures",
    "hubness_null": ".measures",
    "Null": ".measures",
    "permute_table": ".measures",
    "permutation_null": ".measures",
    "check_measures": ".measures",
    "columns": ".measures",
    "compare": ".measures",
    "per_sample_table": ".per_sample",
    "per_sample_summary": ".per_sample",
    "per_sample_markdown": ".per_sample",
    "write_per_sample": ".per_sample",
    "read_per_sample": ".per_sample",
    "Measure": ".registry",
    "REGISTRY": ".registry",
    "procrustes": ".shape",
    "procrustes_angular": ".shape",
    "procrustes_size_shape": ".shape",
    "canonical_correlations": ".shape",
    "mean_cca": ".shape",
    "svcca": ".shape",
    "pwcca": ".shape",
    "rsa": ".shape",
    "cka_rbf": ".shape",
    "cknna": ".neighbours",
    "knn_rank_similarity": ".neighbours",
    "second_order_cosine": ".neighbours",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
