"""All-pairs shortest paths on sparse graphs, streamed in blocks of source vertices.

A dense N x N distance matrix is never built: :func:`distance_blocks` yields one
(batch, N) block of shortest-path distances at a time, and callers fold each block into
what they need (class sums, histograms) before the next one is computed. Memory is
O(batch * N) for the block plus the graph itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .utils import LatentGraphError


def to_igraph(n: int, src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None, directed: bool = False) -> Any:
    """An igraph ``Graph`` with ``n`` vertices, the given edges and an optional ``weight`` attribute."""
    import igraph as ig

    g = ig.Graph(n=int(n), edges=np.column_stack([src, dst]).astype(np.int64).tolist(), directed=directed)
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        if w.size and (not np.all(np.isfinite(w)) or w.min() < 0):
            raise LatentGraphError("edge weights must be finite and non-negative for shortest paths")
        g.es["weight"] = w.tolist()
    return g


def distance_blocks(
    graph: Any,
    batch_size: int = 256,
    weights: str | None = "weight",
    sources: np.ndarray | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(sources, D)`` with D[i, j] the shortest-path distance from ``sources[i]`` to j.

    ``weights`` names the edge attribute holding lengths (None = hop counts). Unreachable
    vertices get ``inf``. Sources default to all vertices, in order.
    """
    n = graph.vcount()
    if sources is None:
        sources = np.arange(n, dtype=np.int64)
    if weights is not None and weights not in graph.es.attributes():
        raise LatentGraphError(f"graph has no edge attribute {weights!r}")
    for s in range(0, len(sources), batch_size):
        batch = np.asarray(sources[s : s + batch_size], dtype=np.int64)
        D = np.asarray(graph.distances(source=batch.tolist(), weights=weights), dtype=np.float64)
        yield batch, D
