"""Tests of latentgraph.experiments.noise (thesis §4.1 noise, §5.1.1) and of the noise stage of the workflow."""

from __future__ import annotations

import itertools
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from helpers import REPO, load_yaml, neighbour_sets, set_jaccard_cns, snakemake, write_yaml
from scipy.spatial.distance import cdist

from latentgraph.config import check_config, noise_target
from latentgraph.experiments.noise import (
    canonical_grid,
    chance_level,
    check_clean_accuracy,
    expected_null_jaccard,
    majority_share,
    noise_l1_norm,
    noise_point,
    noise_seed,
    p_key,
    parse_p_key,
    perturb,
    random_neighbours,
    summarise_noise,
    variance_summary,
    variance_vector,
)
from latentgraph.graphs.knn import KnnTable, knn
from latentgraph.head import head_predict
from latentgraph.utils import LatentGraphError

SCHEMA = REPO / "schemas" / "config.schema.yaml"


def clusters(n_per: int = 20, n_cls: int = 4, d: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, size=(n_cls, d))
    labels = np.repeat(np.arange(n_cls), n_per)
    X = centres[labels] + rng.normal(0, 1, size=(labels.size, d))
    return X.astype(np.float32), labels


def clean_table(X: np.ndarray, labels: np.ndarray, k: int) -> KnnTable:
    idx, dist = knn(X, k, backend="numpy")
    return KnnTable(idx, dist, np.arange(X.shape[0]), labels)


# --------------------------------------------------------------------------- p keys and seeds


def test_p_key_is_canonical():
    assert p_key(0.05) == p_key(5e-2) == p_key(0.05000000000000001) == p_key("0.05") == "0.05"
    assert p_key(0.1 + 0.2) == "0.3"
    assert p_key(1) == p_key(1.0) == "1"
    assert p_key(0) == p_key(-0.0) == "0"
    assert p_key(1e-5) == "1e-05"
    assert parse_p_key("0.05") == 0.05
    for bad in ("0.050", "5e-2", "01"):
        with pytest.raises(LatentGraphError, match="canonical"):
            parse_p_key(bad)
    for bad in (-0.1, float("nan"), float("inf"), "x"):
        with pytest.raises(LatentGraphError):
            p_key(bad)


def test_canonical_grid_sorted_and_checked():
    assert canonical_grid([1, 0.05, 0, 0.5]) == ["0", "0.05", "0.5", "1"]
    with pytest.raises(LatentGraphError, match="empty"):
        canonical_grid([])
    with pytest.raises(LatentGraphError, match="same p"):
        canonical_grid([0.05, 0.1, 0.05000000000000001])


def test_noise_seed_depends_on_what_not_where():
    s = noise_seed(0, 0.3, 0)
    assert s == noise_seed(0, "0.3", 0) == noise_seed(0, 0.1 + 0.2, 0)
    assert len({s, noise_seed(0, 0.3, 1), noise_seed(1, 0.3, 0), noise_seed(0, 0.35, 0)}) == 4


# --------------------------------------------------------------------------- the perturbation


def test_perturb_has_requested_per_dimension_variance():
    """var(Y - X) = p * sigma^2 per dimension, with a tolerance a wrong scale cannot meet.

    With n = 200,000 draws the relative standard error of a sample variance is
    sqrt(2 / n) = 0.32 %, so the 3 % tolerance is ~9 standard errors, while the likely
    mistakes (sigma instead of sigma^2, p^2 or sqrt(p) instead of p, one global variance
    for all dimensions) are off by factors 1.8 to 100 in at least one dimension.
    """
    n, p = 200_000, 0.3
    sd = np.array([0.1, 0.5, 1.0, 3.0, 10.0, 0.0])
    rng = np.random.default_rng(1)
    X = (rng.standard_normal((n, sd.size)) * sd + np.arange(sd.size)).astype(np.float32)
    var = variance_vector(X)
    np.testing.assert_allclose(var, sd**2, rtol=0.02, atol=1e-12)
    Y = perturb(X, var, p, np.random.default_rng(2))
    assert Y.dtype == np.float32 and Y.shape == X.shape
    noise = Y.astype(np.float64) - X.astype(np.float64)
    ratio = noise[:, :5].var(axis=0) / (p * var[:5])
    assert np.all(np.abs(ratio - 1) < 0.03), ratio
    # zero mean, independent of X and across dimensions, nothing added to a constant dimension
    assert np.all(np.abs(noise[:, :5].mean(axis=0)) < 5 * np.sqrt(p * var[:5] / n))
    corr = np.corrcoef(noise[:, :5], rowvar=False)
    assert np.abs(corr - np.eye(5)).max() < 0.02
    assert np.all(noise[:, 5] == 0)
    # the perturbed latents' variance is (1 + p) sigma^2
    np.testing.assert_allclose(Y[:, :5].astype(np.float64).var(axis=0) / var[:5], 1 + p, rtol=0.03)


