"""The numba L1 candidate kernel on its own: exact against numpy brute force, ties by index,
row sub-ranges and thread counts giving bit-identical rows."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from latentgraph.graphs import _l1kernel  # noqa: E402
from latentgraph.graphs._l1kernel import (  # noqa: E402
    block_rows,
    int16_supported,
    l1_candidates,
    l1_exact,
    l1_form,
    l1_tolerance,
    quantize_int16,
)

U32 = 2.0**-24
needs_int16 = pytest.mark.skipif(not int16_supported(), reason="the int16 form needs a CPU with AVX-512 BW and VNNI")


def brute(X: np.ndarray, kk: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kk nearest rows by exact float64 L1, ordered by (distance, index); and all distances."""
    X64 = X.astype(np.float64)
    D = np.abs(X64[:, None, :] - X64[None, :, :]).sum(axis=2)
    cols = np.broadcast_to(np.arange(len(X)), D.shape)
    order = np.lexsort((cols, D), axis=1)[:, :kk]
    return order, np.take_along_axis(D, order, axis=1), D


@pytest.mark.parametrize(("n", "d", "kk"), [(5, 3, 5), (13, 16, 4), (131, 33, 9), (250, 512, 17), (300, 70, 25)])
def test_candidates_are_the_exact_nearest(n: int, d: int, kk: int) -> None:
    # sizes off the 4 x 3 register tile, off the cache blocks (block_rows), d off the 16 lanes
    rng = np.random.default_rng(n + d)
    X = (rng.normal(size=(n, d)) * rng.uniform(0.1, 5, size=d)).astype(np.float32)
    idx, dist = l1_candidates(X, kk, threads=2, form="abs")
    ref_i, ref_d, _ = brute(X, kk)
    assert idx.dtype == np.int64 and dist.dtype == np.float64 and idx.shape == dist.shape == (n, kk)
    np.testing.assert_array_equal(idx, ref_i)  # continuous random data: no ties
    np.testing.assert_array_equal(idx[:, 0], np.arange(n))  # each row itself first, at 0
    assert np.all(dist[:, 0] == 0)
    # float32 distances within the bound the caller re-ranks with
    assert np.all(np.abs(dist - ref_d) <= 4 * (d + 2) * U32 * ref_d + 1e-30)
    assert np.all(np.diff(dist, axis=1) >= 0)


@pytest.mark.parametrize(("n", "d", "kk"), [(13, 16, 4), (131, 33, 9), (250, 512, 17), (300, 70, 25)])
def test_min_form_candidates_are_the_exact_nearest(n: int, d: int, kk: int) -> None:
    # non-negative rows take the "min" form: sum q + sum x - 2 sum min(q, x)
    rng = np.random.default_rng(n + d)
    X = (np.maximum(rng.normal(size=(n, d)), 0) * rng.uniform(0.1, 5, size=d)).astype(np.float32)
    X[X == 0] = rng.choice([0.0, -0.0], size=int((X == 0).sum()))  # -0.0 counts as non-negative
    assert _l1kernel._min_form_sums(X) is not None
    idx, dist = l1_candidates(X, kk, threads=2, form="min")
    ref_i, ref_d, _ = brute(X, kk)
    np.testing.assert_array_equal(idx, ref_i)
    assert np.all(np.diff(dist, axis=1) >= 0)
    # every distance within the bound the caller re-ranks with (relative to the rows' sums)
    for j in range(kk):
        assert np.all(np.abs(dist[:, j] - ref_d[:, j]) <= l1_tolerance(X, dist[:, j], np.arange(n), "min"))
    # the same neighbours as the "abs" form, which is exact to the distance's own size
    np.testing.assert_array_equal(l1_candidates(X, kk, threads=2, form="abs")[0], ref_i)


