"""Path statistics of a kNN graph (thesis §5.1.1, Fig 5.5): diameter, path lengths, components.

- Hop statistics (edges counted, igraph): diameter, average shortest-path length over the
  connected pairs, the hop-length histogram, connected components.
- The distribution of *weighted* shortest-path lengths (edge weight = the latent distance,
  L1 for the thesis) over all ordered pairs of distinct vertices, streamed from
  :func:`latentgraph.graphs.shortest_paths.distance_blocks` in blocks of source vertices and folded into
  a fixed-width histogram (:class:`StreamingHistogram`) block by block, so no N x N matrix
  is ever held. Unreachable pairs are counted separately. The mean, minimum and maximum are
  exact; quantiles (the median) are read off the histogram with linear interpolation
  inside a bin, so their error is at most one bin width (stored beside them).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from ..utils import LatentGraphError
from .shortest_paths import distance_blocks, to_igraph

log = logging.getLogger(__name__)

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


class StreamingHistogram:
    """A histogram of non-negative values with ``bins`` equal bins on [0, upper), fed in chunks.

    The range doubles whenever a value reaches it. The final range is therefore the
    smallest ``upper * 2**j`` above the largest value, whatever the chunks and their order:
    counts and edges are exact and independent of how the values were batched.

    Parameters
    ----------
    bins : int, optional
        Number of bins, even and >= 2 (neighbouring bins are merged pairwise when the range
        doubles); default 100.
    upper : float, optional
        Initial upper end of the range, positive and finite; default 1.0.

    Raises
    ------
    LatentGraphError
        For an odd or too small ``bins``, or an invalid ``upper``.
    """

    def __init__(self, bins: int = 100, upper: float = 1.0) -> None:
        if bins < 2 or bins % 2:
            raise LatentGraphError(f"histogram bins must be an even number >= 2, got {bins}")
        if not (upper > 0 and math.isfinite(upper)):
            raise LatentGraphError(f"histogram range must be positive and finite, got {upper}")
        self.bins = int(bins)
        self.upper = float(upper)
        self.counts = np.zeros(self.bins, dtype=np.int64)
        self.n = 0
        self.total = 0.0
        self.min = math.inf
        self.max = -math.inf

    @property
    def edges(self) -> np.ndarray:
        """The bins + 1 bin edges (0 .. upper)."""
        return np.linspace(0.0, self.upper, self.bins + 1)

    @property
    def width(self) -> float:
        """The width of one bin."""
        return self.upper / self.bins

    def add(self, values: np.ndarray) -> None:
        """Add finite, non-negative values.

        Parameters
        ----------
        values : numpy.ndarray
            Values of any shape (flattened); the range doubles until it holds the largest.

        Raises
        ------
        LatentGraphError
            When a value is negative or not finite.
        """
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        if v.size == 0:
            return
        vmax = float(v.max())
        if float(v.min()) < 0 or not math.isfinite(vmax):
            raise LatentGraphError("histogram values must be finite and >= 0")
        while vmax >= self.upper:
            self.counts = self.counts.reshape(-1, 2).sum(axis=1)
            self.counts = np.concatenate([self.counts, np.zeros(self.bins // 2, dtype=np.int64)])
            self.upper *= 2.0
        b = np.minimum((v * (self.bins / self.upper)).astype(np.int64), self.bins - 1)
        # float rounding may put a value one bin off its edge; the edges are the truth
        edges = self.edges
        b -= v < edges[b]
        b += v >= edges[np.minimum(b + 1, self.bins)]
        b = np.clip(b, 0, self.bins - 1)
        self.counts += np.bincount(b, minlength=self.bins)
        self.n += v.size
        self.total += float(v.sum())
        self.min = min(self.min, float(v.min()))
        self.max = max(self.max, vmax)

    def quantile(self, q: float) -> float:
        """The q-quantile, linearly interpolated inside its bin (error at most one bin width).

        Parameters
        ----------
        q : float
            Quantile level in [0, 1].

        Returns
        -------
        float
            The quantile, clipped to the exact minimum and maximum; NaN when empty.
        """
        if self.n == 0:
            return math.nan
        cum = np.cumsum(self.counts)
        target = q * self.n
        i = int(np.searchsorted(cum, target, side="left"))
        i = min(i, self.bins - 1)
        before = cum[i - 1] if i > 0 else 0
        inside = self.counts[i]
        frac = (target - before) / inside if inside else 0.0
        lo = self.edges[i]
        return float(min(max(lo + frac * self.width, self.min), self.max))


def hop_statistics(graph: Any, directed: bool = False) -> dict[str, Any]:
    """Hop diameter, average shortest-path length, hop histogram and components (igraph).

    One all-pairs breadth-first pass (igraph's ``path_length_hist``) gives the exact count
    of pairs at every hop distance; the diameter (longest finite shortest path) and the
    mean over connected pairs (igraph's ``average_path_length(unconn=True)``) follow from it.
    Pair counts are of ordered pairs (i, j), i != j, as for the weighted distribution.

    Parameters
    ----------
    graph : igraph.Graph
        The graph; edge weights are ignored.
    directed : bool, optional
        Follow edge directions (strong components) instead of treating the graph as
        undirected (default).

    Returns
    -------
    dict
        ``diameter``, ``average_path_length``, ``lengths`` and ``counts`` (the hop
        histogram), ``unreachable_pairs``, ``components``, ``largest_component``,
        ``component_sizes`` (the 20 largest) and, when directed, ``weak_components``.
    """
    n = graph.vcount()
    hist = graph.path_length_hist(directed=directed)
    # igraph counts unordered pairs for undirected graphs
    factor = 1 if directed else 2
    lengths, counts = [], []
    for start, _end, count in hist.bins():
        if count:
            lengths.append(int(start))
            counts.append(int(count) * factor)
    comps = graph.connected_components(mode="strong" if directed else "weak")
    sizes = sorted(comps.sizes(), reverse=True)
    total = sum(counts)
    out: dict[str, Any] = {
        "diameter": max(lengths) if lengths else 0,
        "average_path_length": sum(L * c for L, c in zip(lengths, counts, strict=True)) / total if total else math.nan,
        "lengths": lengths,
        "counts": counts,
        "unreachable_pairs": int(hist.unconnected) * factor,
        "components": len(sizes),
        "largest_component": int(sizes[0]) if sizes else 0,
        "component_sizes": [int(s) for s in sizes[:20]],
    }
    if directed:
        out["weak_components"] = len(graph.connected_components(mode="weak"))
    log.info("hop diameter %d, average hop path length %.3f, %d components (largest %d of %d)",
             out["diameter"], out["average_path_length"], out["components"], out["largest_component"], n)
    return out


def weighted_path_lengths(graph: Any, bins: int = 100, batch_size: int = 256) -> dict[str, Any]:
    """Distribution of weighted shortest-path lengths over ordered pairs i != j (streamed).

    The histogram range starts at the largest edge weight and doubles as needed (see
    :class:`StreamingHistogram`), so the result does not depend on ``batch_size``.

    Parameters
    ----------
    graph : igraph.Graph
        The graph, with a ``weight`` edge attribute (non-negative lengths).
    bins : int, optional
        Number of histogram bins (even; default 100).
    batch_size : int, optional
        Source vertices per block of shortest paths (default 256).

    Returns
    -------
    dict
        ``pairs``, ``reachable_pairs``, ``unreachable_pairs``, exact ``mean`` / ``min`` /
        ``max``, histogram ``median`` and ``quantiles``, ``quantile_error_bound`` (one bin
        width), ``bin_edges`` and ``counts``.
    """
    n = graph.vcount()
    w = np.asarray(graph.es["weight"], dtype=np.float64) if graph.ecount() else np.zeros(0)
    wmax = float(w.max()) if w.size else 0.0
    hist = StreamingHistogram(bins, upper=wmax if wmax > 0 else 1.0)
    unreachable = 0
    try:
        from tqdm import tqdm

        progress = tqdm(total=n, desc="shortest paths", unit="src", mininterval=5, disable=n < 2000)
    except ImportError:  # pragma: no cover
        progress = None
    for sources, D in distance_blocks(graph, batch_size=batch_size, weights="weight"):
        finite = np.isfinite(D)
        finite[np.arange(sources.size), sources] = False  # the pair (i, i)
        unreachable += int(D.size - sources.size - np.count_nonzero(finite))
        hist.add(D[finite])
        if progress is not None:
            progress.update(sources.size)
    if progress is not None:
        progress.close()
    q = {f"{p:g}": hist.quantile(p) for p in QUANTILES}
    out = {
        "pairs": n * (n - 1),
        "reachable_pairs": hist.n,
        "unreachable_pairs": unreachable,
        "mean": hist.total / hist.n if hist.n else math.nan,
        "min": hist.min if hist.n else math.nan,
        "max": hist.max if hist.n else math.nan,
        "median": q["0.5"],
        "quantiles": q,
        "quantile_error_bound": hist.width,
        "bin_edges": hist.edges.tolist(),
        "counts": hist.counts.tolist(),
    }
    log.info("weighted path lengths over %d reachable ordered pairs: median %.4g, mean %.4g, max %.4g "
             "(%d unreachable pairs)", hist.n, out["median"], out["mean"], out["max"], unreachable)
    return out


def graph_statistics(n: int, src: np.ndarray, dst: np.ndarray, weights: np.ndarray, directed: bool = False,
                     bins: int = 100, batch_size: int = 256) -> dict[str, Any]:
    """Hop and weighted path statistics of a graph given as an edge list with non-negative weights.

    Parameters
    ----------
    n : int
        Number of vertices.
    src, dst : numpy.ndarray
        Endpoints of each edge, in 0..n-1.
    weights : numpy.ndarray
        Non-negative length of each edge.
    directed : bool, optional
        Treat the edges as directed (default: undirected).
    bins : int, optional
        Histogram bins of the weighted distribution (default 100).
    batch_size : int, optional
        Source vertices per block of shortest paths (default 256).

    Returns
    -------
    dict
        ``n_vertices``, ``n_edges``, ``directed``, ``edge_weight`` (mean, median, max),
        ``hop`` (:func:`hop_statistics`) and ``weighted`` (:func:`weighted_path_lengths`).

    Raises
    ------
    LatentGraphError
        When the edge arrays differ in length or refer to vertices outside 0..n-1.
    """
    src, dst, weights = (np.asarray(a) for a in (src, dst, weights))
    if not (src.shape == dst.shape == weights.shape):
        raise LatentGraphError("src, dst and weights must have the same length")
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        raise LatentGraphError(f"edges refer to vertices outside 0..{n - 1}")
    g = to_igraph(n, src, dst, weights, directed=directed)
    w = np.asarray(weights, dtype=np.float64)
    return {
        "n_vertices": int(n),
        "n_edges": int(src.size),
        "directed": bool(directed),
        "edge_weight": {
            "mean": float(w.mean()) if w.size else math.nan,
            "median": float(np.median(w)) if w.size else math.nan,
            "max": float(w.max()) if w.size else math.nan,
        },
        "hop": hop_statistics(g, directed=directed),
        "weighted": weighted_path_lengths(g, bins=bins, batch_size=batch_size),
    }


def knn_graph_statistics(table: Any, k: int, directed: bool = False, bins: int = 100,
                         batch_size: int = 256) -> dict[str, Any]:
    """:func:`graph_statistics` of the kNN graph at ``k`` of a :class:`latentgraph.graphs.knn.KnnTable`.

    Parameters
    ----------
    table : KnnTable
        The neighbour table; edge weights are its distances.
    k : int
        Number of neighbours, at most ``table.k``.
    directed : bool, optional
        Directed kNN graph instead of the undirected union (default).
    bins : int, optional
        Histogram bins of the weighted distribution (default 100).
    batch_size : int, optional
        Source vertices per block of shortest paths (default 256).

    Returns
    -------
    dict
        The :func:`graph_statistics` result plus ``k`` and ``metric``.
    """
    src, dst, w = table.edges(k, directed=directed)
    out = graph_statistics(table.n, src, dst, w, directed=directed, bins=bins, batch_size=batch_size)
    out["k"] = int(k)
    out["metric"] = table.metric
    return out