def test_perturb_at_zero_is_identity_and_seeded():
    X, _ = clusters()
    var = variance_vector(X)
    assert np.array_equal(perturb(X, var, 0.0, np.random.default_rng(5)), X)
    a = perturb(X, var, 0.4, np.random.default_rng(7))
    b = perturb(X, var, 0.4, np.random.default_rng(7))
    assert np.array_equal(a, b) and not np.array_equal(a, X)
    with pytest.raises(LatentGraphError):
        perturb(X, var, -0.1, np.random.default_rng(0))
    with pytest.raises(LatentGraphError):
        perturb(X, var[:-1], 0.1, np.random.default_rng(0))


# --------------------------------------------------------------------------- one point of the sweep


def _head(d: int, c: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(c, d)), rng.normal(size=c)


def test_noise_point_at_zero_reproduces_clean_graph_and_accuracy():
    X, labels = clusters()
    W, b = _head(X.shape[1], 4)
    clean = clean_table(X, labels, 8)
    df = noise_point(X, labels, clean, W, b, 0, 0, seed=0, ks=[2, 4, 8], backend="numpy")
    assert list(df.columns) == ["p", "repeat", "k", "jaccard", "cns", "accuracy"]
    assert (df["jaccard"] == 1.0).all() and (df["cns"] == 1.0).all()
    assert (df["accuracy"] == np.mean(head_predict(X, W, b) == labels)).all()
    pred = head_predict(X, W, b)
    acc = float(np.mean(pred == labels))
    assert check_clean_accuracy(X, labels, pred, W, b, acc) == acc
    wrong = pred.copy()
    wrong[0] = (wrong[0] + 1) % 4
    with pytest.raises(LatentGraphError, match="does not reproduce"):
        check_clean_accuracy(X, labels, wrong, W, b)
    with pytest.raises(LatentGraphError, match="recorded test accuracy"):
        check_clean_accuracy(X, labels, pred, W, b, acc + 0.01)


@pytest.mark.parametrize("directed", [False, True])
def test_noise_point_matches_brute_force(directed):
    """Jaccard, CNS and accuracy recomputed from scratch with Python sets and scipy's cdist."""
    X, labels = clusters(n_per=15)
    n = X.shape[0]
    W, b = _head(X.shape[1], 4)
    clean = clean_table(X, labels, 5)
    p, rep, seed = 0.5, 1, 11
    df = noise_point(X, labels, clean, W, b, p, rep, seed=seed, ks=[3, 5], directed=directed, backend="numpy")
    Y = perturb(X, variance_vector(X), p, np.random.default_rng(noise_seed(seed, p, rep)))
    D = cdist(Y.astype(np.float64), Y.astype(np.float64), "cityblock")
    np.fill_diagonal(D, np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(n), D.shape), D), axis=1)
    Dx = cdist(X.astype(np.float64), X.astype(np.float64), "cityblock")
    np.fill_diagonal(Dx, np.inf)
    order_x = np.lexsort((np.broadcast_to(np.arange(n), Dx.shape), Dx), axis=1)
    for k in (3, 5):
        jac, cns_v = set_jaccard_cns(neighbour_sets(order_x, k, directed), neighbour_sets(order, k, directed), labels)
        row = df[df["k"] == k].iloc[0]
        assert row["jaccard"] == pytest.approx(np.mean(jac), abs=1e-12)
        assert row["cns"] == pytest.approx(np.mean(cns_v), abs=1e-12)
    acc = np.mean(np.argmax(Y.astype(np.float64) @ W.T + b, axis=1) == labels)
    assert (df["accuracy"] == acc).all()
    assert (df["jaccard"] < 1).all()


