"""Fixtures of the experiments' table tests: kNN tables of two small seeded runs."""

from __future__ import annotations

import numpy as np
import pytest

from latentgraph.graphs.knn import knn_table

N, K = 60, 4  # samples, k of the tables


@pytest.fixture(scope="module")
def graphs():
    """kNN tables of two runs at epochs 2..4: latents drift a little per epoch, runs differ by seed."""
    labels = np.repeat(np.arange(3), N // 3)
    out = {}
    for run, seed in (("A", 0), ("B", 1)):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(N, 5)) + labels[:, None]
        for epoch in (2, 3, 4):
            X = X + 0.3 * rng.normal(size=X.shape)
            out[(run, epoch)] = knn_table(X.astype(np.float32), K, labels, np.arange(N), backend="numpy")
    return out, labels

