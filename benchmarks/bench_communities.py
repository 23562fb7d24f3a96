"""Community detection on class graphs: Louvain (igraph) and Leiden (leidenalg), as
``latentgraph.graphs.network_stats.communities`` runs them, against networkx's ``louvain_communities``
on the same graph with the same similarity weights, in one run.

Graphs: the thesis's published ImageNet class graph (1,000 classes, 3,158 edges; read from
``../shared/reference/thesis_imagenet_class_graph`` when that folder exists) and synthetic
class graphs built the way the workflow builds them (a class-k = 4 kNN graph over a C x C
distance matrix of clustered class means; similarity = min distance / distance).

    python benchmarks/bench_communities.py [--classes 1000 10000] [--repeat 5]

Writes results/benchmarks/bench_communities.{json,md}.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import REPO, timeit, versions, write

from latentgraph.experiments.classgraph import class_neighbors
from latentgraph.graphs.network_stats import communities, load_graph, similarity_weights


def synthetic_class_graph(c: int, seed: int = 0):
    """Class kNN graph (class-k 4) over L1 distances between clustered class means."""
    import igraph as ig

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(c // 50, 2), 32))
    means = centres[rng.integers(0, len(centres), size=c)] + 1.0 * rng.normal(size=(c, 32))
    D = _l1_blocks(means)
    nb = class_neighbors(D, 4)  # the workflow's class-k = 4 neighbours
    i, j = np.repeat(np.arange(c), 4), nb.reshape(-1)
    key = np.unique(np.minimum(i, j) * c + np.maximum(i, j))
    lo, hi = key // c, key % c
    g = ig.Graph(n=c, edges=np.column_stack([lo, hi]).tolist())
    g.es["weight"] = D[lo, hi].tolist()
    return g


def _l1_blocks(m: np.ndarray) -> np.ndarray:
    """All-pairs L1 distances between the rows of ``m``, 500 rows at a time."""
    out = np.empty((len(m), len(m)))
    for i in range(0, len(m), 500):
        out[i : i + 500] = np.abs(m[i : i + 500, None, :] - m[None, :, :]).sum(-1)
    return out


def nx_louvain(g, w: np.ndarray, seed: int) -> list[int]:
    import networkx as nx

    G = nx.Graph()
    G.add_nodes_from(range(g.vcount()))
    G.add_weighted_edges_from((a, b, float(x)) for (a, b), x in zip(g.get_edgelist(), w, strict=True))
    parts = nx.community.louvain_communities(G, weight="weight", seed=seed)
    member = np.empty(g.vcount(), dtype=int)
    for i, p in enumerate(parts):
        member[list(p)] = i
    return member.tolist()


def bench(name: str, g, repeat: int) -> list[dict]:
    w = similarity_weights(np.asarray(g.es["weight"], dtype=float))
    rows = []
    t_nx, m_nx = timeit(lambda: nx_louvain(g, w, 0), repeat=repeat)
    q_nx = g.modularity(m_nx, weights=w.tolist())
    rows.append({"graph": name, "nodes": g.vcount(), "edges": g.ecount(), "method": "networkx louvain",
                 "seconds": t_nx, "communities": len(set(m_nx)), "modularity": q_nx, "speedup": 1.0})
    for method in ("louvain", "leiden"):
        t, c = timeit(lambda m=method: communities(g, m, weights=w, seed=0), repeat=repeat)
        rows.append({"graph": name, "nodes": g.vcount(), "edges": g.ecount(),
                     "method": "igraph louvain" if method == "louvain" else "leidenalg leiden",
                     "seconds": t, "communities": int(c.membership.max() + 1), "modularity": c.modularity,
                     "speedup": t_nx / t})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--classes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rows: list[dict] = []
    ref = Path(REPO).parent / "shared" / "reference" / "thesis_imagenet_class_graph"
    if (ref / "edges.csv").exists():
        rows += bench("thesis ImageNet class graph", load_graph(ref / "edges.csv", nodes=ref / "nodes.csv"),
                      args.repeat)
    for c in args.classes:
        rows += bench(f"synthetic, {c} classes", synthetic_class_graph(c), args.repeat)
    md = [f"| graph | nodes | edges | method | seconds (best of {args.repeat}) | communities | modularity | "
          "speed-up vs networkx |", "|---|---|---|---|---|---|---|---|"]
    md += [f"| {r['graph']} | {r['nodes']} | {r['edges']} | {r['method']} | {r['seconds']:.4f} | "
           f"{r['communities']} | {r['modularity']:.4f} | {r['speedup']:.1f}x |" for r in rows]
    write("bench_communities", {"rows": rows, "versions": versions("igraph", "leidenalg", "networkx")},
          "\n".join(md))


if __name__ == "__main__":
    main()