def test_form_choice_and_bad_forms() -> None:
    rng = np.random.default_rng(2)
    X = rng.random((30, 5), dtype=np.float32)
    assert l1_form(X) == "min"
    assert l1_form(-X) == "abs"
    assert l1_form(np.zeros((3, 0), dtype=np.float32)) == "abs"
    assert l1_form(np.full((2, 4), 1e36, dtype=np.float32)) == "abs"  # sums near float32's overflow
    with pytest.raises(ValueError, match="form 'min' needs non-negative"):
        l1_candidates(X - 0.5, 3, form="min")
    with pytest.raises(ValueError, match="form must be one of"):
        l1_candidates(X, 3, form="max")
    with pytest.raises(ValueError, match="sums must hold one sum per row"):
        l1_candidates(X, 3, form="min", sums=np.ones(3))
    with pytest.raises(ValueError, match="form must be 'abs', 'min' or 'int16'"):
        l1_tolerance(X, np.ones(30), np.arange(30), "auto")
    with pytest.raises(ValueError, match="form 'int16' needs quant"):
        l1_tolerance(X, np.ones(30), np.arange(30), "int16")
    # int16 where the CPU runs it and there are enough features; else the float32 forms
    wide = rng.random((30, _l1kernel.INT16_MIN_D), dtype=np.float32)
    assert l1_form(wide) == ("int16" if int16_supported() else "min")
    assert l1_form(wide - 0.5) == ("int16" if int16_supported() else "abs")


def test_int16_form_needs_its_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_l1kernel, "int16_supported", lambda: False)
    X = np.random.default_rng(0).random((40, 96), dtype=np.float32)
    assert l1_form(X) == "min"
    with pytest.raises(ValueError, match="form 'int16' needs numba compiling for a CPU with AVX-512 BW and VNNI"):
        l1_candidates(X, 3, form="int16")
    np.testing.assert_array_equal(l1_candidates(X, 5)[0], l1_candidates(X, 5, form="min")[0])


