"""Shared test helpers: the repository paths, the tiny workflow config, a Snakemake runner,
YAML files, config validation as the Snakefile does it, and small data builders (kNN graphs
with a networkx oracle, an ImageFolder of generated images).

Tests import them with ``from helpers import ...``; ``conftest.py`` keeps only fixtures.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import yaml

from latentgraph.graphs.knn import edges, knn

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "data" / "tiny.yaml"


SCHEMA = str(REPO / "schemas" / "config.schema.yaml")


def full(config: dict) -> dict:
    """Validate like the Snakefile does (readable errors, then defaults, then cross checks)."""
    from snakemake.utils import validate

    from latentgraph.config import check_config, validate_config

    config = copy.deepcopy(config)
    validate_config(config, SCHEMA)
    validate(config, SCHEMA)
    check_config(config)
    return config


def snakemake(workdir: Path, *args: str, configfile: Path | None = TINY, check: bool = True,
              timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the repository's Snakefile with ``workdir`` as working directory."""
    # targets and options first: --quiet and --configfile take several values
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--cores", "2", *args, "--quiet", "rules"]
    if configfile is not None:
        cmd += ["--configfile", str(configfile)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # an ordinary umask: result files must come out readable by the group and others
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                          preexec_fn=lambda: os.umask(0o022))
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def load_yaml(path: Path) -> dict:
    with open(path) as fh:
        return yaml.safe_load(fh)


def write_yaml(path: Path, data: dict) -> Path:
    with open(path, "w") as fh:
        yaml.safe_dump(data, fh, sort_keys=False)
    return path



# --------------------------------------------------------------------------- graphs


def nx_distances(n: int, src, dst, w=None) -> np.ndarray:
    """Dense all-pairs distances by networkx Dijkstra (inf = unreachable), the oracle."""
    G = nx.Graph()
    G.add_nodes_from(range(n))
    w = np.ones(len(src)) if w is None else w
    for a, b, x in zip(np.asarray(src).tolist(), np.asarray(dst).tolist(), np.asarray(w).tolist(), strict=True):
        if a == b:
            continue
        if G.has_edge(a, b):  # repeated edge: the shorter one counts
            x = min(x, G[a][b]["weight"])
        G.add_edge(a, b, weight=x)
    D = np.full((n, n), np.inf)
    for i, lengths in nx.all_pairs_dijkstra_path_length(G):
        for j, d in lengths.items():
            D[i, j] = d
    return D


def neighbour_sets(order: np.ndarray, k: int, directed: bool = False) -> list[set[int]]:
    """Each vertex's neighbours from the first ``k`` columns of ``order`` (vertex indices); undirected:
    ``i`` is also a neighbour of each of its neighbours."""
    n = order.shape[0]
    out = [set(int(j) for j in order[i, :k]) for i in range(n)]
    if not directed:
        for i in range(n):
            for j in list(out[i]):
                out[j].add(i)
    return out


def set_jaccard_cns(A: list[set[int]], B: list[set[int]], labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-vertex Jaccard and CNS of two graphs given as neighbour sets, by Python set and count
    operations (thesis eqs. 2.4, 2.5: CNS is the multiset intersection of neighbour labels over
    A's degree)."""
    C = int(labels.max()) + 1
    jac = np.array([len(A[i] & B[i]) / len(A[i] | B[i]) for i in range(len(A))])
    cns = np.array([np.minimum(np.bincount(labels[list(A[i])], minlength=C),
                               np.bincount(labels[list(B[i])], minlength=C)).sum() / len(A[i]) for i in range(len(A))])
    return jac, cns


def brute_class_sums(D: np.ndarray, labels: np.ndarray):
    """Sums and counts over ordered pairs s != t per class pair, by explicit loops."""
    classes = np.unique(labels)
    C = classes.size
    pos = {c: i for i, c in enumerate(classes)}
    S = np.zeros((C, C))
    P = np.zeros((C, C), dtype=np.int64)
    T = np.zeros((C, C), dtype=np.int64)
    n = labels.size
    for s in range(n):
        for t in range(n):
            if s == t:
                continue
            i, j = pos[labels[s]], pos[labels[t]]
            T[i, j] += 1
            if np.isfinite(D[s, t]):
                S[i, j] += D[s, t]
                P[i, j] += 1
    return S, P, T


def knn_graph(n=120, C=4, d=6, k=3, seed=0, spread=0.8):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, C, n)
    X = rng.normal(size=(C, d))[labels] * spread + rng.normal(size=(n, d))
    idx, dist = knn(X, k, backend="numpy")
    s, t, w = edges(idx, distances=dist)
    return labels, s, t, w


def disconnected_graph():
    """Three components: a weighted path, a triangle, and an isolated vertex."""
    src = np.array([0, 1, 2, 4, 5, 6])
    dst = np.array([1, 2, 3, 5, 6, 4])
    w = np.array([1.5, 0.5, 2.0, 1.0, 3.0, 0.25])
    labels = np.array([0, 1, 0, 2, 1, 2, 0, 1])
    return 8, src, dst, w, labels


# --------------------------------------------------------------------------- images


def make_imagefolder(root, n_classes=3, per_class=4, size=20, seed=0):
    """A val-only ImageNet-style folder of generated PNGs (class folders in sorted order)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for c in range(n_classes):
        d = root / "val" / f"n{c:08d}"
        d.mkdir(parents=True)
        base = rng.integers(0, 255, size=(size, size, 3))
        for i in range(per_class):
            img = np.clip(base + rng.normal(0, 30, size=base.shape), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(d / f"img_{i}.png")
    (root / "names.txt").write_text("\n".join(f"class {c}" for c in range(n_classes)) + "\n")
    return root


# --------------------------------------------------------------------------- spies


def spy_training_settings(monkeypatch) -> dict:
    """Record what training passes on: ``seen["deterministic"]`` (to ``configure_torch``) and
    ``seen["evaluate"]`` (the keyword arguments of ``evaluate``); the real functions still run."""
    import latentgraph.nets.training as T

    seen: dict = {}
    real_evaluate, real_configure = T.evaluate, T.configure_torch

    def evaluate(*args, **kw):
        seen["evaluate"] = kw
        return real_evaluate(*args, **kw)

    def configure(device, threads=None, deterministic=False):
        seen["deterministic"] = deterministic
        return real_configure(device, threads, deterministic)

    monkeypatch.setattr(T, "evaluate", evaluate)
    monkeypatch.setattr(T, "configure_torch", configure)
    return seen

