"""The graph side: exact kNN search, shortest paths, graph statistics, GraphML/GEXF export.

No PyTorch: numpy, scipy, igraph, numba and FAISS only.

Modules: :mod:`.knn`, :mod:`.shortest_paths`, :mod:`.path_stats`, :mod:`.network_stats`, :mod:`.export`.
Every public name below is importable from the package (loaded on first use); the search
function ``knn`` is ``latentgraph.knn`` (here ``graphs.knn`` is its module).
"""

from __future__ import annotations

from ..utils import lazy_exports

#: public name -> the module that defines it
_EXPORTS = {
    "KnnTable": ".knn",
    "faiss_has_gpu": ".knn",
    "gpu_names": ".knn",
    "cpu_name": ".knn",
    "device_name": ".knn",
    "check_faiss_gpu": ".knn",
    "resolve_knn_backend": ".knn",
    "edges": ".knn",
    "adjacency": ".knn",
    "csr_from_edges": ".knn",
    "knn_graph": ".knn",
    "knn_table": ".knn",
    "align": ".knn",
    "to_igraph": ".shortest_paths",
    "to_csr": ".shortest_paths",
    "distance_blocks": ".shortest_paths",
    "ClassPathSums": ".shortest_paths",
    "class_path_sums": ".shortest_paths",
    "StreamingHistogram": ".path_stats",
    "hop_statistics": ".path_stats",
    "weighted_path_lengths": ".path_stats",
    "graph_statistics": ".path_stats",
    "knn_graph_statistics": ".path_stats",
    "k_occurrence_skewness": ".network_stats",
    "name_attribute": ".network_stats",
    "vertex_names": ".network_stats",
    "check_distances": ".network_stats",
    "similarity_weights": ".network_stats",
    "measures": ".network_stats",
    "degree_distribution": ".network_stats",
    "hubs": ".network_stats",
    "Communities": ".network_stats",
    "communities": ".network_stats",
    "graph_summary": ".network_stats",
    "to_json": ".network_stats",
    "format_summary": ".network_stats",
    "measures_markdown": ".network_stats",
    "load_graph": ".network_stats",
    "default_distance_attribute": ".network_stats",
    "community_color": ".export",
    "layout": ".export",
    "node_table": ".export",
    "edge_table": ".export",
    "write_csv": ".export",
    "write_graphml": ".export",
    "write_gexf": ".export",
    "resolve_path_backend": ".shortest_paths",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