def test_repeats_are_different_draws_and_reproducible():
    X, labels = clusters()
    W, b = _head(X.shape[1], 4)
    clean = clean_table(X, labels, 4)
    r0 = noise_point(X, labels, clean, W, b, 0.3, 0, seed=0, ks=[4], backend="numpy")
    r1 = noise_point(X, labels, clean, W, b, 0.3, 1, seed=0, ks=[4], backend="numpy")
    again = noise_point(X, labels, clean, W, b, "0.30", 0, seed=0, ks=[4], backend="numpy")
    assert r0["jaccard"].iloc[0] != r1["jaccard"].iloc[0]
    pd.testing.assert_frame_equal(r0, again)


def test_summarise_mean_and_std_over_repeats():
    df = pd.DataFrame({"p": [0.5] * 4, "repeat": [0, 0, 1, 1], "k": [2, 4, 2, 4], "jaccard": [0.2, 0.4, 0.4, 0.6],
                       "cns": [0.5, 0.5, 0.7, 0.7], "accuracy": [0.8, 0.8, 0.9, 0.9]})
    s = summarise_noise(df)
    assert s["repeats"].tolist() == [2, 2]
    assert s["jaccard"].tolist() == pytest.approx([0.3, 0.5])
    assert s["jaccard_std"].tolist() == pytest.approx([np.std([0.2, 0.4], ddof=1)] * 2)
    one = summarise_noise(df[df["repeat"] == 0])
    assert (one["jaccard_std"] == 0).all()


# --------------------------------------------------------------------------- chance level


def test_random_neighbours_are_distinct_others():
    rng = np.random.default_rng(0)
    for n, k in [(5, 4), (12, 4), (300, 16)]:
        T = random_neighbours(n, k, rng)
        assert T.shape == (n, k)
        assert not (np.arange(n)[:, None] == T).any()
        assert T.min() >= 0 and T.max() < n
        assert all(np.unique(row).size == k for row in np.sort(T, axis=1))
    with pytest.raises(LatentGraphError):
        random_neighbours(4, 4, rng)


