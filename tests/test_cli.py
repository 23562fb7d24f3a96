"""The latentgraph command line on files: knn, compare, and clear errors (exit status 2)."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from latentgraph.cli import main
from latentgraph.compare.similarity import cns, jaccard
from latentgraph.graphs.knn import adjacency, knn
from latentgraph.io import read_knn, write_latents


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


def test_knn_command_preloads_numba_while_reading(two_latents, capsys, monkeypatch):
    """With backend numba the kernel's set-up runs in a thread that overlaps the reading and is
    joined before the search; the graph is the same."""
    pytest.importorskip("numba")
    import latentgraph.graphs.knn as knn_mod

    d, X, _, _ = two_latents
    started = []
    real = knn_mod.preload_numba

    def spy(*args):
        thread = real(*args)
        started.append((args, thread))
        return thread

    monkeypatch.setattr(knn_mod, "preload_numba", spy)
    assert main(["knn", str(d / "a.parquet"), "--k", "6", "--backend", "numba", "-o", str(d / "g.parquet")]) == 0
    (args, thread), = started
    assert args == ("numba", 80, "l1") and thread is not None and not thread.is_alive()
    np.testing.assert_array_equal(read_knn(d / "g.parquet").indices, knn(X, 6, backend="numpy")[0])
    assert "backend=numba" in capsys.readouterr().out


def test_knn_preload_only_when_numba_will_search():
    pytest.importorskip("numba")
    from latentgraph.graphs.knn import NUMBA_MIN_N, preload_numba

    assert preload_numba("auto", 100, "l1") is None  # auto picks faiss below NUMBA_MIN_N rows
    assert preload_numba("faiss", 10**6, "l1") is None
    assert preload_numba("auto", 10**6, "l2") is None
    for args in (("numba", 100, "l1"), ("auto", NUMBA_MIN_N, "l1"), ("auto", None, "l1")):
        thread = preload_numba(*args)
        assert thread is not None
        thread.join()


def test_parser_imports_neither_scipy_nor_pandas():
    """`latentgraph knn` starts fast: building the parser (every subcommand's options) imports
    neither scipy (0.2 s; numba's own set-up imports it later, in the preload thread) nor pandas."""
    code = ("import sys, latentgraph.cli as c; c.build_parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'pandas')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


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


def _run_cli(code: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``code`` (which calls ``latentgraph.cli.run``) in a fresh interpreter with ``args``."""
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


def test_console_script_is_run_with_fast_exit(two_latents, tmp_path):
    # the console script's function: atexit handlers still run, buffered output is flushed,
    # the exit status is kept, and the result file is complete
    d, *_ = two_latents
    out = tmp_path / "g.parquet"
    code = ("import atexit, sys\n"
            "from latentgraph.cli import run\n"
            "atexit.register(lambda: print('atexit ran', file=sys.stderr))\n"
            "sys.argv = ['latentgraph', *sys.argv[1:]]\n"
            "run()\n"
            "print('not reached')\n")
    proc = _run_cli(code, "knn", str(d / "a.parquet"), "--k", "4", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "atexit ran" in proc.stderr and "not reached" not in proc.stdout
    assert read_knn(out).k == 4
    proc = _run_cli(code, "compare", str(d / "a.parquet"), str(d / "b.parquet"), "--k", "4")
    assert proc.returncode == 0 and proc.stdout.startswith("k,jaccard,cns\n4,")  # flushed through a pipe
    proc = _run_cli(code, "knn", str(d / "missing.parquet"), "--k", "4", "-o", str(tmp_path / "h.parquet"))
    assert proc.returncode == 2 and "missing.parquet" in proc.stderr and "atexit ran" in proc.stderr
    proc = _run_cli(code, "knn")  # usage errors still exit from argparse
    assert proc.returncode == 2 and "usage:" in proc.stderr


def test_console_script_waits_for_running_threads(two_latents):
    # with another Python thread still running, run() exits the normal way, after it
    d, *_ = two_latents
    code = ("import sys, threading, time\n"
            "import latentgraph.cli as cli\n"
            "done = threading.Event()\n"
            "command = cli.main\n"
            "def main():\n"
            "    status = command()\n"
            "    done.set()\n"
            "    return status\n"
            "cli.main = main\n"
            "def late():\n"
            "    done.wait()\n"
            "    time.sleep(0.3)\n"  # still running when run() decides how to exit
            "    print('thread done', flush=True)\n"
            "threading.Thread(target=late).start()\n"
            "sys.argv = ['latentgraph', *sys.argv[1:]]\n"
            "cli.run()\n")
    proc = _run_cli(code, "compare", str(d / "a.parquet"), str(d / "b.parquet"), "--k", "4")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("k,jaccard,cns\n4,") and proc.stdout.rstrip().endswith("thread done")


def test_compare_every_measure_with_null_and_npy_latents(two_latents, tmp_path, capsys):
    from latentgraph.compare.measures import MEASURES, columns, compare
    from latentgraph.utils import stable_seed

    d, X, Y, labels = two_latents
    out = d / "all.csv"
    args = ["--k", "2", "5", "--measure", *MEASURES, "--null", "4", "--n-eigs", "6", "--seed", "3", "--backend",
            "numpy"]
    assert main(["compare", str(d / "a.parquet"), str(d / "b.parquet"), *args, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out)
    assert list(table.columns) == ["k", *columns(MEASURES, null=True)]
    from latentgraph.graphs.knn import knn_table

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
        main(["compare", str(d / "a.parquet"), str(d / "b.parquet"), "--measure", "no_such_measure"])


def _without_metric(src, dst):
    """A copy of the graph file ``src`` whose metadata does not record the metric."""
    import json

    import pyarrow.parquet as pq

    table = pq.read_table(src)
    meta = json.loads(table.schema.metadata[b"latentgraph"])
    meta.pop("metric")
    pq.write_table(table.replace_schema_metadata({b"latentgraph": json.dumps(meta)}), dst)


def test_compare_checks_the_metric_of_graph_files(two_latents, capsys):
    d, X, _, labels = two_latents
    a, b, g1, g2, g0 = (str(d / f) for f in ("a.parquet", "b.parquet", "g1.parquet", "g2.parquet", "g0.parquet"))
    assert main(["knn", a, "--k", "8", "--metric", "l2", "-o", g2]) == 0
    assert main(["knn", b, "--k", "8", "--metric", "l1", "-o", g1]) == 0
    _without_metric(g2, g0)
    capsys.readouterr()
    # --metric against the graph's metric, and two graphs of different metrics
    assert main(["compare", g2, a, "--k", "4", "--metric", "l1"]) == 2
    assert "g2.parquet: kNN graph was built with metric l2, not --metric l1" in capsys.readouterr().err
    assert main(["compare", g2, g1, "--k", "4"]) == 2
    assert "g2.parquet (metric l2) and" in capsys.readouterr().err
    # without --metric the latents take the graph's metric: the same as both latents with l2
    assert main(["compare", a, a, "--k", "4", "--metric", "l2"]) == 0
    same = capsys.readouterr().out
    assert same.splitlines()[1] == "4,1.000000,1.000000"
    assert main(["compare", g2, a, "--k", "4"]) == 0
    assert capsys.readouterr().out == same
    # a graph file that does not record its metric: --metric says which it is, needed against latents
    assert main(["compare", g0, a, "--k", "4"]) == 2
    err = capsys.readouterr().err
    assert "g0.parquet: kNN graph file does not record its metric; give --metric" in err
    assert main(["compare", g0, a, "--k", "4", "--metric", "l2"]) == 0
    assert capsys.readouterr().out == same
    assert main(["compare", g0, g2, "--k", "4"]) == 0
    assert capsys.readouterr().out == same


def test_labels_and_ids_with_parquet_inputs_are_errors(two_latents, capsys):
    d, X, _, labels = two_latents
    np.save(d / "y.npy", labels)
    a, b, y = str(d / "a.parquet"), str(d / "b.parquet"), str(d / "y.npy")
    for argv in (["compare", a, b, "--k", "4", "--labels", y], ["compare", a, b, "--k", "4", "--ids", y],
                 ["knn", a, "--k", "4", "--labels", y, "-o", str(d / "g.parquet")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "applies to .npy latents only" in err and "a.parquet" in err, argv
    assert not (d / "g.parquet").exists()


def test_output_paths_are_checked_before_the_work(two_latents, capsys, monkeypatch):
    import os

    import latentgraph.graphs.knn

    d, *_ = two_latents
    a, b = str(d / "a.parquet"), str(d / "b.parquet")
    (d / "file.txt").write_text("x")
    (d / "folder").mkdir()
    (d / "w.pth").write_bytes(b"")

    def no_search(*args, **kwargs):
        raise AssertionError("the output path is checked before the search")

    monkeypatch.setattr(latentgraph.graphs.knn, "knn_table", no_search)
    cases = [
        (["knn", a, "--k", "4", "-o", str(d / "file.txt" / "g.parquet")], "file.txt is a file, not a folder"),
        (["compare", a, b, "--k", "4", "-o", str(d / "file.txt" / "sub" / "t.csv")], "file.txt is a file, not"),
        (["knn", a, "--k", "4", "-o", str(d / "folder")], "folder: is a folder; -o takes the name of the file"),
        (["compare", a, b, "--k", "4", "-o", str(d / "folder")], "folder: is a folder"),
        (["extract", str(d / "w.pth"), "--dataset", "synthetic", "-o", str(d / "folder")], "folder: is a folder"),
    ]
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p) == str(d / "ro") else
                        real_access(p, mode, **kw))
    (d / "ro").mkdir()
    cases += [(["knn", a, "--k", "4", "-o", str(d / "ro" / "new" / "g.parquet")], "folder " + str(d / "ro")
               + " is not writable"),
              (["compare", a, b, "--k", "4", "-o", str(d / "ro" / "t.csv")], "is not writable")]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, (argv, err)
    assert sorted(p.name for p in d.iterdir()) == ["a.parquet", "b.parquet", "file.txt", "folder", "ro", "w.pth"]
    assert not any((d / "folder").iterdir()) and not any((d / "ro").iterdir())


def test_extract_errors_name_cli_options(tmp_path, capsys):
    out = str(tmp_path / "lat.parquet")
    assert main(["extract", str(tmp_path / "missing.pth"), "--dataset", "synthetic", "-o", out]) == 2
    err = capsys.readouterr().err
    assert "missing.pth: weights file does not exist" in err and "classgraph." not in err
    (tmp_path / "w.pth").write_bytes(b"")
    for dataset in ("imagefolder", "cifar100"):
        assert main(["extract", str(tmp_path / "w.pth"), "--dataset", dataset, "-o", out]) == 2
        err = capsys.readouterr().err
        assert f"--dataset {dataset} needs --root" in err and "data." not in err, err
    assert main(["extract", str(tmp_path / "w.pth"), "--dataset", "cifar100", "--root", str(tmp_path / "nope"),
                 "-o", out]) == 2
    err = capsys.readouterr().err
    assert "--root " + str(tmp_path / "nope") + ": folder does not exist" in err and "data." not in err, err


def test_integer_option_messages(two_latents, capsys):
    d, *_ = two_latents
    a = str(d / "a.parquet")
    for option, value, message in (("--null", "-1", "-1 must be >= 0"), ("--null", "x", "'x' is not an integer"),
                                   ("--k", "0", "0 must be >= 1"), ("--n-eigs", "-2", "-2 must be >= 1")):
        with pytest.raises(SystemExit) as exc:
            main(["compare", a, a, option, value])
        assert exc.value.code == 2
        assert f"argument {option}: {message}" in capsys.readouterr().err


def test_command_results_are_readable_under_umask_022(two_latents):
    """Files the commands write get 0644 under umask 022, not a temporary file's private 0600."""
    import os

    d, *_ = two_latents
    old = os.umask(0o022)
    try:
        assert main(["knn", str(d / "a.parquet"), "--k", "4", "-o", str(d / "g.parquet")]) == 0
        assert main(["compare", str(d / "a.parquet"), str(d / "b.parquet"), "--k", "4", "-o", str(d / "t.csv")]) == 0
        assert main(["classgraph", str(d / "a.parquet"), "--k", "4", "--class-k", "2", "--no-figures",
                     "-o", str(d / "cg")]) == 0
    finally:
        os.umask(old)
    written = [d / "g.parquet", d / "t.csv", *(p for p in (d / "cg").iterdir())]
    assert len(written) > 4
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in written} == {p.name: "0o644" for p in written}
    assert (d / "cg").stat().st_mode & 0o777 == 0o755


def test_explore_command_writes_a_page_and_refuses_bad_arguments(two_latents, capsys):
    """latentgraph explore: two latents files (rows in different orders) -> one page; argument errors are one line."""
    import json
    import re

    d, *_ = two_latents
    out = d / "page.html"
    assert main(["explore", str(d / "a.parquet"), str(d / "b.parquet"), "--k", "3", "--titles", "first", "second",
                 "-o", str(out)]) == 0
    assert "80 samples in 2 view(s), no class view, no thumbnails" in capsys.readouterr().out
    assert out.stat().st_size > 100_000  # the vendored libraries alone are 430 KB
    data = json.loads(re.search(r'id="lg-data">(.*?)</script>', out.read_text(), re.S).group(1).replace("<\\/", "</"))
    assert [p["title"] for p in data["samples"]] == ["first", "second"] and data["sample_id"] == list(range(0, 240, 3))
    for args, message in (([], "nothing to show"),
                          ([str(d / "a.parquet")] * 3, "at most two latents files"),
                          ([str(d / "a.parquet"), "--knn", "x.parquet", "y.parquet"], "--knn: 2 files for 1"),
                          (["--nodes", "n.csv"], "--nodes and --edges go together"),
                          ([str(d / "a.parquet"), "--k", "80"], "k=80")):
        assert main(["explore", *args, "-o", str(d / "x.html")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, err
    assert not (d / "x.html").exists()


def test_measures_command_lists_the_registry(capsys):
    from latentgraph.compare.registry import REGISTRY

    assert main(["measures"]) == 0
    out = capsys.readouterr().out
    for m in REGISTRY:
        assert m.name in out
    assert "invertible_linear" in out and "Kriegeskorte et al. 2008" in out
    assert main(["measures", "--format", "csv", "--long"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(df["name"]) == [m.name for m in REGISTRY]
    assert df.set_index("name").loc["procrustes", "range"] == "[0, √2]"
    assert df.set_index("name").loc["mean_cca", "similar"] == "larger"
    assert main(["measures", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("| name | needs |")


def test_compare_measure_all(two_latents, capsys):
    from latentgraph.compare.measures import columns
    from latentgraph.compare.registry import NAMES, REGISTRY

    d, X, _, labels = two_latents
    assert main(["compare", str(d / "a.parquet"), str(d / "b.parquet"), "--k", "4", "--measure", "all"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(df.columns) == ["k", *columns(NAMES)]
    # a kNN graph file: all = the graph measures; a latents measure by name is a one-line error
    main(["knn", str(d / "a.parquet"), "--k", "4", "-o", str(d / "g.parquet")])
    capsys.readouterr()
    assert main(["compare", str(d / "g.parquet"), str(d / "b.parquet"), "--k", "4", "--measure", "all"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(df.columns) == ["k", *columns([m.name for m in REGISTRY if m.needs == "graphs"])]
    assert main(["compare", str(d / "g.parquet"), str(d / "b.parquet"), "--k", "4", "--measure", "jaccard",
                 "procrustes"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "g.parquet: measure 'procrustes' needs latents" in err
