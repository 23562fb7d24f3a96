"""Latents and kNN Parquet files: schema, round trips, validation errors that name the file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from latentgraph.graphs.knn import knn_table
from latentgraph.io import read_knn, read_latents, write_knn, write_latents
from latentgraph.utils import LatentGraphError


@pytest.fixture
def latents():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6)).astype(np.float32)
    labels = rng.integers(0, 3, size=40)
    ids = np.arange(100, 140)
    return X, labels, ids


def test_latents_schema_and_round_trip(tmp_path, latents):
    X, labels, ids = latents
    path = write_latents(tmp_path / "l.parquet", X, labels, ids, prediction=labels, metadata={"epoch": 3, "seed": 1})
    schema = pq.read_schema(path)
    assert schema.field("sample_id").type == pa.int64()
    assert schema.field("label").type == pa.int64()
    assert schema.field("latent").type == pa.list_(pa.float32(), 6)  # fixed_size_list<float32>[6]
    lat = read_latents(path)
    np.testing.assert_array_equal(lat.X, X)
    np.testing.assert_array_equal(lat.labels, labels)
    np.testing.assert_array_equal(lat.sample_id, ids)
    assert lat.metadata["epoch"] == 3 and lat.metadata["latent_dim"] == 6
    assert lat.accuracy == 1.0
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary files left behind


def test_variable_length_list_column_is_accepted(tmp_path, latents):
    X, labels, ids = latents
    t = pa.table({"sample_id": ids, "label": labels, "latent": pa.array(X.tolist(), type=pa.list_(pa.float64()))})
    pq.write_table(t, tmp_path / "byo.parquet")
    lat = read_latents(tmp_path / "byo.parquet")
    np.testing.assert_allclose(lat.X, X)


def test_nan_and_inf_latents_are_rejected(tmp_path, latents):
    X, labels, ids = latents
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(LatentGraphError, match="NaN/inf"):
        write_latents(tmp_path / "bad.parquet", bad, labels, ids)
    assert not (tmp_path / "bad.parquet").exists()
    # a file written by someone else with an inf inside is rejected when read, naming the file
    t = pa.table({"sample_id": ids, "label": labels, "latent": pa.array(np.where(bad == bad, bad, np.inf).tolist())})
    pq.write_table(t, tmp_path / "inf.parquet")
    with pytest.raises(LatentGraphError, match=r"inf\.parquet.*NaN/inf"):
        read_latents(tmp_path / "inf.parquet")


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda X, y, i: (X, y[:-1], i), "labels have shape"),
        (lambda X, y, i: (X, y - 5, i), ">= 0"),
        (lambda X, y, i: (X, y.astype(float) + 0.5, i), "integers"),
        (lambda X, y, i: (X, y, np.zeros_like(i)), "repeat"),
        (lambda X, y, i: (X[:, 0], y, i), "2-D"),
        (lambda X, y, i: (X[:1], y[:1], i[:1]), "at least 2 samples"),
    ],
)
def test_bad_latents(tmp_path, latents, mutate, message):
    X, y, i = mutate(*latents)
    with pytest.raises(LatentGraphError, match=message):
        write_latents(tmp_path / "x.parquet", X, y, i)


def test_unreadable_and_incomplete_files_name_the_file(tmp_path, latents):
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"this is not parquet")
    with pytest.raises(LatentGraphError, match=r"junk\.parquet: cannot read latents file as Parquet"):
        read_latents(junk)
    with pytest.raises(LatentGraphError, match=r"missing\.parquet: latents file does not exist"):
        read_latents(tmp_path / "missing.parquet")
    X, labels, ids = latents
    pq.write_table(pa.table({"sample_id": ids, "label": labels}), tmp_path / "nolatent.parquet")
    with pytest.raises(LatentGraphError, match=r"lacks column\(s\) \['latent'\]"):
        read_latents(tmp_path / "nolatent.parquet")


def test_knn_round_trip_uses_sample_ids(tmp_path, latents):
    X, labels, ids = latents
    t = knn_table(X, 5, labels, ids, backend="numpy", metadata={"epoch": 2})
    write_knn(tmp_path / "g.parquet", t)
    back = read_knn(tmp_path / "g.parquet")
    np.testing.assert_array_equal(back.indices, t.indices)
    np.testing.assert_array_equal(back.distances, t.distances)
    assert back.k == 5 and back.metric == "l1" and back.metadata["epoch"] == 2
    stored = pq.read_table(tmp_path / "g.parquet").column("neighbor_ids").combine_chunks()
    np.testing.assert_array_equal(stored.flatten().to_numpy().reshape(40, 5), ids[t.indices])


def test_bring_your_own_latents_npy_and_label_files(tmp_path):
    from latentgraph.io import read_latents_any, read_vector_file

    X = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    (tmp_path / "y.txt").write_text("0\n1\n1\n2\n0\n2\n")
    pd.DataFrame({"id": [5, 6, 7, 8, 9, 10], "other": 0}).to_csv(tmp_path / "ids.csv", index=False)
    lat = read_latents_any(tmp_path / "x.npy", tmp_path / "y.txt", tmp_path / "ids.csv")
    np.testing.assert_array_equal(lat.X, X)
    assert lat.labels.tolist() == [0, 1, 1, 2, 0, 2] and lat.sample_id.tolist() == [5, 6, 7, 8, 9, 10]
    (tmp_path / "bad.txt").write_text("0\n1.5\n")
    with pytest.raises(LatentGraphError, match=r"bad\.txt: labels must be integers"):
        read_vector_file(tmp_path / "bad.txt")
    (tmp_path / "y.json").write_text("[]")
    with pytest.raises(LatentGraphError, match=r"y\.json: labels must be a \.npy, \.txt or \.csv file"):
        read_vector_file(tmp_path / "y.json")
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(tmp_path / "two.csv", index=False)
    with pytest.raises(LatentGraphError, match=r"two\.csv: no label/labels column"):
        read_vector_file(tmp_path / "two.csv")
    with pytest.raises(LatentGraphError, match=r"x\.npy: a \.npy latents matrix needs a labels file"):
        read_latents_any(tmp_path / "x.npy")
    np.save(tmp_path / "dup.npy", np.array([1, 1, 2, 3, 4, 5]))
    with pytest.raises(LatentGraphError, match="sample_id values repeat"):
        read_latents_any(tmp_path / "x.npy", tmp_path / "y.txt", tmp_path / "dup.npy")


def test_parquet_pages_carry_checksums_that_catch_bit_flips(tmp_path, latents):
    """A bit flipped on disk fails the read, naming the file, instead of changing the numbers."""
    import pyarrow.parquet as pq

    X, labels, ids = latents
    path = write_latents(tmp_path / "l.parquet", X, labels, ids)
    raw = bytearray(path.read_bytes())
    size = pq.ParquetFile(path).metadata.row_group(0).total_byte_size
    silent = 0
    for offset in range(8, min(size, len(raw) - 8), max(1, size // 40)):
        bad = bytearray(raw)
        bad[offset] ^= 0x10
        (tmp_path / "bad.parquet").write_bytes(bad)
        try:
            got = read_latents(tmp_path / "bad.parquet")
        except LatentGraphError as exc:
            assert "bad.parquet" in str(exc)
            continue
        silent += not np.array_equal(got.X, X)
    assert silent == 0


def test_results_get_the_mode_an_ordinary_write_gives(tmp_path, latents):
    """atomic_path's temporary file is private (0600); the result is not (umask 022 -> 0644, 027 -> 0640)."""
    import os

    X, labels, ids = latents
    for mask, mode in ((0o022, 0o644), (0o027, 0o640)):
        old = os.umask(mask)
        try:
            path = write_latents(tmp_path / f"l{mask:o}.parquet", X, labels, ids)
        finally:
            os.umask(old)
        assert path.stat().st_mode & 0o777 == mode


