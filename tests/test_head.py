"""Tests of latentgraph.head: the fc head without torch (predictions and .npz files)."""

from __future__ import annotations

import numpy as np
import pytest

from latentgraph.head import head_predict, read_head, write_head
from latentgraph.utils import LatentGraphError


def test_head_predict_is_the_extract_one_and_matches_argmax():
    import latentgraph.nets.extraction as extract

    assert extract.head_predict is head_predict  # moved, still importable from extract
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 6)).astype(np.float32)
    W, b = rng.normal(size=(4, 6)), rng.normal(size=4)
    expected = np.argmax(X.astype(np.float64) @ W.T + b, axis=1)
    assert np.array_equal(head_predict(X, W, b), expected)
    assert np.array_equal(head_predict(X, W, b, block=7), expected)
    with pytest.raises(LatentGraphError, match="dims"):
        head_predict(X[:, :5], W, b)


def test_head_file_roundtrip(tmp_path):
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(3, 5)), rng.normal(size=3)
    write_head(tmp_path / "h.npz", W, b, epoch=4)
    W2, b2 = read_head(tmp_path / "h.npz")
    assert np.array_equal(W, W2) and np.array_equal(b, b2)
    assert not list(tmp_path.glob(".*tmp*"))
    with pytest.raises(LatentGraphError, match="does not exist"):
        read_head(tmp_path / "missing.npz")
    np.savez(tmp_path / "bad.npz", weight=W)
    with pytest.raises(LatentGraphError, match="not a head file"):
        read_head(tmp_path / "bad.npz")
    with pytest.raises(LatentGraphError, match="do not fit"):
        write_head(tmp_path / "x.npz", W, b[:2])
    assert not (tmp_path / "x.npz").exists()
