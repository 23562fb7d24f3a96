"""Per-sample stability tables against brute force from Python sets, their means against the graph
averages, and the analysis (summary, Markdown, figure) against direct pandas computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import neighbour_sets, set_jaccard_cns

from latentgraph.compare import per_sample_table
from latentgraph.compare.per_sample import (
    BINS,
    COLUMNS,
    DTYPES,
    NO_PREDICTION,
    SUMMARY_COLUMNS,
    k_occurrence_bin,
    per_sample_markdown,
    per_sample_summary,
    read_per_sample,
    status,
    with_keys,
    write_per_sample,
)
from latentgraph.compare.similarity import compare_tables
from latentgraph.graphs.knn import KnnTable, knn_table
from latentgraph.utils import LatentGraphError

N = 48


def tables(seed: int = 0, n: int = N, kmax: int = 6) -> tuple[KnnTable, KnnTable, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(4), n // 4)
    X = (rng.normal(size=(n, 5)) + labels[:, None]).astype(np.float32)
    Y = (X + 0.5 * rng.normal(size=X.shape)).astype(np.float32)
    ids = np.arange(100, 100 + n)
    return (knn_table(X, kmax, labels, ids, backend="numpy"), knn_table(Y, kmax, labels, ids, backend="numpy"),
            labels)


def shuffled(t: KnnTable, perm: np.ndarray) -> KnnTable:
    """The same graph with its rows in another order."""
    inv = np.argsort(perm)
    return KnnTable(inv[t.indices[perm]], t.distances[perm], t.sample_id[perm], t.labels[perm], t.metric, {})


@pytest.mark.parametrize("directed", [False, True])
def test_per_sample_values_equal_brute_force_from_sets(directed):
    a, b, labels = tables()
    df = per_sample_table(a, b, [2, 4, 6], directed=directed)
    assert list(df.columns) == COLUMNS and dict(df.dtypes.astype(str)) == DTYPES
    assert len(df) == 3 * N
    for k, part in df.groupby("k"):
        jac, cns = set_jaccard_cns(neighbour_sets(a.indices, k, directed), neighbour_sets(b.indices, k, directed),
                                   labels)
        np.testing.assert_allclose(part["jaccard"], jac, rtol=0, atol=1e-7)
        np.testing.assert_allclose(part["cns"], cns, rtol=0, atol=1e-7)
        # k-occurrence: how many other samples list this one among their k nearest
        occ_a = [sum(i in set(a.indices[j, :k].tolist()) for j in range(N)) for i in range(N)]
        occ_b = [sum(i in set(b.indices[j, :k].tolist()) for j in range(N)) for i in range(N)]
        assert part["k_occurrence_a"].tolist() == occ_a and part["k_occurrence_b"].tolist() == occ_b
        assert part["k_occurrence_a"].sum() == N * k
        assert part["sample_id"].tolist() == a.sample_id.tolist() and part["label"].tolist() == labels.tolist()
    assert (df["prediction_a"] == NO_PREDICTION).all() and (df["prediction_b"] == NO_PREDICTION).all()


@pytest.mark.parametrize("directed", [False, True])
def test_means_equal_the_graph_averages(directed):
    a, b, _ = tables(1)
    df = per_sample_table(a, b, [2, 4, 6], directed=directed)
    avg = compare_tables(a, b, [2, 4, 6], directed=directed)
    means = df.groupby("k")[["jaccard", "cns"]].mean()
    np.testing.assert_allclose(means["jaccard"], avg["jaccard"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(means["cns"], avg["cns"], rtol=0, atol=1e-7)


def test_rows_follow_the_first_table_and_predictions_are_aligned():
    a, b, labels = tables(2)
    rng = np.random.default_rng(5)
    pred_a = rng.integers(0, 4, N)
    pred_b = rng.integers(0, 4, N)
    perm = rng.permutation(N)
    ref = per_sample_table(a, b, [4], prediction_a=pred_a, prediction_b=pred_b)
    # b with rows in another order (and its predictions in that order): the same rows
    got = per_sample_table(a, shuffled(b, perm), [4], prediction_a=pred_a, prediction_b=pred_b[perm])
    pd.testing.assert_frame_equal(got, ref)
    assert ref["prediction_a"].tolist() == pred_a.tolist() and ref["prediction_b"].tolist() == pred_b.tolist()


def test_bad_inputs_raise_one_line_errors():
    a, b, _ = tables()
    with pytest.raises(LatentGraphError, match="prediction_a must be"):
        per_sample_table(a, b, [2], prediction_a=np.zeros(3, dtype=int))
    with pytest.raises(LatentGraphError, match="k=7 exceeds"):
        per_sample_table(a, b, [7])
    other = knn_table(np.random.default_rng(0).normal(size=(N, 3)).astype(np.float32), 4, np.zeros(N, dtype=int),
                      np.arange(N), backend="numpy")
    with pytest.raises(LatentGraphError, match="different samples"):
        per_sample_table(a, other, [2])


def frame() -> pd.DataFrame:
    """Two comparisons of one pair of tables, with predictions that make every status occur."""
    a, b, labels = tables(3)
    rng = np.random.default_rng(7)
    pa = np.where(rng.random(N) < 0.7, labels, (labels + 1) % 4)
    pb = np.where(rng.random(N) < 0.7, labels, (labels + 2) % 4)
    one = per_sample_table(a, b, [2, 4], prediction_a=pa, prediction_b=pb)
    two = per_sample_table(b, a, [2, 4], prediction_a=pb, prediction_b=pa)
    return pd.concat([with_keys(one, comparison="ab"), with_keys(two, comparison="ba")], ignore_index=True)


def test_summary_numbers_equal_a_direct_pandas_computation():
    df = frame()
    s = per_sample_summary(df, by=["comparison"])
    assert list(s.columns) == ["comparison", *SUMMARY_COLUMNS]
    ok_a, ok_b = df["prediction_a"] == df["label"], df["prediction_b"] == df["label"]
    st = np.select([ok_a & ok_b, ok_a ^ ok_b], ["correct", "flipped"], "wrong")
    assert set(st) == {"correct", "flipped", "wrong"}
    for (comp, k), part in df.groupby(["comparison", "k"]):
        got = s[(s["comparison"] == comp) & (s["k"] == k)].set_index(["section", "item"])
        pst = st[part.index]
        for name in ("correct", "flipped", "wrong"):
            sub = part[pst == name]
            assert got.loc[("status", name), "n"] == len(sub)
            assert got.loc[("status", name), "jaccard"] == pytest.approx(sub["jaccard"].astype(float).mean())
            assert got.loc[("status", name), "cns"] == pytest.approx(sub["cns"].astype(float).mean())
        assert got.loc[("status", "all"), "jaccard"] == pytest.approx(part["jaccard"].astype(float).mean())
        for label, sub in part.groupby("label"):
            assert got.loc[("class", str(label)), "jaccard"] == pytest.approx(sub["jaccard"].astype(float).mean())
        occ = part["k_occurrence_a"]
        for name, mask in zip(BINS, [occ == 0, (occ > 0) & (occ < k), (occ >= k) & (occ <= 2 * k), occ > 2 * k],
                              strict=True):
            if mask.any():
                assert got.loc[("k_occurrence", name), "n"] == mask.sum()
                assert got.loc[("k_occurrence", name), "jaccard"] == pytest.approx(part["jaccard"][mask].mean())
            else:
                assert ("k_occurrence", name) not in got.index
        rho = part[["jaccard", "k_occurrence_a"]].astype(float).corr(method="spearman").iloc[0, 1]
        assert got.loc[("spearman", "k_occurrence_a"), "jaccard"] == pytest.approx(rho)
    # pooled (no group columns): every row of a k at once
    pooled = per_sample_summary(df)
    allrow = pooled[(pooled["section"] == "status") & (pooled["item"] == "all")]
    assert allrow["n"].tolist() == [2 * N, 2 * N]


def test_status_and_bins():
    df = pd.DataFrame({"label": [0, 0, 0, 0], "prediction_a": [0, 0, 1, -1], "prediction_b": [0, 1, 1, 0]})
    assert status(df).tolist() == ["correct", "flipped", "wrong", "unknown"]
    assert k_occurrence_bin(np.array([0, 1, 3, 4, 8, 9]), 4).tolist() == [
        BINS[0], BINS[1], BINS[1], BINS[2], BINS[2], BINS[3]]


def test_markdown_names_the_least_and_most_stable_class():
    df = frame()
    s = per_sample_summary(df, by=["comparison"])
    md = per_sample_markdown(s, by=["comparison"], title="T")
    assert md.startswith("# T") and "## comparison = ab" in md and "## comparison = ba" in md
    c = s[(s["comparison"] == "ab") & (s["k"] == 2) & (s["section"] == "class")].sort_values("jaccard")
    assert f"- k = 2: least stable class {c['item'].iloc[0]} ({c['jaccard'].iloc[0]:.3f})" in md
    assert md.count("| correctness | k = 2 | k = 4 |") == 2


def test_parquet_round_trip_is_byte_reproducible(tmp_path):
    df = frame()
    write_per_sample(df, tmp_path / "a.parquet")
    write_per_sample(df, tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    pd.testing.assert_frame_equal(read_per_sample(tmp_path / "a.parquet"), df)
    with pytest.raises(LatentGraphError, match="does not exist"):
        read_per_sample(tmp_path / "missing.parquet")


def test_figure_is_byte_reproducible(tmp_path):
    from latentgraph.plotting import plot_per_sample

    s = per_sample_summary(frame(), by=["comparison"])
    for name in ("a.png", "b.png"):
        plot_per_sample(s, tmp_path / name, by=["comparison"], title="t")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert (tmp_path / "a.png").stat().st_size > 10_000
