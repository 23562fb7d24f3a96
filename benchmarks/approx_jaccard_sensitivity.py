"""How much Jaccard and CNS change when the exact kNN graphs are replaced by approximate ones,
at the recall measured: on the demo's latents (runs A and B, the stability window).

    python benchmarks/approx_jaccard_sensitivity.py [--results results/digits-demo] [--k 4 16]

For each approximate setting: its recall@16 (knn_approx.build_knn_table, 1,000 seeded
queries = all 899 rows of the demo), the Jaccard between each approximate graph and the exact
graph of the same latents (the graph's own error), and the epoch-to-epoch and seed-to-seed
stability Jaccard/CNS computed from approximate graphs next to the exact ones (the error the
experiment's numbers inherit). Needs the demo's latents (``snakemake --cores all`` first).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from common import REPO, write

from latentgraph.compare.similarity import compare_tables
from latentgraph.experiments.stability import stability_table
from latentgraph.graphs.knn import knn_table
from latentgraph.graphs.knn_approx import build_knn_table
from latentgraph.io import read_latents

SETTINGS = [
    ("hnsw", {"M": 4, "efConstruction": 8, "efSearch": 4}),
    ("hnsw", {"M": 8, "efConstruction": 16, "efSearch": 8}),
    ("ivf", {"nlist": 30, "nprobe": 1}),
    ("ivf", {"nlist": 30, "nprobe": 2}),
    ("ivf", {"nlist": 30, "nprobe": 4}),
    ("hnsw", {"M": 32, "efConstruction": 80, "efSearch": 64}),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", default=str(REPO / "results" / "digits-demo"))
    ap.add_argument("--k", type=int, nargs="+", default=[4, 16])
    ap.add_argument("--runs", nargs="+", default=["A", "B"])
    ap.add_argument("--epochs", type=int, nargs="+", default=[11, 12, 13, 14, 15, 16])
    args = ap.parse_args()
    kmax = max(args.k)
    lat = {(r, e): read_latents(Path(args.results) / "latents" / r / f"epoch_{e:03d}.parquet")
           for r in args.runs for e in args.epochs}
    exact = {key: knn_table(v.X, kmax, v.labels, v.sample_id) for key, v in lat.items()}
    ref = stability_table(exact, args.runs, args.epochs, args.k)
    rows = []
    for method, params in SETTINGS:
        approx = {key: build_knn_table(v.X, kmax, v.labels, v.sample_id, method=method, params=params,
                                       recall_ks=args.k) for key, v in lat.items()}
        recall = {k: float(np.mean([t.metadata["recall_by_k"][str(k)] for t in approx.values()])) for k in args.k}
        own = {k: float(np.mean([compare_tables(exact[key], approx[key], [k])["jaccard"].iloc[0] for key in lat]))
               for k in args.k}
        st = stability_table(approx, args.runs, args.epochs, args.k)
        diff = {}
        for comp in ("epoch", "seed"):
            for col in ("jaccard", "cns"):
                for k in args.k:
                    sel = (ref["comparison"] == comp) & (ref["k"] == k)
                    diff[f"{comp}_{col}_{k}"] = {
                        "exact": float(ref.loc[sel, col].mean()), "approx": float(st.loc[sel, col].mean()),
                        "max_abs_diff": float(np.abs(ref.loc[sel, col].to_numpy() - st.loc[sel, col].to_numpy()).max())}
        rows.append({"method": method, "params": approx[next(iter(approx))].metadata["method_params"],
                     "recall": recall, "jaccard_vs_exact": own, "stability": diff})
        print(method, params, recall, own, flush=True)
    lo, hi = min(args.k), kmax
    lines = [f"Demo latents ({next(iter(lat.values())).n} test digits, runs {', '.join(args.runs)}, epochs "
             f"{args.epochs[0]}-{args.epochs[-1]}: {len(lat)} graphs). Recall: mean over the graphs; 'graph vs exact': "
             "Jaccard of each approximate graph with the exact graph of the same latents; stability columns: mean "
             "over the window from approximate graphs (exact in the first row), largest change of one entry in brackets.",
             "",
             f"| method | parameters | recall@{lo} | recall@{hi} | graph vs exact, Jaccard k={lo} | k={hi} | "
             f"epoch-to-epoch Jaccard k={lo} | seed-to-seed Jaccard k={lo} | seed-to-seed CNS k={lo} |",
             "|---|---|---|---|---|---|---|---|---|"]
    first = rows[0]["stability"]
    lines.append(f"| exact | | 1 | 1 | 1 | 1 | {first[f'epoch_jaccard_{lo}']['exact']:.4f} | "
                 f"{first[f'seed_jaccard_{lo}']['exact']:.4f} | {first[f'seed_cns_{lo}']['exact']:.4f} |")
    for r in rows:
        s = r["stability"]
        p = ", ".join(f"{a}={b}" for a, b in r["params"].items())
        cell = lambda key, s=s: f"{s[key]['approx']:.4f} ({s[key]['max_abs_diff']:.4f})"  # noqa: E731
        lines.append(f"| {r['method']} | {p} | {r['recall'][lo]:.4f} | {r['recall'][hi]:.4f} | "
                     f"{r['jaccard_vs_exact'][lo]:.4f} | {r['jaccard_vs_exact'][hi]:.4f} | {cell(f'epoch_jaccard_{lo}')} | "
                     f"{cell(f'seed_jaccard_{lo}')} | {cell(f'seed_cns_{lo}')} |")
    write("approx_jaccard_sensitivity", {"results": args.results, "rows": rows}, "\n".join(lines))


if __name__ == "__main__":
    main()
