"""Tests of the sampled class distances (classgraph.sources_per_class): exactness at m = class size,
convergence, measured coverage of the 95 % intervals, files, the ambiguous-edge count and bad m."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from latentgraph.experiments.classgraph import (
    ambiguous_edges,
    analyse_class_graph,
    check_sources_per_class,
    class_distances,
    class_distances_from_latents,
    read_class_distances,
    sample_sources,
    sampled_class_distances,
    summary_markdown,
    write_class_distances,
)
from latentgraph.graphs.knn import edges, knn
from latentgraph.io import Latents
from latentgraph.utils import LatentGraphError

C, PER = 6, 60  # classes, samples per class


@pytest.fixture(scope="module")
def graph():
    """A connected kNN graph (k = 4) of overlapping Gaussian classes, and its exact matrix."""
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(C), PER)
    X = ((rng.normal(size=(C, 12)) * 0.6)[labels] + rng.normal(size=(C * PER, 12))).astype(np.float32)
    idx, dist = knn(X, 4, backend="numpy")
    src, dst, w = edges(idx, k=4, distances=dist)
    exact = class_distances(labels, src, dst, w)
    assert exact.metadata["n_components"] == 1
    return X, labels, src, dst, w, exact


def test_all_sources_give_the_exact_matrix(graph):
    _, labels, src, dst, w, exact = graph
    cd = sampled_class_distances(labels, src, dst, w, PER)
    np.testing.assert_allclose(cd.mean, exact.mean, rtol=1e-12)
    np.testing.assert_array_equal(cd.pairs, exact.pairs)
    np.testing.assert_array_equal(cd.total, exact.total)
    assert np.all(cd.se == 0)  # finite-population correction: no sampling error left
    hops = sampled_class_distances(labels, src, dst, None, PER, weights="hops")
    np.testing.assert_allclose(hops.mean, class_distances(labels, src, dst, None, weights="hops").mean, rtol=1e-12)


def test_backends_agree(graph):
    _, labels, src, dst, w, _ = graph
    a = sampled_class_distances(labels, src, dst, w, 7, seed=3, backend="numba")
    b = sampled_class_distances(labels, src, dst, w, 7, seed=3, backend="scipy")
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-12)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-9)


def test_converges_as_m_grows(graph):
    """Mean (over 10 seeds) of the largest relative error falls as m grows, to 0 at m = class size."""
    _, labels, src, dst, w, exact = graph
    errs = []
    for m in (3, 10, 30, PER):
        e = [np.max(np.abs(sampled_class_distances(labels, src, dst, w, m, seed=s).mean - exact.mean) / exact.mean)
             for s in range(10)]
        errs.append(float(np.mean(e)))
    assert errs[0] > errs[1] > errs[2] > errs[3] and errs[3] < 1e-12
    assert errs[2] < 0.5 * errs[0]


@pytest.mark.parametrize("m", [10, 20])
def test_intervals_cover_about_95_percent(graph, m):
    """Nominal 95 % intervals cover the exact value in 0.95 +- 0.035 of the (pair, seed) cases.

    40 seeds x 36 class pairs; pairs of one draw are correlated, so the tolerance is wider
    than a binomial one (measured: 0.95-0.96 at m = 10 and 20).
    """
    _, labels, src, dst, w, exact = graph
    hits = []
    for seed in range(40):
        cd = sampled_class_distances(labels, src, dst, w, m, seed=seed)
        hits.append((cd.ci_low <= exact.mean) & (exact.mean <= cd.ci_high))
    coverage = float(np.mean(hits))
    assert abs(coverage - 0.95) < 0.035, coverage


def test_seeded_sources(graph):
    _, labels, *_ = graph
    a, b = sample_sources(labels, 5, seed=1), sample_sources(labels, 5, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, sample_sources(labels, 5, seed=2))
    assert a.size == 5 * C and np.all(np.bincount(labels[a]) == 5)


def test_bad_m(graph):
    _, labels, src, dst, w, _ = graph
    uneven = labels.copy()
    uneven[:55] = 1  # class 0 keeps 5 samples
    with pytest.raises(LatentGraphError, match=r"sources_per_class = 10 is larger than class 'zero' \(label 0\), "
                                               r"which has 5 samples"):
        check_sources_per_class(uneven, 10, ["zero", "one", "2", "3", "4", "5"])
    with pytest.raises(LatentGraphError, match="sources_per_class = 61 is larger than class '0'"):
        sampled_class_distances(labels, src, dst, w, 61)
    with pytest.raises(LatentGraphError, match="integer >= 2"):
        sampled_class_distances(labels, src, dst, w, 1)


def test_bad_m_fails_before_the_search(graph, monkeypatch):
    """From latents: a too-large m fails before the kNN search runs."""
    X, labels, *_ = graph
    import latentgraph.graphs.knn as knn_mod

    def boom(*a, **k):
        raise AssertionError("searched")

    monkeypatch.setattr(knn_mod, "knn", boom)
    lat = Latents(X=X, labels=labels, sample_id=np.arange(labels.size), prediction=None, metadata={})
    with pytest.raises(LatentGraphError, match="larger than class"):
        class_distances_from_latents(lat, 4, sources_per_class=PER + 1)


def test_files_and_class_graph(graph, tmp_path):
    """Error bars beside the means in the Parquet file; the exact file keeps its columns; ambiguous edges."""
    X, labels, src, dst, w, exact = graph
    lat = Latents(X=X, labels=labels, sample_id=np.arange(labels.size), prediction=None, metadata={})
    cd = class_distances_from_latents(lat, 4, knn_backend="numpy", sources_per_class=8, seed=4)
    assert cd.metadata["sources_per_class"] == 8 and cd.metadata["sources_seed"] == 4
    p = write_class_distances(tmp_path / "cd.parquet", cd)
    assert {"se", "ci_low", "ci_high"} <= set(pq.read_schema(p).names)
    back = read_class_distances(p)
    np.testing.assert_array_equal(back.se, cd.se)
    np.testing.assert_array_equal(back.ci_high, cd.ci_high)
    q = write_class_distances(tmp_path / "exact.parquet", exact)
    assert "se" not in pq.read_schema(q).names and read_class_distances(q).se is None

    amb = ambiguous_edges(back, 2)
    assert 0 <= amb["ambiguous_edges"] <= amb["edges"] and amb["selections"] == 2 * C
    g, summary = analyse_class_graph(back, 2)
    assert summary["class_graph"]["ambiguity"] == amb
    assert "ambiguous within the 95% intervals" in summary_markdown(summary)
    json.dumps(summary["class_graph"])
    _, plain = analyse_class_graph(exact, 2)
    assert "ambiguity" not in plain["class_graph"]
    with pytest.raises(LatentGraphError, match="needs a class distance matrix with intervals"):
        ambiguous_edges(exact, 2)


def test_ambiguous_edges_by_hand():
    """Three classes, class_k = 1: overlapping intervals make the edge ambiguous, separated ones do not."""
    from latentgraph.experiments.classgraph import ClassDistances

    mean = np.array([[1.0, 2.0, 2.2], [2.0, 1.0, 5.0], [2.2, 5.0, 1.0]])
    half = np.full((3, 3), 0.15)
    cd = ClassDistances(mean=mean, pairs=np.ones((3, 3), int), total=np.ones((3, 3), int), classes=np.arange(3),
                        names=["a", "b", "c"], sizes=np.full(3, 5), accuracy=np.full(3, np.nan),
                        se=half / 2, ci_low=mean - half, ci_high=mean + half)
    # a selects b (2.0 +- .15 overlaps c's 2.2 +- .15): ambiguous; b selects a (next: c at 5): not;
    # c selects a (next: b at 5): not. Edges {a,b} (one of its selections sure) and {a,c}: none ambiguous.
    r = ambiguous_edges(cd, 1)
    assert (r["edges"], r["ambiguous_edges"], r["selections"], r["ambiguous_selections"]) == (2, 0, 3, 1)
    cd.ci_low[1, 0] = 0.0  # now b's choice of a is doubtful too -> edge {a,b} ambiguous
    cd.ci_low[1, 2] = 1.5
    assert ambiguous_edges(cd, 1)["ambiguous_edges"] == 1