def test_random_neighbours_uniform():
    """Each of the n-1 other vertices appears with probability k/(n-1), in every column alike."""
    n, k, draws = 7, 3, 4000
    rng = np.random.default_rng(1)
    counts = np.zeros((n, n))
    first = np.zeros((n, n))
    for _ in range(draws // 100):
        T = np.stack([random_neighbours(n, k, rng) for _ in range(100)])  # (100, n, k)
        for i in range(n):
            counts[i] += np.bincount(T[:, i, :].ravel(), minlength=n)
            first[i] += np.bincount(T[:, i, 0], minlength=n)
    off = ~np.eye(n, dtype=bool)
    expected = draws * k / (n - 1)  # 2000; sd ~ 37
    assert np.abs(counts[off] - expected).max() < 6 * np.sqrt(expected)
    assert np.all(counts[~off] == 0)
    expected_first = draws / (n - 1)
    assert np.abs(first[off] - expected_first).max() < 6 * np.sqrt(expected_first)


def test_closed_form_matches_enumeration():
    """E[X / (2k - X)] for X ~ Hypergeom(n-1, k, k) against an enumeration of all k-subsets."""
    for n, k in [(6, 2), (8, 3), (9, 4)]:
        fixed = set(range(k))
        vals = [len(fixed & set(s)) / len(fixed | set(s)) for s in itertools.combinations(range(n - 1), k)]
        assert expected_null_jaccard(n, k) == pytest.approx(np.mean(vals), rel=1e-12)


def test_directed_chance_level_matches_closed_form():
    n, k, draws = 12, 4, 400
    idx = (np.arange(n)[:, None] + np.arange(1, k + 1)) % n  # each vertex: the next k vertices
    labels = np.arange(n) % 3
    clean = KnnTable(idx, np.ones(idx.shape), np.arange(n), labels)
    df = chance_level(clean, [2, 4], draws=draws, seed=0, directed=True)
    for _, row in df.iterrows():
        kk = int(row["k"])
        expected = expected_null_jaccard(n, kk)
        assert row["jaccard_closed_form"] == pytest.approx(expected)
        se = row["jaccard_std"] / np.sqrt(draws)
        assert abs(row["jaccard"] - expected) < 4 * se + 1e-12, (row.to_dict(), expected)
    # a sloppier null (self allowed: overlap Hypergeom(n, k, k)) would sit visibly lower
    assert expected_null_jaccard(n + 1, 4) < df.loc[df["k"] == 4, "jaccard"].iloc[0] - 4 * se


def test_undirected_chance_level_is_seeded_and_low():
    X, labels = clusters(n_per=30)
    clean = clean_table(X, labels, 8)
    a = chance_level(clean, [4, 8], draws=3, seed=5)
    b = chance_level(clean, [4, 8], draws=3, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert a["jaccard_closed_form"].isna().all()
    assert (a["jaccard"] < 0.2).all()
    # CNS of a random graph is near the label-overlap of random neighbours (4 balanced classes)
    assert (a["cns"] > 0.2).all() and (a["cns"] < 0.6).all()


# --------------------------------------------------------------------------- statistics


def test_variance_summary_and_noise_norm():
    var = np.array([0.0, 1.0, 4.0, 9.0])
    s = variance_summary(var)
    assert s == {"max": 9.0, "min": 0.0, "mean": 3.5, "median": 2.5, "zero_dims": 1}
    r = noise_l1_norm(var, p=1.0, samples=20000, seed=0)
    assert r["exact_mean"] == pytest.approx(np.sqrt(2 / np.pi) * 6.0)
    assert abs(r["mc_mean"] - r["exact_mean"]) < 4 * r["mc_std"] / np.sqrt(20000)
    r4 = noise_l1_norm(var, p=4.0, samples=100, seed=0)
    assert r4["exact_mean"] == pytest.approx(2 * r["exact_mean"])
    assert majority_share(np.array([0, 1, 1, 2])) == 0.5


# --------------------------------------------------------------------------- config


def _validated(cfg: dict) -> dict:
    from snakemake.utils import validate

    validate(cfg, str(SCHEMA))
    return cfg


def test_config_noise_defaults_and_checks(tiny_config):
    cfg = _validated(tiny_config)
    check_config(cfg)
    assert noise_target(cfg) == ("A", 3)
    # a config without the section: first run, last epoch of the stability window
    cfg = dict(tiny_config)
    cfg.pop("noise")
    cfg = _validated(cfg)
    assert cfg["noise"]["enabled"] and noise_target(cfg) == ("A", 3)
    check_config(cfg)

    def bad(change: dict, key: str) -> None:
        cfg = load_yaml(REPO / "tests" / "data" / "tiny.yaml")
        cfg["noise"].update(change)
        _validated(cfg)
        with pytest.raises(LatentGraphError, match=key):
            check_config(cfg)

    bad({"run": "C"}, "noise.run")
    bad({"epoch": 4}, "noise.epoch")
    bad({"grid": [0, 0.5, 0.50000000000000001 + 1e-17]}, "noise.grid")
    bad({"stats_k": 5}, "noise.stats_k")


@pytest.mark.parametrize("change, message", [
    ({"grid": [0, -0.1]}, r"noise\.grid\.1: -0\.1 is less than the minimum of 0"),
    ({"grid": []}, r"noise\.grid: \[\] should be non-empty"),
    ({"repeats": 0}, r"noise\.repeats: 0 is less than the minimum of 1"),
    ({"typo": 1}, r"noise\.typo: unknown key; allowed keys: .*grid"),
    ({"epoch": -1}, r"noise\.epoch: -1 is less than the minimum of 0"),
    ({"hist_bins": 7}, r"noise\.hist_bins: 7 is not a multiple of 2"),
])
def test_config_schema_rejects(tiny_config, change, message):
    from latentgraph.config import validate_config

    tiny_config["noise"].update(change)
    with pytest.raises(LatentGraphError, match=message):
        validate_config(tiny_config, str(SCHEMA))


def test_bad_noise_config_stops_before_anything_runs(tmp_path, tiny_config):
    tiny_config["noise"]["epoch"] = 9
    cfg = write_yaml(tmp_path / "bad.yaml", tiny_config)
    proc = snakemake(tmp_path, "-n", configfile=cfg, check=False)
    assert proc.returncode != 0
    assert "noise.epoch" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


# --------------------------------------------------------------------------- the workflow stage


@pytest.mark.slow
def test_workflow_noise_outputs(tiny_run):
    from latentgraph.io import read_latents

    res = tiny_run / "results" / "tiny"
    df = pd.read_csv(res / "tables" / "noise.csv")
    # the measures' resampling intervals follow the columns (measures.resamples > 0)
    assert list(df.columns) == ["p", "repeat", "k", "jaccard", "cns", "accuracy",
                                "jaccard_lo", "jaccard_hi", "cns_lo", "cns_hi"]
    for m in ("jaccard", "cns"):
        assert (df[f"{m}_lo"] <= df[m] + 1e-12).all() and (df[m] <= df[f"{m}_hi"] + 1e-12).all()
    assert sorted(df["p"].unique()) == [0, 0.5, 1]
    assert sorted(df["repeat"].unique()) == [0]
    assert sorted(df["k"].unique()) == [2, 4]
    assert len(df) == 3 * 2
    lat = read_latents(res / "latents" / "A" / "epoch_003.parquet")
    zero = df[df["p"] == 0]
    assert (zero["jaccard"] == 1).all() and (zero["cns"] == 1).all()
    assert np.allclose(zero["accuracy"], lat.accuracy, rtol=0, atol=1e-8)
    assert (df.loc[df["p"] > 0, "jaccard"] < 1).all()
    assert (res / "noise" / "A" / "epoch_003" / "p_0.5" / "repeat_0.csv").exists()
    summary = pd.read_csv(res / "tables" / "noise_summary.csv")
    assert (summary["repeats"] == 1).all() and len(summary) == 6 and (summary["jaccard_std"] == 0).all()
    chance = pd.read_csv(res / "tables" / "noise_chance.csv")
    assert chance["k"].tolist() == [2, 4] and (chance["draws"] == 3).all()
    assert (chance["jaccard"] < summary.loc[summary["p"] == 0, "jaccard"].to_numpy()).all()
    var = pd.read_csv(res / "tables" / "latent_variance.csv")
    v = variance_vector(lat.X)
    assert var.loc[0, "max"] == pytest.approx(v.max()) and var.loc[0, "mean"] == pytest.approx(v.mean())
    for fig in ("noise_jaccard", "noise_cns", "noise_accuracy", "path_lengths"):
        assert (res / "figures" / f"{fig}.png").stat().st_size > 10_000


@pytest.mark.slow
def test_workflow_graph_stats(tiny_run):
    import json

    from latentgraph.graphs.path_stats import knn_graph_statistics
    from latentgraph.io import read_knn

    res = tiny_run / "results" / "tiny"
    stats = json.loads((res / "tables" / "latent_graph_stats.json").read_text())
    assert stats["k"] == 2 and stats["run"] == "A" and stats["epoch"] == 3
    table = read_knn(res / "knn" / "A" / "epoch_003.parquet")
    again = knn_graph_statistics(table, 2, bins=100, batch_size=7)
    assert again["hop"] == stats["hop"]
    assert again["weighted"]["counts"] == stats["weighted"]["counts"]
    n = stats["n_vertices"]
    w = stats["weighted"]
    assert w["reachable_pairs"] + w["unreachable_pairs"] == n * (n - 1)
    assert sum(w["counts"]) == w["reachable_pairs"]
    assert sum(stats["hop"]["counts"]) == w["reachable_pairs"]
    norm = stats["noise_l1_norm"]
    assert norm["p"] == 1.0 and abs(norm["mc_mean"] - norm["exact_mean"]) < 0.05 * norm["exact_mean"]


@pytest.mark.slow
def test_workflow_extending_grid_computes_only_new_points(tiny_run, tmp_path):
    work = tmp_path / "copy"
    shutil.copytree(tiny_run, work, symlinks=True)
    cfg = load_yaml(work / "tiny.yaml")
    cfg["noise"]["grid"] = [0, 0.25, 0.5, 1]
    cfg["noise"]["repeats"] = 3
    write_yaml(work / "tiny.yaml", cfg)
    proc = snakemake(work, "-n", configfile=work / "tiny.yaml")
    out = proc.stdout + proc.stderr
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M))
    # new: p = 0.25 (3 repeats) and repeats 1, 2 of the three old points; repeat 0 is kept
    assert jobs.get("noise_point") == "9", out
    for rule in ("train", "latents", "knn", "head", "noise_chance", "latent_graph_stats", "latent_variance"):
        assert rule not in jobs, out
