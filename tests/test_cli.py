"""The latentgraph command line on files: knn, compare, and clear errors (exit status 2)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from latentgraph.cli import main
from latentgraph.io import read_knn, write_latents
from latentgraph.knn import adjacency, knn
from latentgraph.similarity import cns, jaccard


@pytest.fixture
def two_latents(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 5)).astype(np.float32)
    Y = X + 0.4 * rng.normal(size=X.shape).astype(np.float32)
    labels = rng.integers(0, 4, size=80)
    ids = np.arange(80) * 3
    write_latents(tmp_path / "a.parquet", X, labels, ids)
    perm = rng.permutation(80)  # B's rows in another order: matched by sample_id
    write_latents(tmp_path / "b.parquet", Y[perm], labels[perm], ids[perm])
    return tmp_path, X, Y, labels


def test_knn_command(two_latents, capsys):
    d, X, _, _ = two_latents
    assert main(["knn", str(d / "a.parquet"), "--k", "6", "-o", str(d / "g.parquet")]) == 0
    g = read_knn(d / "g.parquet")
    idx, dist = knn(X, 6, backend="numpy")
    np.testing.assert_array_equal(g.indices, idx)
    assert "80 vertices, k=6" in capsys.readouterr().out


def test_compare_command_matches_library(two_latents, capsys):
    d, X, Y, labels = two_latents
    out = d / "t.csv"
    assert main(["compare", str(d / "a.parquet"), str(d / "b.parquet"), "--k", "2", "4", "--directed",
                 "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out)
    assert printed.splitlines()[0] == "k,jaccard,cns" and list(table["k"]) == [2, 4]
    ia, _ = knn(X, 4, backend="numpy")
    ib, _ = knn(Y, 4, backend="numpy")
    for k, row in table.set_index("k").iterrows():
        A, B = adjacency(ia, k=k, directed=True), adjacency(ib, k=k, directed=True)
        assert row["jaccard"] == pytest.approx(jaccard(A, B), abs=1e-6)
        assert row["cns"] == pytest.approx(cns(A, B, labels), abs=1e-6)
    # a graph file written by `knn` is accepted in place of latents
    main(["knn", str(d / "a.parquet"), "--k", "4", "-o", str(d / "g.parquet")])
    capsys.readouterr()
    assert main(["compare", str(d / "g.parquet"), str(d / "b.parquet"), "--k", "2", "4", "--directed"]) == 0
    assert capsys.readouterr().out == printed


def test_cli_errors_are_one_line_with_status_2(two_latents, capsys):
    d, X, _, labels = two_latents
    assert main(["knn", str(d / "a.parquet"), "--k", "80", "-o", str(d / "g.parquet")]) == 2
    err = capsys.readouterr().err
    assert "a.parquet: k=80 must be smaller than the number of samples N=80" in err
    assert not (d / "g.parquet").exists()
    write_latents(d / "c.parquet", X[:40], labels[:40], np.arange(40) * 3)
    assert main(["compare", str(d / "a.parquet"), str(d / "c.parquet"), "--k", "4"]) == 2
    assert "hold different samples" in capsys.readouterr().err
    (d / "junk.parquet").write_text("nope")
    assert main(["compare", str(d / "a.parquet"), str(d / "junk.parquet")]) == 2
    assert "junk.parquet: cannot read as Parquet" in capsys.readouterr().err


def test_console_script_entry_point(two_latents):
    d, *_ = two_latents
    proc = subprocess.run([sys.executable, "-m", "latentgraph.cli", "compare", str(d / "a.parquet"),
                           str(d / "b.parquet"), "--k", "4"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("k,jaccard,cns\n4,")


def test_compare_every_measure_with_null_and_npy_latents(two_latents, tmp_path, capsys):
    from latentgraph.measures import MEASURES, columns, compare
    from latentgraph.utils import stable_seed

    d, X, Y, labels = two_latents
    out = d / "all.csv"
    args = ["--k", "2", "5", "--measure", *MEASURES, "--null", "4", "--n-eigs", "6", "--seed", "3", "--backend",
            "numpy"]
    assert main(["compare", str(d / "a.parquet"), str(d / "b.parquet"), *args, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out)
    assert list(table.columns) == ["k", *columns(MEASURES, null=True)]
    from latentgraph.knn import knn_table

    ids = np.arange(80) * 3
    ref = compare(knn_table(X, 5, labels, ids, backend="numpy"), knn_table(Y, 5, labels, ids, backend="numpy"),
                  [2, 5], MEASURES, xa=X, xb=Y, n_eigs=6, n_perm=4, seed=stable_seed(3, "compare-null"))
    pd.testing.assert_frame_equal(table, ref, atol=1e-6, check_exact=False)
    # the same samples as .npy matrices with labels (.npy, .txt or .csv) and ids: the same table
    np.save(d / "a.npy", X)
    np.save(d / "b.npy", Y)
    np.save(d / "y.npy", labels)
    (d / "y.txt").write_text("\n".join(map(str, labels)) + "\n")
    pd.DataFrame({"sample_id": ids}).to_csv(d / "ids.csv", index=False)
    assert main(["knn", str(d / "a.npy"), "--k", "5", "--labels", str(d / "y.npy"), "--ids", str(d / "ids.csv"),
                 "-o", str(d / "ga.parquet")]) == 0
    np.testing.assert_array_equal(read_knn(d / "ga.parquet").indices, knn(X, 5, backend="numpy")[0])
    capsys.readouterr()
    for lab in ("y.npy", "y.txt"):
        assert main(["compare", str(d / "a.npy"), str(d / "b.npy"), *args, "--labels", str(d / lab), "--ids",
                     str(d / "ids.csv")]) == 0
        assert capsys.readouterr().out == printed


def test_compare_measure_errors(two_latents, capsys):
    d, X, _, labels = two_latents
    main(["knn", str(d / "a.parquet"), "--k", "4", "-o", str(d / "g.parquet")])
    capsys.readouterr()
    assert main(["compare", str(d / "g.parquet"), str(d / "b.parquet"), "--k", "4", "--measure", "cka"]) == 2
    assert "g.parquet: measure 'cka' needs latents" in capsys.readouterr().err
    np.save(d / "a.npy", X)
    assert main(["compare", str(d / "a.npy"), str(d / "a.npy"), "--k", "4"]) == 2
    assert "a.npy: a .npy latents matrix needs a labels file (--labels)" in capsys.readouterr().err
    np.save(d / "short.npy", labels[:10])
    assert main(["compare", str(d / "a.npy"), str(d / "a.npy"), "--k", "4", "--labels", str(d / "short.npy")]) == 2
    assert "10 labels for the 80 rows" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["compare", str(d / "a.parquet"), str(d / "b.parquet"), "--measure", "rsa"])
