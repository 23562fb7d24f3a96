"""Every stage's per-sample table (stability, noise, pruning, layers): its rows are the stage's
comparisons, and the means of its ``jaccard`` and ``cns`` columns equal the stage table's
graph averages at every k."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import neighbour_sets, set_jaccard_cns

from latentgraph.compare.per_sample import COLUMNS
from latentgraph.experiments import layers, noise, pruning, stability
from latentgraph.graphs.knn import knn_table
from latentgraph.head import head_predict
from latentgraph.io import Latents

ATOL = 1e-7  # float32 per-sample values against float64 averages


def assert_means_equal(samples: pd.DataFrame, table: pd.DataFrame, keys: list[str], cols: dict[str, str]) -> None:
    """The mean of each per-sample column per (keys, k) equals the table's column, row for row."""
    means = samples.groupby([*keys, "k"], sort=False)[list(cols)].mean().reset_index()
    merged = table.merge(means, on=[*keys, "k"], how="left", suffixes=("", "_samples"), validate="one_to_one")
    assert len(merged) == len(table)
    for sample_col, table_col in cols.items():
        other = sample_col + "_samples" if sample_col == table_col else sample_col
        assert merged[other].notna().all()
        np.testing.assert_allclose(merged[other], merged[table_col], rtol=0, atol=ATOL)