def test_count_rows_reads_headers_only(tmp_path):
    from latentgraph.io import count_rows

    X = np.zeros((7, 3), dtype=np.float32)
    write_latents(tmp_path / "a.parquet", X, np.arange(7))
    np.save(tmp_path / "a.npy", X)
    assert count_rows(tmp_path / "a.parquet") == 7
    assert count_rows(tmp_path / "a.npy") == 7
    (tmp_path / "junk.parquet").write_text("nope")
    assert count_rows(tmp_path / "junk.parquet") is None
    assert count_rows(tmp_path / "missing.parquet") is None


def test_latents_are_read_in_batches_into_one_array(tmp_path, monkeypatch):
    """read_latents reads the latent column in batches (several row groups and a file with one):
    the same array, bit for bit, and writable; nulls anywhere are still a clear error."""
    import latentgraph.io as io_mod

    rng = np.random.default_rng(4)
    X = rng.normal(size=(1000, 24)).astype(np.float32)
    labels, ids = np.arange(1000) % 7, np.arange(1000) * 2
    write_latents(tmp_path / "a.parquet", X, labels, ids)
    t = pq.read_table(tmp_path / "a.parquet")
    pq.write_table(t, tmp_path / "groups.parquet", row_group_size=300)  # four row groups
    monkeypatch.setattr(io_mod, "LIST_BATCH_BYTES", 24 * 4 * 130)  # batches of 1,024 rows at least
    for name in ("a.parquet", "groups.parquet"):
        lat = read_latents(tmp_path / name)
        np.testing.assert_array_equal(lat.X, X)
        assert lat.X.dtype == np.float32 and lat.X.flags.writeable and lat.X.flags.c_contiguous
        np.testing.assert_array_equal(lat.sample_id, ids)
    monkeypatch.setattr(io_mod, "LIST_BATCH_BYTES", 1)  # 1,024 rows: one batch and a part
    np.testing.assert_array_equal(read_latents(tmp_path / "groups.parquet").X, X)
    rows = [list(map(float, r)) for r in X]
    rows[1010 % 1000] = None
    bad = pa.table({"sample_id": ids, "label": labels, "latent": pa.array(rows, type=pa.list_(pa.float32(), 24))})
    pq.write_table(bad, tmp_path / "null_row.parquet", row_group_size=300)
    with pytest.raises(LatentGraphError, match=r"null_row\.parquet: column 'latent' has 1 null rows"):
        read_latents(tmp_path / "null_row.parquet")
    rows[10] = [None] + rows[11][1:]
    bad = pa.table({"sample_id": ids, "label": labels, "latent": pa.array(rows, type=pa.list_(pa.float32(), 24))})
    pq.write_table(bad, tmp_path / "null_value.parquet")
    with pytest.raises(LatentGraphError, match=r"null_value\.parquet: column 'latent' has null values"):
        read_latents(tmp_path / "null_value.parquet")


def test_reading_latents_peaks_near_the_array_size(tmp_path):
    """The batched read holds the array and a few batches, not the whole decoded column as well:
    the process's peak resident memory grows by about 2.9x the array's size here (fixed costs
    included: the labels, the finite check), 5-6.6x with the whole column read at once."""
    import subprocess
    import sys

    X = np.random.default_rng(0).random((40_000, 256), dtype=np.float32)  # 39 MiB
    write_latents(tmp_path / "big.parquet", X, np.arange(40_000) % 10)
    code = ("import sys, numpy as np\n"
            "from latentgraph.io import read_latents\n"
            "def hwm():\n"
            "    return next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
            "before = hwm()\n"
            "lat = read_latents(sys.argv[1])\n"
            "print((hwm() - before) / lat.X.nbytes)\n")
    ratio = float(subprocess.run([sys.executable, "-c", code, str(tmp_path / "big.parquet")], check=True,
                                 capture_output=True, text=True).stdout)
    assert ratio < 4.0, f"reading latents peaked at {ratio:.2f}x the array's size"