def test_quantize_int16_steps_sums_and_bounds() -> None:
    rng = np.random.default_rng(4)
    for d in (1, 31, 96, 1000):
        X = (rng.standard_t(3, size=(57, d)) * rng.uniform(0.01, 50, size=d)).astype(np.float32)
        q = quantize_int16(X, rows=64)
        levels = min(32767, (2**24 - 1) // d)
        assert q.X.dtype == np.int16 and q.X.shape == (64, -(-d // 32) * 32) and q.X.flags.c_contiguous
        assert q.X[:57, :d].min() == 0 and q.X[:57, :d].max() == levels  # the widest feature spans all steps
        assert not q.X[57:].any() and not q.X[:, d:].any()  # zero padding
        np.testing.assert_array_equal(q.sums, q.X[:57].sum(axis=1, dtype=np.int64))
        # the bound on each row's rounding, in the data's units
        shifted = X.astype(np.float64) - X.min(axis=0).astype(np.float64)
        true_err = np.abs(q.X[:57, :d] * q.step - shifted).sum(axis=1)
        assert np.all(true_err <= q.err) and np.all(q.err <= d * q.step) and q.err_max == q.err.max()
    same = quantize_int16(np.ones((4, 70), dtype=np.float32))  # no spread: every row 0, no error
    assert not same.X.any() and same.err_max < 1e-6


@needs_int16
@pytest.mark.parametrize(("n", "d", "seed"), [(250, 512, 0), (300, 70, 1), (431, 64, 2), (97, 130, 3)])
def test_int16_candidates_are_within_their_bound(n: int, d: int, seed: int) -> None:
    # heavy tails, uneven scales, negative values: the integer distance times the step is
    # within the two rows' rounding bounds of the exact distance, for every listed pair
    rng = np.random.default_rng(seed)
    X = (rng.standard_t(4, size=(n, d)) * rng.uniform(0.05, 20, size=d)).astype(np.float32)
    q = quantize_int16(X)
    idx, dist = l1_candidates(X, 17, threads=2, form="int16", quant=q)
    ref_i, ref_d, D = brute(X, 17)
    exact = np.take_along_axis(D, idx, axis=1)
    assert np.all(np.abs(dist - exact) <= q.err[:, None] + q.err[idx])
    assert np.all(np.diff(dist, axis=1) >= 0) and np.all(dist[:, 0] == 0)
    tol = l1_tolerance(X, dist[:, -1], np.arange(n), "int16", quant=q)
    # no row outside the list is nearer than the last candidate minus the bound
    outside = D.copy()
    np.put_along_axis(outside, idx, np.inf, axis=1)
    assert np.all(outside.min(axis=1) >= dist[:, -1] - tol)
    # in integer steps: symmetric, and the same whichever path, rows or threads computed them
    i1, d1 = l1_candidates(X, 17, threads=1, form="int16")
    np.testing.assert_array_equal(i1, idx)
    np.testing.assert_array_equal(d1, dist)
    rows = rng.permutation(n)[:41]
    ir, dr = l1_candidates(X, 17, threads=2, form="int16", rows=rows)
    np.testing.assert_array_equal(ir, idx[rows])
    np.testing.assert_array_equal(dr, dist[rows])
    ia, da = l1_candidates(X, 17, threads=2, form="int16", rows=(n // 3, n - 1))
    np.testing.assert_array_equal(ia, idx[n // 3 : n - 1])
    np.testing.assert_array_equal(da, dist[n // 3 : n - 1])
    pairs = {(r, int(c)): v for r in range(n) for c, v in zip(idx[r], dist[r], strict=True)}
    assert all(pairs[(c, r)] == v for (r, c), v in pairs.items() if (c, r) in pairs)


@needs_int16
def test_int16_ties_are_ordered_by_index() -> None:
    # integers whose widest feature spans exactly 32767: each value is its own step, so the
    # integer distances are the exact ones, with many ties; duplicates tie at 0
    rng = np.random.default_rng(3)
    base = rng.integers(0, 3, size=(60, 64)).astype(np.float32) * 10000
    base[0, 0], base[1, 0] = 32767, 0
    X = np.concatenate([base, base[:20], base[5:15]])[rng.permutation(90)]
    assert quantize_int16(X).step == 1.0
    ref_i, ref_d, _ = brute(X, 12)
    for threads in (1, 2):
        idx, dist = l1_candidates(X, 12, threads=threads, form="int16")
        np.testing.assert_array_equal(idx, ref_i)
        np.testing.assert_array_equal(dist, ref_d)


@pytest.mark.parametrize("form", ["abs", "min", pytest.param("int16", marks=needs_int16)])
def test_query_row_arrays_equal_rows_of_the_full_run(form: str) -> None:
    rng = np.random.default_rng(12)
    X = rng.exponential(size=(300, 96)).astype(np.float32)
    full_i, full_d = l1_candidates(X, 10, threads=2, form=form)
    for rows in (np.array([5]), np.array([299, 0, 17, 17, 140]), rng.permutation(300)[:77]):
        idx, dist = l1_candidates(X, 10, threads=2, rows=rows, form=form)
        np.testing.assert_array_equal(idx, full_i[rows])
        np.testing.assert_array_equal(dist, full_d[rows])
    for rows in (np.array([], dtype=np.int64), np.array([300]), np.array([-1, 2])):
        with pytest.raises(ValueError, match="rows must be a non-empty array"):
            l1_candidates(X, 3, rows=rows)


def test_ties_are_ordered_by_index() -> None:
    # small integers: float32 sums are exact, so equal distances are exactly equal, and
    # duplicate rows tie at 0 with the query itself
    rng = np.random.default_rng(3)
    base = rng.integers(0, 3, size=(60, 8)).astype(np.float32)
    X = np.concatenate([base, base[:20], base[5:15]])[rng.permutation(90)]
    kk = 12
    ref_i, ref_d, _ = brute(X, kk)
    for threads in (1, 2):
        idx, dist = l1_candidates(X, kk, threads=threads)
        np.testing.assert_array_equal(dist, ref_d)
        np.testing.assert_array_equal(idx, ref_i)
    idx, dist = l1_candidates(X, kk, rows=(7, 61))
    np.testing.assert_array_equal(idx, ref_i[7:61])
    np.testing.assert_array_equal(dist, ref_d[7:61])


@pytest.mark.parametrize("rows", [(0, 1), (0, 299), (1, 300), (119, 121), (299, 300), (37, 250)])
def test_row_subrange_equals_rows_of_the_full_run(rows: tuple[int, int]) -> None:
    rng = np.random.default_rng(11)
    X = rng.exponential(size=(300, 96)).astype(np.float32)
    assert block_rows(96) < 300  # the full run takes the symmetric path over several blocks
    full_i, full_d = l1_candidates(X, 10, threads=2)
    a, b = rows
    idx, dist = l1_candidates(X, 10, threads=2, rows=rows)
    assert idx.shape == (b - a, 10)
    np.testing.assert_array_equal(idx, full_i[a:b])
    np.testing.assert_array_equal(dist, full_d[a:b])  # bit for bit: the same tile code


@pytest.mark.parametrize("sign", ["signed", "non-negative"])
def test_paths_and_thread_counts_agree_bit_for_bit(monkeypatch: pytest.MonkeyPatch, sign: str) -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(509, 40)).astype(np.float32)
    if sign == "non-negative":
        X = np.abs(X)  # the "min" form
    assert l1_form(X) == ("min" if sign == "non-negative" else "abs")
    i2, d2 = l1_candidates(X, 7, threads=2)
    i1, d1 = l1_candidates(X, 7, threads=1)
    monkeypatch.setattr(_l1kernel, "SYMMETRIC_MAX_BYTES", 0)  # forces the row-by-row path
    ir, dr = l1_candidates(X, 7, threads=2)
    for i, d in ((i1, d1), (ir, dr)):
        np.testing.assert_array_equal(i, i2)
        np.testing.assert_array_equal(d, d2)
    # symmetric distances: d(i, j) == d(j, i) exactly wherever both were listed
    D = {(r, int(c)): v for r in range(len(X)) for c, v in zip(i2[r], d2[r], strict=True)}
    assert all(D[(c, r)] == v for (r, c), v in D.items() if (c, r) in D)


def test_threads_setting_is_restored_and_bad_arguments_raise() -> None:
    import numba

    before = numba.get_num_threads()
    X = np.random.default_rng(0).random((20, 4), dtype=np.float32)
    l1_candidates(X, 3, threads=1)
    assert numba.get_num_threads() == before
    for kk in (0, 21):
        with pytest.raises(ValueError, match="kk must be"):
            l1_candidates(X, kk)
    for rows in ((3, 3), (-1, 4), (5, 21)):
        with pytest.raises(ValueError, match="rows must"):
            l1_candidates(X, 3, rows=rows)


def test_block_rows() -> None:
    for d in (1, 7, 64, 512, 2048, 100_000):
        b = block_rows(d)
        assert b % 12 == 0 and 12 <= b <= _l1kernel.QUERY_BLOCK
    assert block_rows(512) * 512 * 4 <= _l1kernel.BLOCK_BYTES


@pytest.mark.parametrize("d", [0, 1, 7, 8, 9, 128, 129, 257, 512, 1000])
def test_exact_distances_have_numpys_bits(d: int) -> None:
    # numpy's float64 sum over the last axis (its pairwise summation), as knn._pair_distances
    # computes the final distances: the numba version must give the same bits, not just close ones
    rng = np.random.default_rng(d)
    X = (rng.normal(size=(200, d)) * rng.uniform(0.01, 100, size=d)).astype(np.float32)
    rows = rng.permutation(200)[:150]
    cand = rng.integers(0, 200, size=(150, 13))
    ref = np.abs(X[cand].astype(np.float64) - X[rows][:, None, :].astype(np.float64)).sum(axis=2)
    for threads in (1, 2):
        got = l1_exact(X, cand, rows, threads=threads)
        assert got.dtype == np.float64 and got.shape == (150, 13)
        np.testing.assert_array_equal(got, ref)
    # only each row's first count[r] candidates: the same bits there, inf after
    count = rng.integers(0, 14, size=150)
    got = l1_exact(X, cand, rows, count=count)
    first = np.arange(13)[None, :] < count[:, None]
    np.testing.assert_array_equal(got[first], ref[first])
    assert np.isinf(got[~first]).all()


def test_exact_distances_check_their_arguments() -> None:
    X = np.zeros((10, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="outside"):
        l1_exact(X, np.array([[0, 10]]), np.array([0]))
    with pytest.raises(ValueError, match="outside"):
        l1_exact(X, np.array([[0, 1]]), np.array([-1]))
    with pytest.raises(ValueError, match="need X"):
        l1_exact(X, np.array([[0, 1]]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"count must hold one value in \[0, 2\] per row"):
        l1_exact(X, np.array([[0, 1]]), np.array([0]), count=np.array([3]))