def preds(t, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(rng.random(t.n) < 0.8, t.labels, (t.labels + 1) % 3)


@pytest.mark.parametrize("directed", [False, True])
def test_stability_per_sample_means_equal_the_table(graphs, directed):
    tables, labels = graphs
    runs, epochs, ks = ["A", "B"], [2, 3, 4], [2, 3, 4]
    predictions = {key: preds(t, i) for i, (key, t) in enumerate(sorted(tables.items()))}
    table = stability.stability_table(tables, runs, epochs, ks, directed=directed)
    samples = stability.stability_per_sample(tables, runs, epochs, ks, directed=directed, predictions=predictions)
    assert list(samples.columns) == [*stability.PER_SAMPLE_KEYS, *COLUMNS]
    assert len(samples) == len(table) * len(labels)
    assert_means_equal(samples, table, ["comparison", "run", "epoch_a", "epoch_b"], {"jaccard": "jaccard", "cns": "cns"})
    # one comparison against brute force, and its predictions from the right graphs
    part = samples[(samples["comparison"] == "seed") & (samples["epoch_a"] == 3) & (samples["k"] == 3)]
    jac, cns = set_jaccard_cns(neighbour_sets(tables[("A", 3)].indices, 3, directed),
                               neighbour_sets(tables[("B", 3)].indices, 3, directed), labels)
    np.testing.assert_allclose(part["jaccard"], jac, atol=ATOL)
    np.testing.assert_allclose(part["cns"], cns, atol=ATOL)
    assert part["prediction_a"].tolist() == predictions[("A", 3)].tolist()
    assert part["prediction_b"].tolist() == predictions[("B", 3)].tolist()
    # the measures path of the table gives the same averages
    measured = stability.stability_table(tables, runs, epochs, ks, directed=directed, measures=["mutual_knn"])
    assert_means_equal(samples, measured, ["comparison", "run", "epoch_a", "epoch_b"], {"jaccard": "jaccard", "cns": "cns"})


@pytest.mark.parametrize("directed", [False, True])
def test_noise_per_sample_means_equal_the_points(directed):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    X = (rng.normal(size=(60, 6)) + 2 * labels[:, None]).astype(np.float32)
    W, b = rng.normal(size=(3, 6)), rng.normal(size=3)
    clean = knn_table(X, 5, labels, np.arange(60), backend="numpy")
    frames, points = [], []
    for p in (0, 0.3, 1):
        for rep in (0, 1):
            df, samples = noise.noise_point(X, labels, clean, W, b, p, rep, seed=0, ks=[2, 5], directed=directed,
                                            backend="numpy", per_sample=True)
            pd.testing.assert_frame_equal(df, noise.noise_point(X, labels, clean, W, b, p, rep, seed=0, ks=[2, 5],
                                                                directed=directed, backend="numpy"))
            assert list(samples.columns) == [*noise.PER_SAMPLE_KEYS, *COLUMNS]
            # predictions: the head on the clean latents, then on the noisy ones (their accuracy is the table's)
            assert samples["prediction_a"].tolist() == 2 * head_predict(X, W, b).tolist()
            acc = (samples["prediction_b"] == samples["label"]).groupby(samples["k"]).mean()
            np.testing.assert_allclose(acc, df["accuracy"], atol=1e-12)
            frames.append(samples)
            points.append(df)
    samples, table = pd.concat(frames, ignore_index=True), pd.concat(points, ignore_index=True)
    assert_means_equal(samples, table, ["p", "repeat"], {"jaccard": "jaccard", "cns": "cns"})
    zero = samples[samples["p"] == 0]
    assert (zero["jaccard"] == 1).all() and (zero["k_occurrence_a"] == zero["k_occurrence_b"]).all()


@pytest.mark.parametrize("directed", [False, True])
def test_pruning_per_sample_means_equal_the_table(graphs, directed):
    tables, labels = graphs
    summary = {"pruned_fraction": 0.0, "epochs_trained": 1, "best_epoch": 1}
    round0 = tables[("A", 2)]
    rounds = {("0.2", 1): tables[("A", 3)], ("0.2", 2): tables[("A", 4)], ("0.01", 1): tables[("B", 3)]}
    predictions = {0: preds(round0, 0), **{key: preds(t, i + 1) for i, (key, t) in enumerate(sorted(rounds.items()))}}
    table = pruning.pruning_table((round0, summary), {k: (g, summary) for k, g in rounds.items()}, [2, 4],
                                  directed=directed)
    samples = pruning.pruning_per_sample(round0, rounds, [2, 4], directed=directed, predictions=predictions)
    assert list(samples.columns) == [*pruning.PER_SAMPLE_KEYS, *COLUMNS]
    assert len(samples) == len(table) * len(labels)
    # the same rows in the same order as the table
    assert samples.drop_duplicates(["rate", "round", "k"])[["rate", "round", "k"]].values.tolist() == \
        table[["rate", "round", "k"]].values.tolist()
    assert_means_equal(samples, table, ["rate", "round"], {"jaccard": "jaccard_vs_round0", "cns": "cns_vs_round0"})
    last = samples[(samples["rate"] == 0.2) & (samples["round"] == 2)]
    assert last["prediction_a"].tolist() == 2 * predictions[0].tolist()
    assert last["prediction_b"].tolist() == 2 * predictions[("0.2", 2)].tolist()


@pytest.mark.parametrize("directed", [False, True])
def test_layers_per_sample_means_equal_the_table(directed):
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(3), 15)
    ids = np.arange(45)
    frames, rows = [], []
    for depth, (name, d) in enumerate((("layer1", 12), ("avgpool", 4))):
        X = rng.normal(size=(45, d)) + labels[:, None]
        a = Latents(X.astype(np.float32), labels, ids, prediction=preds(type("T", (), {"n": 45, "labels": labels}), 0))
        b = Latents((X + 0.4 * rng.normal(size=X.shape)).astype(np.float32), labels, ids,
                    prediction=preds(type("T", (), {"n": 45, "labels": labels}), 1))
        df, samples = layers.compare_layer(a, b, [2, 4], ["mutual_knn"], layer=name, depth=depth, directed=directed,
                                           backend="numpy", per_sample=True)
        assert list(samples.columns) == [*layers.PER_SAMPLE_KEYS, *COLUMNS]
        assert samples["prediction_a"].tolist() == 2 * a.prediction.tolist()
        frames.append(samples)
        rows.append(df)
    assert_means_equal(pd.concat(frames), pd.concat(rows), ["layer"], {"jaccard": "jaccard", "cns": "cns"})
