"""The experiments' tables: stability, noise, class graph, layers, pruning tables, measure tables, the thesis's published values; sharded jobs.

No PyTorch: they read latents and kNN tables written by the torch side.

Modules: :mod:`.stability`, :mod:`.noise`, :mod:`.classgraph`, :mod:`.layers`, :mod:`.pruning`, :mod:`.measure_tables`, :mod:`.thesis`,
:mod:`.sharding` (kNN and class graph split over cluster jobs).
Every public name below is importable from the package (loaded on first use).
"""

from __future__ import annotations

from ..utils import lazy_exports

#: public name -> the module that defines it
_EXPORTS = {
    "seed_pair_name": ".stability",
    "stability_pairs": ".stability",
    "stability_table": ".stability",
    "stability_markdown": ".stability",
    "summarise_stability": ".stability",
    "describe": ".stability",
    "p_key": ".noise",
    "parse_p_key": ".noise",
    "canonical_grid": ".noise",
    "noise_seed": ".noise",
    "variance_vector": ".noise",
    "variance_summary": ".noise",
    "noise_l1_norm": ".noise",
    "perturb": ".noise",
    "noise_point": ".noise",
    "check_clean_accuracy": ".noise",
    "random_neighbours": ".noise",
    "null_table": ".noise",
    "chance_level": ".noise",
    "expected_null_jaccard": ".noise",
    "majority_share": ".noise",
    "ClassGraphWarning": ".classgraph",
    "ClassDistances": ".classgraph",
    "class_distances": ".classgraph",
    "class_distances_from_latents": ".classgraph",
    "staged_paths": ".classgraph",
    "write_class_distances": ".classgraph",
    "read_class_distances": ".classgraph",
    "class_neighbors": ".classgraph",
    "class_knn_graph": ".classgraph",
    "analyse_class_graph": ".classgraph",
    "summary_markdown": ".classgraph",
    "write_class_graph": ".classgraph",
    "plot_class_graph_files": ".classgraph",
    "compare_layer": ".layers",
    "layers_markdown": ".layers",
    "read_summary": ".pruning",
    "pruning_table": ".pruning",
    "pruning_markdown": ".pruning",
    "seed_reference": ".pruning",
    "hubness_table": ".measure_tables",
    "hubness_markdown": ".measure_tables",
    "load_reference": ".thesis",
    "compare_to_thesis": ".thesis",
    "comparison_markdown": ".thesis",
    "summarise_noise": ".noise",
    "knn_shard": ".sharding",
    "gather_knn_shards": ".sharding",
    "class_distance_shard": ".sharding",
    "write_class_shard": ".sharding",
    "read_class_shard": ".sharding",
    "gather_class_distances": ".sharding",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
