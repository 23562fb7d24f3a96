"""The pruning stage inside the tiny workflow run (tests/data/tiny.yaml: rate 0.2, 2 rounds)."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import REPO, TINY, load_yaml, snakemake, write_yaml

torch = pytest.importorskip("torch")

from latentgraph.experiments.pruning import TABLE_COLUMNS, read_summary  # noqa: E402
from latentgraph.io import read_latents  # noqa: E402
from latentgraph.nets.pruning import load_mask, pruned_counts  # noqa: E402

pytestmark = pytest.mark.slow


def round_dirs(res: Path) -> dict[int, Path]:
    return {0: res / "prune" / "round_00", 1: res / "prune" / "rate_0.2" / "round_01",
            2: res / "prune" / "rate_0.2" / "round_02"}


def brute_knn_sets(X: np.ndarray, k: int) -> list[set[int]]:
    """Undirected kNN neighbour sets by brute force (L1, ties by index): an independent reference."""
    D = np.abs(X[:, None, :].astype(np.float64) - X[None, :, :].astype(np.float64)).sum(-1)
    np.fill_diagonal(D, np.inf)
    n = len(X)
    order = np.lexsort((np.broadcast_to(np.arange(n), (n, n)), D), axis=1)[:, :k]
    sets = [set() for _ in range(n)]
    for i in range(n):
        for j in order[i]:
            sets[i].add(int(j))
            sets[int(j)].add(i)
    return sets


def test_pruning_outputs(tiny_run):
    res = tiny_run / "results" / "tiny"
    df = pd.read_csv(res / "tables" / "pruning.csv")
    # the resampling intervals of the similarities follow the columns (measures.resamples > 0)
    iv = [f"{m}_vs_round0_{end}" for m in ("jaccard", "cns") for end in ("lo", "hi")]
    assert list(df.columns) == TABLE_COLUMNS + iv
    for m in ("jaccard_vs_round0", "cns_vs_round0"):
        assert (df[f"{m}_lo"] <= df[m] + 1e-12).all() and (df[m] <= df[f"{m}_hi"] + 1e-12).all()
    assert sorted(df["rate"].unique()) == [0.2]
    assert sorted(df["round"].unique()) == [0, 1, 2]
    assert sorted(df["k"].unique()) == [2, 4]
    for name in ("pruning.md",):
        assert (res / "tables" / name).stat().st_size > 0
    for name in ("pruning_cns.png", "pruning_jaccard.png"):
        assert (res / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r0 = df[df["round"] == 0]
    assert (r0["jaccard_vs_round0"] == 1).all() and (r0["cns_vs_round0"] == 1).all()

    lat0 = read_latents(round_dirs(res)[0] / "latents.parquet")
    for i, d in round_dirs(res).items():
        mask, meta = load_mask(d / "mask.pt")
        pruned, total = pruned_counts(mask)
        rows = df[df["round"] == i]
        # pruned share measured from the mask; closed form within one weight per round
        assert rows["pruned_fraction"].iloc[0] == pytest.approx(pruned / total, abs=1e-6)
        assert abs(pruned - (1 - 0.8**i) * total) <= 0.5 * i
        # pruned weights are exactly zero in the stored model; fc is never masked
        state = torch.load(d / "model.pt", weights_only=True)["state_dict"]
        assert not any(n.startswith("fc") or not n.endswith(".weight") for n in mask)
        for n, m in mask.items():
            assert (state[n][~m] == 0).all()
        # early stopping: best epoch = first lowest validation loss; at most max_epochs
        hist = pd.read_csv(d / "history.csv")
        summary = read_summary(d / "summary.json")
        assert len(hist) == summary["epochs_trained"] == rows["epochs_trained"].iloc[0] <= 2
        assert summary["best_epoch"] == int(hist["val_loss"].to_numpy().argmin()) + 1
        # latents in the spine's schema, with the round's metadata and accuracy
        lat = read_latents(d / "latents.parquet")
        assert lat.metadata["round"] == i and lat.metadata["pruned_fraction"] == pytest.approx(pruned / total)
        assert np.array_equal(lat.sample_id, lat0.sample_id)
        assert rows["accuracy"].iloc[0] == pytest.approx(lat.accuracy, abs=1e-6)
        # the similarities against an independent brute-force computation
        for k in (2, 4):
            a, b = brute_knn_sets(lat0.X, k), brute_knn_sets(lat.X, k)
            jac = np.mean([len(x & y) / len(x | y) for x, y in zip(a, b, strict=True)])
            assert rows.loc[rows["k"] == k, "jaccard_vs_round0"].iloc[0] == pytest.approx(jac, abs=1e-6)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # raising the number of rounds computes only the new round (and the summaries)
        ({"rounds": 3}, {"prune_round": "1", "prune_latents": "1", "prune_knn": "1"}),
        # another scope reprunes rounds 1-2 but keeps round 0 (it prunes nothing)
        ({"scope": "layerwise"}, {"prune_round": "2", "prune_latents": "2", "prune_knn": "2"}),
    ],
)
def test_changes_rerun_only_what_they_change(tiny_run, tmp_path, edit, expected):
    work = tmp_path / "w"
    shutil.copytree(tiny_run, work, symlinks=True)
    cfg = load_yaml(TINY)
    cfg["pruning"].update(edit)
    write_yaml(work / "more.yaml", cfg)
    out = snakemake(work, "-n", configfile=work / "more.yaml").stdout
    stats = dict(re.findall(r"^(\w+)\s+(\d+)$", out.split("Job stats:")[1].split("Reasons")[0], flags=re.M))
    stats.pop("total", None)
    assert stats == {**expected, "prune_table": "1", "plot_pruning": "1", "per_sample_pruning": "1", "all": "1"}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (("pruning", "rates"), [0.0], r"pruning\.rates\.0: 0\.0 is less than or equal to the minimum of 0"),
        (("pruning", "rates"), [1.0], r"pruning\.rates\.0: 1\.0 is greater than or equal to the maximum of 1"),
        (("pruning", "rates"), [0.2, 1.5], r"pruning\.rates\.1: 1\.5 is greater than or equal to the maximum"),
        (("pruning", "rounds"), 0, r"pruning\.rounds: 0 is less than the minimum of 1"),
        (("pruning", "early_stopping"), {"patience": 0}, r"pruning\.early_stopping\.patience: 0 is less than"),
        (("pruning", "val_fraction"), 0.0, r"pruning\.val_fraction: 0\.0 is less than or equal to the minimum"),
        (("pruning", "val_fraction"), 1.0, r"pruning\.val_fraction: 1\.0 is greater than or equal to the maximum"),
        (("pruning", "scope"), "x", r"pruning\.scope: 'x' is not allowed; allowed values: 'global', 'layerwise'"),
    ],
)
def test_bad_pruning_values_are_schema_errors(key, value, message):
    from snakemake.utils import validate

    from latentgraph.config import validate_config
    from latentgraph.utils import LatentGraphError

    cfg = copy.deepcopy(load_yaml(TINY))
    cfg[key[0]][key[1]] = value
    with pytest.raises(LatentGraphError, match=message):
        validate_config(copy.deepcopy(cfg), str(REPO / "schemas" / "config.schema.yaml"))
    with pytest.raises(Exception, match="Error validating config file"):
        validate(cfg, str(REPO / "schemas" / "config.schema.yaml"))  # Snakemake's own validation agrees


def test_bad_config_stops_before_anything_runs(tmp_path):
    cfg = load_yaml(TINY)
    cfg["pruning"]["rates"] = [0.2, 1.0]
    write_yaml(tmp_path / "bad.yaml", cfg)
    proc = snakemake(tmp_path, "-n", configfile=tmp_path / "bad.yaml", check=False)
    assert proc.returncode != 0
    assert "pruning.rates.1: 1.0 is greater than or equal to the maximum of 1" in proc.stderr + proc.stdout
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda c: c["pruning"].update(run="Z"), "pruning.run"),
        (lambda c: c["pruning"].update(rates=[0.2, 0.2]), "pruning.rates"),
        (lambda c: c["pruning"].update(reset="rewind", rewind_epoch=2), "pruning.rewind_epoch"),
    ],
)
def test_cross_key_checks(edit, key):
    from snakemake.utils import validate

    from latentgraph.config import check_config
    from latentgraph.utils import LatentGraphError

    cfg = copy.deepcopy(load_yaml(TINY))
    edit(cfg)
    validate(cfg, str(REPO / "schemas" / "config.schema.yaml"))
    with pytest.raises(LatentGraphError, match=re.escape(key)):
        check_config(cfg)
    cfg["pruning"]["enabled"] = False  # a disabled stage is not checked
    check_config(cfg)
