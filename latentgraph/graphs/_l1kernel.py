"""A cache-blocked exact L1 candidate search on the CPU (numba).

FAISS's ``IndexFlat(METRIC_L1)`` has no GEMM formulation (L1 is not an inner product), so
it streams every database row from memory once per query batch and is memory bound. This
kernel tiles the work instead:

- **register tiles** of 4 query rows x 3 database rows: the innermost loop over the
  features is a reduction vectorised with AVX-512; 7 vector loads feed 12 accumulations, so
  the loop is bound by the vector units, not by loads. Three forms of the sum:

  - ``"int16"`` (CPUs with AVX-512 BW and VNNI, :func:`int16_supported`; chosen by
    :func:`l1_form` from :data:`INT16_MIN_D` features): every feature is shifted by its
    minimum and all are counted in one common step, as int16 values in [0, 32767]
    (:func:`quantize_int16`). The tile sums ``min(q, x)`` of 32 int16 lanes per vector with an
    integer minimum (``vpminsw``) and ``vpdpwssd`` (a multiply-add of lane pairs by 1 into
    16 int32 sums): two operations per 32 lanes, twice the float32 forms' rate, on half the
    bytes. The sums are exact integers (below 2**24), so the distance in steps is exact and
    the only error is each row's rounding to steps, which :func:`quantize_int16` bounds per
    row. Its LLVM code is written out (:func:`_tile16`), as numba does not vectorise it;
  - ``"min"`` (non-negative rows, such as post-ReLU latents): since
    ``|q - x| = q + x - 2 min(q, x)``, the tile sums ``min(q, x)`` and the distance is
    ``sum(q) + sum(x) - 2 sum(min(q, x))`` with the rows' sums precomputed in float64. For
    non-negative floats the minimum is the signed-integer minimum of their bit patterns
    (``vpminsd``), which runs on all four vector pipes of AMD Zen 4; with the addition that
    is two operations per lane instead of three. Its float32 error is relative to the rows'
    sums rather than to the distance (:func:`l1_tolerance`);
  - ``"abs"`` (any rows): the tile sums ``|q - x|``. Each lane needs a subtraction, an absolute
    value (a mask) and an addition; a plain subtraction would queue on the two adders with
    the accumulation (on Zen 4, 8 lanes per cycle and core), so the subtraction is written
    ``fma(x, -1, q)`` (exactly ``q - x``) and runs on the FMA units (about 10 % faster on
    Zen 4, bit-identical results);

  each form's error has a bound (:func:`l1_tolerance`): the caller checks each row's
  candidates against it and searches the rows it cannot vouch for again with the next form
  (``"int16"``, ``"min"``, ``"abs"``, whose error is relative to the distance itself);

- **cache blocks** of :func:`block_rows` rows (about 256 KiB each): a pair of blocks stays in
  L2 while its 4 x 3 tiles are computed;
- **filtered offers**: a pair of blocks' distances are computed first, into a block-sized
  array; then each candidate list is offered only the distances that can enter it (those
  <= its last candidate's), found by a vectorised count and a branch-free gather. After the
  first blocks the lists are short of room: about 5 % of the distances get offered;
- **symmetry**: for a search of all rows, each unordered pair of blocks is computed once and
  every distance is offered to both rows' candidate lists (half the arithmetic). Threads
  keep private candidate lists, merged at the end; a search of some rows only
  (``rows=(a, b)`` for shard jobs, or an array of rows) scans all database rows per query
  instead.

Candidate lists are ordered by (float32 distance, index), so for a given form the result
does not depend on the number of threads, on the block sizes or on the path (symmetric or
rows): every distance comes out of the same 4 x 3 tile code, bit for bit (``|a - b| == |b - a|``
and ``min(a, b) == min(b, a)`` in IEEE arithmetic, ``sum(q) + sum(x)`` is added before the
minimum term in strict float64, and the summation order is the tile's, whichever slot a row
sits in; the ``"int16"`` form's integer sums are exact anyway). The ``"int16"`` steps are
set by all rows of X, so shards of one search quantise alike. Rows are padded with zeros to
whole blocks; padded rows are never offered as candidates.

It only proposes candidates (the ``kk`` smallest approximate distances per query); the caller
re-ranks them exactly in float64 (see :mod:`latentgraph.graphs.knn`). :func:`l1_exact`
computes those exact distances with numpy's own summation order (bit-identical to the
numpy expression) without numpy's (rows, candidates, d) float64 temporaries.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from ..utils import numba_threads

try:  # numba is optional: without it the "numba" backend is simply unavailable
    import numba
    from llvmlite import ir as llvm_ir
    from numba import njit, prange
    from numba.core import cgutils, types
    from numba.extending import intrinsic, overload

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_NUMBA = False

#: rows of a register tile: query rows, database rows (the tile code below is written for 4 x 3)
TILE_Q, TILE_D = 4, 3
#: the most rows in a cache block (multiple of 12 = lcm(TILE_Q, TILE_D))
QUERY_BLOCK = 240
#: bytes of one cache block of rows; two blocks share a core's L2 (1 MiB on Zen 4)
BLOCK_BYTES = 256 * 1024
#: the symmetric path keeps one (N, kk) candidate list per thread; above this many bytes
#: for all of them together it falls back to the row-by-row path
SYMMETRIC_MAX_BYTES = 1 << 30
#: the kernel's ways of summing a distance (see l1_candidates)
FORMS = ("auto", "abs", "min", "int16")
#: the "int16" form's vectors: 32 int16 lanes (rows are padded with zero columns to a multiple)
INT16_LANES = 32
#: the "int16" form is chosen by "auto" from this many features on (fewer waste lanes on padding)
INT16_MIN_D = 64
#: the "min" form is used for rows whose sums stay below this (float32 overflows near 3.4e38)
MIN_FORM_MAX_SUM = 1e36
#: unit roundoff of float32
U32 = 2.0**-24


def block_rows(d: int) -> int:
    """Rows per cache block for ``d`` features: about :data:`BLOCK_BYTES`, a multiple of 12.

    Parameters
    ----------
    d : int
        Number of features (columns).

    Returns
    -------
    int
        Between 12 and :data:`QUERY_BLOCK`, a multiple of 12.
    """
    rows = BLOCK_BYTES // (4 * max(1, int(d)))
    return int(min(QUERY_BLOCK, max(12, rows // 12 * 12)))


if HAVE_NUMBA:

    @intrinsic
    def _fma32(typingctx, a, b, c):  # pragma: no cover - compiled
        # llvm.fma.f32: a * b + c with one rounding. The kernel calls it as fma(x, -1, q), which
        # is q - x exactly (x * -1 is exact), but runs on the FMA units instead of the adders
        # that the accumulation needs; -1 comes in as an argument so that LLVM cannot fold the
        # call back into a subtraction.
        sig = types.float32(types.float32, types.float32, types.float32)

        def codegen(context, builder, signature, args):
            fnty = llvm_ir.FunctionType(llvm_ir.FloatType(), [llvm_ir.FloatType()] * 3)
            return builder.call(cgutils.get_or_insert_function(builder.module, fnty, "llvm.fma.f32"), args)

        return sig, codegen

    @njit(inline="always", fastmath=True, cache=True)
    def _offer(hd, hi, r, dist, idx, kk):  # pragma: no cover - compiled
        # hd[r], hi[r]: candidates of heap row r sorted by (distance, index); keep the kk smallest
        last_d = hd[r, kk - 1]
        if dist < last_d or (dist == last_d and idx < hi[r, kk - 1]):
            pos = kk - 1
            while pos > 0 and (hd[r, pos - 1] > dist or (hd[r, pos - 1] == dist and hi[r, pos - 1] > idx)):
                hd[r, pos] = hd[r, pos - 1]
                hi[r, pos] = hi[r, pos - 1]
                pos -= 1
            hd[r, pos] = dist
            hi[r, pos] = idx

    @njit(inline="always", fastmath=True, cache=True)
    def _tile(Q, X, i, j, d, D, di, dj, m):  # pragma: no cover - compiled
        # the register tile: D[di + t, dj + s] = sum_c |Q[i + t, c] - X[j + s, c]| for 4 query rows and
        # 3 database rows, in 12 float32 accumulators (7 loads feed 12 FMA-subtract, abs, add).
        # The one copy of the inner loop: the kernel and benchmarks/bench_knn.py's peak use it.
        a0 = np.float32(0.0)
        a1 = np.float32(0.0)
        a2 = np.float32(0.0)
        a3 = np.float32(0.0)
        b0 = np.float32(0.0)
        b1 = np.float32(0.0)
        b2 = np.float32(0.0)
        b3 = np.float32(0.0)
        c0 = np.float32(0.0)
        c1 = np.float32(0.0)
        c2 = np.float32(0.0)
        c3 = np.float32(0.0)
        for c in range(d):
            x = X[j, c]
            y = X[j + 1, c]
            z = X[j + 2, c]
            q0 = Q[i, c]
            q1 = Q[i + 1, c]
            q2 = Q[i + 2, c]
            q3 = Q[i + 3, c]
            a0 += abs(_fma32(x, m, q0))
            a1 += abs(_fma32(x, m, q1))
            a2 += abs(_fma32(x, m, q2))
            a3 += abs(_fma32(x, m, q3))
            b0 += abs(_fma32(y, m, q0))
            b1 += abs(_fma32(y, m, q1))
            b2 += abs(_fma32(y, m, q2))
            b3 += abs(_fma32(y, m, q3))
            c0 += abs(_fma32(z, m, q0))
            c1 += abs(_fma32(z, m, q1))
            c2 += abs(_fma32(z, m, q2))
            c3 += abs(_fma32(z, m, q3))
        D[di, dj] = a0
        D[di + 1, dj] = a1
        D[di + 2, dj] = a2
        D[di + 3, dj] = a3
        D[di, dj + 1] = b0
        D[di + 1, dj + 1] = b1
        D[di + 2, dj + 1] = b2
        D[di + 3, dj + 1] = b3
        D[di, dj + 2] = c0
        D[di + 1, dj + 2] = c1
        D[di + 2, dj + 2] = c2
        D[di + 3, dj + 2] = c3

    @intrinsic
    def _min_bits(typingctx, a, b):  # pragma: no cover - compiled
        # min(a, b) of two non-negative float32 values as the signed-integer minimum of their bit
        # patterns (IEEE order of non-negative floats is the integer order of their bits; -0.0 is
        # the smallest pattern and stands for 0). vpminsd runs on all four vector pipes of Zen 4,
        # where vminps would queue on the two adders with the accumulation.
        sig = types.float32(types.float32, types.float32)

        def codegen(context, builder, signature, args):
            i32 = llvm_ir.IntType(32)
            fnty = llvm_ir.FunctionType(i32, [i32, i32])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.smin.i32")
            r = builder.call(fn, [builder.bitcast(args[0], i32), builder.bitcast(args[1], i32)])
            return builder.bitcast(r, llvm_ir.FloatType())

        return sig, codegen

    @njit(inline="always", fastmath=True, cache=True)
    def _tile_min(Q, X, i, j, d, D, di, dj):  # pragma: no cover - compiled
        # the "min" register tile: D[di + t, dj + s] = sum_c min(Q[i + t, c], X[j + s, c]) for 4 x 3 rows
        # of non-negative values, in 12 float32 accumulators (7 loads feed 12 integer minima and
        # 12 additions: two operations per pair and lane instead of three)
        a0 = np.float32(0.0)
        a1 = np.float32(0.0)
        a2 = np.float32(0.0)
        a3 = np.float32(0.0)
        b0 = np.float32(0.0)
        b1 = np.float32(0.0)
        b2 = np.float32(0.0)
        b3 = np.float32(0.0)
        c0 = np.float32(0.0)
        c1 = np.float32(0.0)
        c2 = np.float32(0.0)
        c3 = np.float32(0.0)
        for c in range(d):
            x = X[j, c]
            y = X[j + 1, c]
            z = X[j + 2, c]
            q0 = Q[i, c]
            q1 = Q[i + 1, c]
            q2 = Q[i + 2, c]
            q3 = Q[i + 3, c]
            a0 += _min_bits(x, q0)
            a1 += _min_bits(x, q1)
            a2 += _min_bits(x, q2)
            a3 += _min_bits(x, q3)
            b0 += _min_bits(y, q0)
            b1 += _min_bits(y, q1)
            b2 += _min_bits(y, q2)
            b3 += _min_bits(y, q3)
            c0 += _min_bits(z, q0)
            c1 += _min_bits(z, q1)
            c2 += _min_bits(z, q2)
            c3 += _min_bits(z, q3)
        D[di, dj] = a0
        D[di + 1, dj] = a1
        D[di + 2, dj] = a2
        D[di + 3, dj] = a3
        D[di, dj + 1] = b0
        D[di + 1, dj + 1] = b1
        D[di + 2, dj + 1] = b2
        D[di + 3, dj + 1] = b3
        D[di, dj + 2] = c0
        D[di + 1, dj + 2] = c1
        D[di + 2, dj + 2] = c2
        D[di + 3, dj + 2] = c3

    @intrinsic
    def _tile16(typingctx, Q, X, i, j, D, di, dj):  # pragma: no cover - compiled
        # the "int16" register tile: D[di + t, dj + s] = sum_c min(Q[i + t, c], X[j + s, c]) for
        # 4 x 3 rows of int16 values in [0, 32767], as float32 (exact: the sums stay below 2**24,
        # see quantize_int16). Written as LLVM vector code, as numba does not vectorise it: per
        # 32 lanes, 7 loads feed 12 llvm.smin.v32i16 (vpminsw) and 12 pmaddwd-with-ones plus
        # int32 additions, which the x86 back end fuses into one vpdpwssd each on CPUs with
        # AVX512-VNNI: two operations per 32 lanes, where the float32 forms need two per 16.
        # Rows have a multiple of INT16_LANES columns.
        if not (isinstance(Q, types.Array) and Q.dtype == types.int16 and isinstance(X, types.Array)
                and X.dtype == types.int16 and isinstance(D, types.Array) and D.dtype == types.float32):
            return None
        sig = types.void(Q, X, i, j, D, di, dj)

        def codegen(context, builder, signature, args):
            i16, i32, i64 = llvm_ir.IntType(16), llvm_ir.IntType(32), llvm_ir.IntType(64)
            v32i16, v16i32 = llvm_ir.VectorType(i16, 32), llvm_ir.VectorType(i32, 16)
            qa = context.make_array(signature.args[0])(context, builder, args[0])
            xa = context.make_array(signature.args[1])(context, builder, args[1])
            da = context.make_array(signature.args[4])(context, builder, args[4])
            iv, jv, div, djv = (context.cast(builder, args[a], signature.args[a], types.int64) for a in (2, 3, 5, 6))
            ncols = builder.extract_value(qa.shape, 1)
            mod = builder.module
            vmin = cgutils.get_or_insert_function(mod, llvm_ir.FunctionType(v32i16, [v32i16, v32i16]),
                                                  "llvm.smin.v32i16")
            madd = cgutils.get_or_insert_function(mod, llvm_ir.FunctionType(v16i32, [v32i16, v32i16]),
                                                  "llvm.x86.avx512.pmaddw.d.512")
            vsum = cgutils.get_or_insert_function(mod, llvm_ir.FunctionType(i32, [v16i32]),
                                                  "llvm.vector.reduce.add.v16i32")
            ones = llvm_ir.Constant(v32i16, [1] * 32)
            qrows = [builder.gep(qa.data, [builder.mul(builder.add(iv, llvm_ir.Constant(i64, t)), ncols)])
                     for t in range(4)]
            xrows = [builder.gep(xa.data, [builder.mul(builder.add(jv, llvm_ir.Constant(i64, u)), ncols)])
                     for u in range(3)]
            accs = [cgutils.alloca_once_value(builder, llvm_ir.Constant(v16i32, [0] * 16)) for _ in range(12)]
            nvec = builder.udiv(ncols, llvm_ir.Constant(i64, 32))
            with cgutils.for_range(builder, nvec) as loop:
                off = builder.mul(loop.index, llvm_ir.Constant(i64, 32))

                def load(row):
                    return builder.load(builder.bitcast(builder.gep(row, [off]), v32i16.as_pointer()), align=2)

                qv = [load(r) for r in qrows]
                xv = [load(r) for r in xrows]
                for u in range(3):
                    for t in range(4):
                        acc = accs[4 * u + t]
                        pairs = builder.call(madd, [builder.call(vmin, [xv[u], qv[t]]), ones])
                        builder.store(builder.add(builder.load(acc), pairs), acc)
            shape = cgutils.unpack_tuple(builder, da.shape)
            strides = cgutils.unpack_tuple(builder, da.strides)
            for u in range(3):
                for t in range(4):
                    total = builder.sitofp(builder.call(vsum, [builder.load(accs[4 * u + t])]), llvm_ir.FloatType())
                    inds = [builder.add(div, llvm_ir.Constant(i64, t)), builder.add(djv, llvm_ir.Constant(i64, u))]
                    ptr = cgutils.get_item_pointer2(context, builder, data=da.data, shape=shape, strides=strides,
                                                    layout=signature.args[4].layout, inds=inds)
                    builder.store(total, ptr)
            return context.get_dummy_value()

        return sig, codegen

    def _tile_of(Q, X, i, j, d, D, di, dj, m, use_min):  # pragma: no cover - replaced by the overload
        raise NotImplementedError("compiled only")

    @overload(_tile_of, inline="always")
    def _tile_of_impl(Q, X, i, j, d, D, di, dj, m, use_min):  # pragma: no cover - compiled
        # the register tile for the rows' type: "int16" on int16 rows, else "min" or "abs" (the
        # choice is made when numba compiles the caller, so only one tile is compiled in)
        if isinstance(Q, types.Array) and Q.dtype == types.int16:
            def impl16(Q, X, i, j, d, D, di, dj, m, use_min):
                _tile16(Q, X, i, j, D, di, dj)

            return impl16

        def impl(Q, X, i, j, d, D, di, dj, m, use_min):
            if use_min:
                _tile_min(Q, X, i, j, d, D, di, dj)
            else:
                _tile(Q, X, i, j, d, D, di, dj, m)

        return impl

    @njit(cache=True)
    def _from_min(pair_sum, min_sum):  # pragma: no cover - compiled
        # |q - x| summed = sum q + sum x - 2 sum min(q, x), rounded to float32. Not fastmath: the
        # sum of the two rows' sums comes first, so the result is the same for (q, x) and (x, q)
        return np.float32(pair_sum - 2.0 * np.float64(min_sum))

    @njit(inline="always", fastmath=True, cache=True)
    def _tiles(Q, X, i0, i1, j0, j1, n, qoff, hd, hi, both, kk, m, qs, xs, D, buf, thc, cnt):  # pragma: no cover - compiled
        # rows i0..i1 of Q (global query index qoff + i, heap row i) against rows j0..j1 of X.
        # Every distance is offered to the query's heap row; with `both` (Q is X, and the two
        # blocks differ) also to the database row's heap row, with the query as candidate.
        # Padded rows (index >= n) are never offered. i1 - i0 and j1 - j0 are multiples of
        # TILE_Q and TILE_D. m is -1. qs, xs: float64 row sums of Q and X for the "min" form
        # (see l1_candidates), or empty arrays for the "abs" form; Q and X hold int16 values
        # for the "int16" form (qs, xs: their integer sums).
        # The block's distances are computed first, into D[i - i0, j - j0]; then each heap row
        # is offered only the distances that can enter it (<= its last candidate's: ties are
        # decided by index in _offer), found by a vectorised count and a branch-free gather
        # into buf (thc, cnt: the columns' thresholds and counts). Lists only shrink, so a
        # distance above the threshold when it is read would never have entered.
        d = X.shape[1]
        use_min = qs.shape[0] > 0
        ni = i1 - i0
        nj = j1 - j0
        for i in range(i0, i1, 4):
            for j in range(j0, j1, 3):
                _tile_of(Q, X, i, j, d, D, i - i0, j - j0, m, use_min)
        if use_min:
            for t in range(ni):
                q = qs[i0 + t]
                for s in range(nj):
                    D[t, s] = _from_min(q + xs[j0 + s], D[t, s])
        jlim = max(0, min(j1, n) - j0)  # columns that are rows of X, not padding
        for t in range(ni):
            r = i0 + t
            th = hd[r, kk - 1]
            c = 0
            for s in range(jlim):
                c += D[t, s] <= th
            if c > 0:
                c = 0
                for s in range(jlim):
                    buf[c] = s
                    c += D[t, s] <= th
                for u in range(c):
                    s = buf[u]
                    _offer(hd, hi, r, D[t, s], j0 + s, kk)
        if both:
            ilim = max(0, min(ni, n - qoff - i0))  # rows that are queries, not padding
            for s in range(nj):
                thc[s] = hd[j0 + s, kk - 1]
                cnt[s] = 0
            for t in range(ilim):
                for s in range(nj):
                    cnt[s] += D[t, s] <= thc[s]
            for s in range(jlim):
                if cnt[s] > 0:
                    c = 0
                    th = thc[s]
                    for t in range(ilim):
                        buf[c] = t
                        c += D[t, s] <= th
                    for u in range(c):
                        t = buf[u]
                        _offer(hd, hi, j0 + s, D[t, s], qoff + i0 + t, kk)

    @njit(parallel=True, fastmath=True, cache=True)
    def _search_symmetric(Xp, n, kk, block, nthreads, m, sums):  # pragma: no cover - compiled
        # all rows against all rows; each unordered pair of blocks once, private heaps per
        # thread. m is -1 (see _fma32); sums: row sums for the "min" form, else empty.
        n_pad = Xp.shape[0]
        nb = n_pad // block
        n_pairs = nb * (nb + 1) // 2
        pi = np.empty(n_pairs, dtype=np.int64)
        pj = np.empty(n_pairs, dtype=np.int64)
        p = 0
        for bi in range(nb):
            for bj in range(bi, nb):
                pi[p] = bi
                pj[p] = bj
                p += 1
        hd = np.full((nthreads, n_pad, kk), np.inf, dtype=np.float32)
        hi = np.full((nthreads, n_pad, kk), n, dtype=np.int32)
        for p in prange(n_pairs):
            tid = numba.get_thread_id()
            D = np.empty((block, block), dtype=np.float32)
            buf = np.empty(block, dtype=np.int64)
            thc = np.empty(block, dtype=np.float32)
            cnt = np.empty(block, dtype=np.int64)
            i0 = pi[p] * block
            j0 = pj[p] * block
            # a diagonal block offers to its rows only: each pair is met twice there
            _tiles(Xp, Xp, i0, i0 + block, j0, j0 + block, n, 0, hd[tid], hi[tid], pi[p] != pj[p], kk, m, sums,
                   sums, D, buf, thc, cnt)
        out_d = np.empty((n, kk), dtype=np.float64)
        out_i = np.empty((n, kk), dtype=np.int64)
        for r in prange(n):
            # merge the threads' sorted lists by (distance, index)
            pos = np.zeros(nthreads, dtype=np.int64)
            for c in range(kk):
                best = 0
                for t in range(1, nthreads):
                    dt = hd[t, r, pos[t]]
                    db = hd[best, r, pos[best]]
                    if dt < db or (dt == db and hi[t, r, pos[t]] < hi[best, r, pos[best]]):
                        best = t
                out_d[r, c] = hd[best, r, pos[best]]
                out_i[r, c] = hi[best, r, pos[best]]
                pos[best] += 1
        return out_i, out_d

    @njit(parallel=True, fastmath=True, cache=True)
    def _search_rows(Qp, Xp, n, qoff, kk, qblock, block, m, qsums, sums):  # pragma: no cover - compiled
        # query rows Qp (global indices qoff + i) against every row of Xp; m is -1 (see _fma32);
        # qsums, sums: row sums of Qp and Xp for the "min" form, else empty
        nq_pad = Qp.shape[0]
        n_pad = Xp.shape[0]
        nqb = (nq_pad + qblock - 1) // qblock
        hd = np.full((nq_pad, kk), np.inf, dtype=np.float32)
        hi = np.full((nq_pad, kk), n, dtype=np.int32)
        for qb in prange(nqb):
            D = np.empty((qblock, block), dtype=np.float32)
            buf = np.empty(block, dtype=np.int64)
            thc = np.empty(0, dtype=np.float32)  # for the columns' offers, which this path does not make
            cnt = np.empty(0, dtype=np.int64)
            i0 = qb * qblock
            i1 = min(nq_pad, i0 + qblock)
            for j0 in range(0, n_pad, block):
                _tiles(Qp, Xp, i0, i1, j0, j0 + block, n, qoff, hd, hi, False, kk, m, qsums, sums, D, buf, thc, cnt)
        return hi.astype(np.int64), hd.astype(np.float64)


    @njit(inline="always", cache=True)
    def _term(X, a, b, i):  # pragma: no cover - compiled
        return abs(np.float64(X[b, i]) - np.float64(X[a, i]))

    @njit(inline="always", cache=True)
    def _block(X, a, b, s, n):  # pragma: no cover - compiled
        # numpy's pairwise_sum (numpy/_core/src/umath/loops_utils.h.src) of the terms
        # s .. s + n - 1 of |X[b] - X[a]| for n <= 128 (PW_BLOCKSIZE): the same order, the same bits
        if n < 8:
            res = 0.0
            for i in range(s, s + n):
                res += _term(X, a, b, i)
            return res
        r0 = _term(X, a, b, s)
        r1 = _term(X, a, b, s + 1)
        r2 = _term(X, a, b, s + 2)
        r3 = _term(X, a, b, s + 3)
        r4 = _term(X, a, b, s + 4)
        r5 = _term(X, a, b, s + 5)
        r6 = _term(X, a, b, s + 6)
        r7 = _term(X, a, b, s + 7)
        i = 8
        while i < n - (n % 8):
            r0 += _term(X, a, b, s + i)
            r1 += _term(X, a, b, s + i + 1)
            r2 += _term(X, a, b, s + i + 2)
            r3 += _term(X, a, b, s + i + 3)
            r4 += _term(X, a, b, s + i + 4)
            r5 += _term(X, a, b, s + i + 5)
            r6 += _term(X, a, b, s + i + 6)
            r7 += _term(X, a, b, s + i + 7)
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += _term(X, a, b, s + i)
            i += 1
        return res

    @njit(inline="always", cache=True)
    def _pairwise(X, a, b, s, n, ts, tn, vals):  # pragma: no cover - compiled
        # numpy's pairwise_sum of the terms s .. s + n - 1: above 128 terms it adds the sums of
        # two halves (the first n // 2 rounded down to a multiple of 8), recursively. Iterative
        # here (a cached recursive function crashes numba): a task stack (start, length;
        # length -1 = add the last two values) and a value stack; ts, tn, vals are scratch.
        ts[0] = s
        tn[0] = n
        nt = 1
        nv = 0
        while nt > 0:
            nt -= 1
            s1 = ts[nt]
            n1 = tn[nt]
            if n1 < 0:
                nv -= 1
                vals[nv - 1] = vals[nv - 1] + vals[nv]
            elif n1 <= 128:
                vals[nv] = _block(X, a, b, s1, n1)
                nv += 1
            else:
                n2 = n1 // 2
                n2 -= n2 % 8
                tn[nt] = -1
                ts[nt + 1] = s1 + n2
                tn[nt + 1] = n1 - n2
                ts[nt + 2] = s1
                tn[nt + 2] = n2
                nt += 3
        return vals[0]

    @njit(parallel=True, cache=True)
    def _exact_rows(X, cand, rows, count, nthreads):  # pragma: no cover - compiled
        # numpy's add.reduce over the last axis starts from the first term and adds the
        # pairwise sum of the others. Only the first count[r] candidates of row r; inf after.
        nr, m = cand.shape
        d = X.shape[1]
        out = np.empty((nr, m), dtype=np.float64)
        ts = np.empty((nthreads, 128), dtype=np.int64)  # per thread: a task stack, 3 per halving: plenty
        tn = np.empty((nthreads, 128), dtype=np.int64)
        vals = np.empty((nthreads, 128), dtype=np.float64)
        for r in prange(nr):
            tid = numba.get_thread_id()
            a = rows[r]
            for t in range(count[r], m):
                out[r, t] = np.inf
            for t in range(count[r]):
                b = cand[r, t]
                if d == 0:
                    out[r, t] = 0.0
                else:
                    out[r, t] = _term(X, a, b, 0) + _pairwise(X, a, b, 1, d - 1, ts[tid], tn[tid], vals[tid])
        return out


if HAVE_NUMBA:

    @njit(parallel=True, cache=True)
    def _quantize(X, lo, inv, levels, out, sums, err):  # pragma: no cover - compiled
        # out[r, c] = round((X[r, c] - lo[c]) * inv) in [0, levels]; sums[r]: the row's integer
        # sum; err[r]: sum_c |out[r, c] - (X[r, c] - lo[c]) * inv|, in steps
        n, d = X.shape
        for r in prange(n):
            s = 0.0
            e = 0.0
            for c in range(d):
                y = (np.float64(X[r, c]) - np.float64(lo[c])) * inv
                q = np.floor(y + 0.5)
                if q > levels:
                    q = levels
                if q < 0.0:
                    q = 0.0
                out[r, c] = np.int16(q)
                s += q
                e += abs(q - y)
            sums[r] = s
            err[r] = e


@functools.lru_cache(maxsize=1)
def int16_supported() -> bool:
    """Whether this machine runs the kernel's ``"int16"`` form.

    It needs numba and a CPU with AVX-512 BW and VNNI (``vpdpwssd``: Intel from Ice Lake and
    Cascade Lake, AMD from Zen 4), and numba compiling for this CPU (no ``NUMBA_CPU_NAME`` or
    ``NUMBA_CPU_FEATURES``, which build code for other machines).

    Returns
    -------
    bool
        True when ``form="int16"`` can run here.
    """
    if not HAVE_NUMBA or numba.config.CPU_NAME or numba.config.CPU_FEATURES:
        return False
    try:
        from llvmlite import binding

        features = binding.get_host_cpu_features()
    except Exception:  # pragma: no cover - llvmlite cannot read this CPU's features
        return False
    return bool(features.get("avx512bw", False) and features.get("avx512vnni", False))


class Int16Rows(NamedTuple):
    """Rows quantised for the kernel's ``"int16"`` form (see :func:`quantize_int16`).

    Attributes
    ----------
    X : numpy.ndarray
        (rows, d') int16 values in [0, levels], C-contiguous; d' is d rounded up to a multiple of
        :data:`INT16_LANES` (zero columns), rows >= N (zero rows below).
    step : float
        The data's units per integer step: a row's value ``x[c]`` is about ``lo[c] + step * X[r, c]``.
    sums : numpy.ndarray
        (N,) float64 integer row sums of ``X``.
    err : numpy.ndarray
        (N,) float64 bound, in the data's units, on ``sum_c |step * X[r, c] - (x[r, c] - lo[c])|``.
    err_max : float
        ``err.max()``.
    """

    X: np.ndarray
    step: float
    sums: np.ndarray
    err: np.ndarray
    err_max: float


def _int16_block(d: int) -> int:
    """Rows per cache block of the ``"int16"`` form: about :data:`BLOCK_BYTES` of int16 rows."""
    return block_rows(-(-max(d, 1) // INT16_LANES) * INT16_LANES // 2)


def quantize_int16(X: np.ndarray, rows: int | None = None, threads: int | None = None) -> Int16Rows:
    """Rows of ``X`` as int16 steps of one common size, for the kernel's ``"int16"`` form.

    Each feature is shifted by its minimum, and all by one step ``h`` chosen so that the
    largest shifted value is ``levels = min(32767, (2**24 - 1) // d)`` steps: every sum of a
    row's steps (and every L1 distance in steps) is an integer below 2**24, exact in int32 and
    in float32. L1 distances do not change under a shift per feature, so
    ``h * sum_c |X~[q, c] - X~[x, c]|`` is the distance up to the rows' rounding errors,
    ``err[q] + err[x]`` (see :class:`Int16Rows`).

    Parameters
    ----------
    X : numpy.ndarray
        (N, d) finite rows.
    rows : int, optional
        Rows of the result (>= N; zero rows below the data); default: N rounded up to the
        kernel's cache blocks, so that :func:`l1_candidates` uses the array without a copy.
    threads : int, optional
        Numba threads for this call (default: numba's current setting); restored afterwards.

    Returns
    -------
    Int16Rows
        The quantised rows, the step, the row sums and the rounding bounds.
    """
    if not HAVE_NUMBA:
        raise ImportError("the numba backend needs numba (pip install numba)")
    X = np.ascontiguousarray(X, dtype=np.float32)
    n, d = X.shape
    if rows is None:
        block = _int16_block(d)
        rows = -(-n // block) * block
    rows = max(n, int(rows))
    width = -(-max(d, 1) // INT16_LANES) * INT16_LANES
    levels = float(min(32767, (2**24 - 1) // max(d, 1)))
    out = np.zeros((rows, width), dtype=np.int16)
    sums = np.zeros(n, dtype=np.float64)
    err = np.zeros(n, dtype=np.float64)
    if n == 0 or d == 0:
        return Int16Rows(out, 1.0, sums, err, 0.0)
    lo = X.min(axis=0).astype(np.float64)
    span = float((X.max(axis=0).astype(np.float64) - lo).max())
    inv = levels / span if span > 0 else 1.0  # steps per unit; the step h is 1 / inv
    if not np.isfinite(inv) or inv <= 0:
        inv = 1.0 / span if np.isfinite(span) and span > 0 else 1.0
    with numba_threads(threads):
        _quantize(X, lo, inv, levels, out[:n, :d], sums, err)
    # the computed (X - lo) * inv is within 2**-52 relative of the real one (two roundings):
    # with values <= levels that is < 1e-11 steps each; 1e-9 per feature covers it and the sum
    err = (err + d * 1e-9) * (1.0 + 1e-12) / inv
    return Int16Rows(out, 1.0 / inv, sums, err, float(err.max()))


def load_kernel() -> None:
    """Make numba ready to run the kernel: one call of a small cached function.

    Numba's first call of any compiled function in a process sets up its compiler context
    (about 0.3 s), even when the machine code comes from its cache; the kernel's own cached
    code then loads in milliseconds. See :func:`latentgraph.graphs.knn.preload_numba`.

    Raises
    ------
    ImportError
        Without numba.
    """
    if not HAVE_NUMBA:
        raise ImportError("the numba backend needs numba (pip install numba)")
    _from_min(0.0, np.float32(0.0))


def _padded_sums(sums: np.ndarray, rows: int) -> np.ndarray:
    """Row sums padded with zeros to ``rows`` entries."""
    out = np.zeros(rows, dtype=np.float64)
    out[: sums.shape[0]] = sums
    return out


def _padded(X: np.ndarray, rows: int) -> np.ndarray:
    """``X`` as a C-contiguous, writable array of ``rows`` rows (its dtype), zeros below."""
    out = np.zeros((rows, X.shape[1]), dtype=X.dtype)
    out[: X.shape[0]] = X
    return out


def l1_form(X: np.ndarray) -> str:
    """The kernel's form for ``X``: ``"int16"`` where it runs, else ``"min"`` or ``"abs"``.

    ``"int16"`` (:func:`int16_supported`, and at least :data:`INT16_MIN_D` features) sums the
    rows' quantised steps, 32 lanes per two vector operations; the float32 forms are kept for
    the rows whose candidates it cannot vouch for (see :func:`l1_tolerance`). Otherwise the
    ``"min"`` form sums ``min(q, x)`` and recovers the L1 distance as
    ``sum(q) + sum(x) - 2 sum(min(q, x))`` (two vector operations per pair and lane instead of
    three, see :func:`l1_candidates`); it needs values >= 0 (-0.0 included) and row sums far
    from float32's overflow.

    Parameters
    ----------
    X : numpy.ndarray
        (N, d) finite float32 rows.

    Returns
    -------
    str
        ``"int16"``, ``"min"`` or ``"abs"``.
    """
    if X.ndim == 2 and X.shape[1] >= INT16_MIN_D and X.shape[0] > 0 and int16_supported():
        return "int16"
    return "abs" if _min_form_sums(X) is None else "min"


def _min_form_sums(X: np.ndarray) -> np.ndarray | None:
    """Float64 row sums of ``X`` when the ``"min"`` form applies to it, else None.

    The sums follow numpy's summation order, so every query gets the same values whichever
    rows are searched.
    """
    if X.size == 0 or X.min() < 0:
        return None
    sums = X.sum(axis=1, dtype=np.float64)
    return sums if float(sums.max()) < MIN_FORM_MAX_SUM else None


def l1_candidates(
    X: np.ndarray,
    kk: int,
    threads: int | None = None,
    rows: tuple[int, int] | np.ndarray | None = None,
    form: str = "auto",
    sums: np.ndarray | None = None,
    quant: Int16Rows | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``kk`` nearest rows (of all of ``X``, itself included) of each query row by approximate L1.

    Parameters
    ----------
    X : numpy.ndarray
        (N, d) rows; converted to float32.
    kk : int
        Number of candidates per query, 1 <= kk <= N.
    threads : int, optional
        Numba threads for this call (default: numba's current setting); restored afterwards.
    rows : tuple of int or numpy.ndarray, optional
        ``(a, b)``: search for the query rows ``X[a:b]`` only (0 <= a < b <= N), against
        all of X; a 1-D integer array: search for those rows; None (default) searches for
        every row, computing each pair once.
    form : str, optional
        How each distance is summed in float32: ``"abs"`` adds ``|q - x|``; ``"min"`` (non-negative
        ``X`` only, see :func:`l1_form`) adds ``min(q, x)`` and returns
        ``sum(q) + sum(x) - 2 sum(min(q, x))``, faster (two operations per lane instead of
        three) but with an error relative to the rows' sums rather than to the distance (see
        :func:`l1_tolerance`); ``"int16"`` (CPUs with AVX-512 VNNI, :func:`int16_supported`)
        sums the rows' quantised steps (:func:`quantize_int16`) exactly in integers, 32 lanes
        per two vector operations, with an error bounded by the rows' rounding; ``"auto"``
        (default) is :func:`l1_form`.
    sums : numpy.ndarray, optional
        For the ``"min"`` form: the rows' float64 sums as ``_min_form_sums(X)`` gives them,
        when the caller already has them (default: computed here).
    quant : Int16Rows, optional
        For the ``"int16"`` form: ``quantize_int16(X)``, when the caller already has it (default:
        computed here).

    Returns
    -------
    indices : numpy.ndarray
        (queries, kk) int64; row i lists the candidates of query row i (a + i for a range).
    distances : numpy.ndarray
        (queries, kk) float64: the float32 distances, or for ``"int16"`` the integer distances
        in steps times the step; each row ascending by (distance, index). Bit-identical for a
        query whichever ``rows``, ``threads`` or path computed it (for a given form).

    Raises
    ------
    ImportError
        Without numba.
    ValueError
        For ``kk``, ``rows`` or ``form`` out of range, or 2**31 rows or more.
    """
    if not HAVE_NUMBA:
        raise ImportError("the numba backend needs numba (pip install numba)")
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}")
    X = np.ascontiguousarray(X, dtype=np.float32)
    n, d = X.shape
    kk = int(kk)
    if not 1 <= kk <= n:
        raise ValueError(f"kk must be in [1, {n}], got {kk}")
    if n >= 2**31:
        raise ValueError(f"at most 2**31 - 1 rows (candidate indices are int32 inside), got {n}")
    if form not in FORMS:
        raise ValueError(f"form must be one of {list(FORMS)}, got {form!r}")
    empty = np.empty(0, dtype=np.float64)
    if form == "int16" or (form == "auto" and d >= INT16_MIN_D and int16_supported()):
        if not int16_supported():
            raise ValueError("form 'int16' needs numba compiling for a CPU with AVX-512 BW and VNNI "
                             "(see int16_supported)")
        if quant is not None and quant.sums.shape != (n,):
            raise ValueError(f"quant must hold the {n} rows of X, got {quant.sums.shape[0]}")
        form = "int16"
    elif form == "abs":
        sums = empty
    elif sums is None:
        sums = _min_form_sums(X)
    elif sums.shape != (n,):
        raise ValueError(f"sums must hold one sum per row ({n}), got shape {sums.shape}")
    if sums is None:
        if form == "min":
            raise ValueError("form 'min' needs non-negative rows (see l1_form)")
        sums = empty  # "auto" on rows with negative values: the "abs" form
    if form == "int16":
        block = _int16_block(d)
        n_pad = -(-n // block) * block
        if quant is None:
            quant = quantize_int16(X, rows=n_pad, threads=threads)
        src = quant.X[:n]
        Xp = quant.X[:n_pad] if quant.X.shape[0] >= n_pad else _padded(src, n_pad)
        sums = _padded_sums(quant.sums, n_pad)
        step = quant.step
    else:
        block = block_rows(d)
        n_pad = -(-n // block) * block
        src = X
        Xp = _padded(X, n_pad)
        if sums.size > 0:  # given the row sums, the kernel takes the "min" form
            sums = _padded_sums(sums, n_pad)
        step = None
    if rows is None or isinstance(rows, tuple):
        a, b = (0, n) if rows is None else (int(rows[0]), int(rows[1]))
        if not 0 <= a < b <= n:
            raise ValueError(f"rows must satisfy 0 <= a < b <= {n}, got {rows}")
        queries = None if (a, b) == (0, n) else np.arange(a, b)
        qoff = a
    else:
        queries = np.asarray(rows, dtype=np.int64).ravel()
        if queries.size == 0 or queries.min() < 0 or queries.max() >= n:
            raise ValueError(f"rows must be a non-empty array of row indices in [0, {n})")
        qoff = 0
    use_min = sums.size > 0  # "min" and "int16" (whose tile sums minima too)
    with numba_threads(threads) as nthreads:
        if queries is None and nthreads * n_pad * kk * 8 <= SYMMETRIC_MAX_BYTES:
            idx, dist = _search_symmetric(Xp, n, kk, block, nthreads, np.float32(-1.0), sums)
            return idx, dist if step is None else dist * step
        if queries is None:
            queries = np.arange(n)
        nq = queries.size
        # at least 4 query blocks per thread (load balance), each a multiple of TILE_Q rows
        qblock = min(block, max(TILE_Q, -(-nq // (4 * nthreads * TILE_Q)) * TILE_Q))
        nq_pad = -(-nq // TILE_Q) * TILE_Q
        Qp = _padded(src[queries], nq_pad)
        qsums = _padded_sums(sums[queries], nq_pad) if use_min else empty
        idx, dist = _search_rows(Qp, Xp, n, qoff, kk, qblock, block, np.float32(-1.0), qsums, sums)
        return idx[:nq], dist[:nq] if step is None else dist[:nq] * step


def l1_tolerance(X: np.ndarray, approx: np.ndarray, queries: np.ndarray, form: str,
                 sums: np.ndarray | None = None, quant: Int16Rows | None = None) -> np.ndarray:
    """A bound on |distance from :func:`l1_candidates` - exact distance|, per query.

    For a query whose kk-th candidate has float32 distance ``approx``, every row that is not
    a candidate is at an exact distance of at least ``approx - tolerance``: the caller keeps
    the candidates' exact top k when the k-th exact distance is below that.

    - ``"abs"``: the float32 sum of d terms |q - x| >= 0 is within (d - 1) u of the exact
      sum, relative to the distance itself (u = 2**-24); bound 4 (d + 2) u ``approx``.
    - ``"min"``: ``sum(q) + sum(x) - 2 m`` with ``m`` the float32 sum of ``min(q, x)``
      (0 <= m <= sum(q)), in float64, rounded to float32: within 2.02 (d - 1) u sum(q) +
      1.01 u |approx|; bound 4 (d + 4) u sum(q) + 4 u |approx|, relative to the query
      row's sum, not to the distance.
    - ``"int16"``: the integer distance in steps is exact, so the error is the two rows'
      rounding to steps (:func:`quantize_int16`): bound ``err[q] + max(err)`` (any candidate
      row), plus 1e-12 ``|approx|`` for the float64 products.

    Parameters
    ----------
    X : numpy.ndarray
        (N, d) float32 rows.
    approx : numpy.ndarray
        (Q,) float32 distances (as float64) of each query's last candidate.
    queries : numpy.ndarray
        (Q,) the query rows.
    form : str
        ``"abs"`` or ``"min"``, as the candidates were computed.
    sums : numpy.ndarray, optional
        The rows' float64 sums (all N), when the caller has them; default: the query rows
        are summed here.
    quant : Int16Rows, optional
        For ``"int16"``: the quantised rows the candidates were computed from (required).

    Returns
    -------
    numpy.ndarray
        (Q,) float64 tolerances.
    """
    d = X.shape[1]
    approx = np.asarray(approx, dtype=np.float64)
    if form == "abs":
        return 4.0 * (d + 2) * U32 * approx + 1e-30
    if form == "int16":
        if quant is None:
            raise ValueError("form 'int16' needs quant, the quantised rows of the candidates")
        return quant.err[np.asarray(queries, dtype=np.int64)] + quant.err_max + 1e-12 * np.abs(approx) + 1e-30
    if form != "min":
        raise ValueError(f"form must be 'abs', 'min' or 'int16', got {form!r}")
    queries = np.asarray(queries, dtype=np.int64)
    q_sums = X[queries].sum(axis=1, dtype=np.float64) if sums is None else sums[queries]
    return 4.0 * (d + 4) * U32 * q_sums + 4.0 * U32 * np.abs(approx) + 1e-30


def l1_exact(X: np.ndarray, cand: np.ndarray, rows: np.ndarray, threads: int | None = None,
             count: np.ndarray | None = None) -> np.ndarray:
    """Exact float64 L1 distances from rows ``rows`` of X to their candidates, numpy's bits.

    Each distance is the float64 sum of ``|X[c] - X[r]|`` (float32 values widened to float64)
    in numpy's own summation order (the first term, then numpy's pairwise summation of the
    others), so it is bit-identical to ``np.abs(X[c].astype(float) - X[r].astype(float)).sum(-1)``
    as :func:`latentgraph.graphs.knn._pair_distances` computes it, for any d (checked against
    numpy in ``tests/graphs/test_l1kernel.py``), without the (rows, candidates, d) float64
    temporaries.

    Parameters
    ----------
    X : numpy.ndarray
        (N, d) rows; converted to float32.
    cand : numpy.ndarray
        (R, m) row indices into X, each in [0, N).
    rows : numpy.ndarray
        (R,) the query row of each row of ``cand``.
    threads : int, optional
        Numba threads for this call (default: numba's current setting); restored afterwards.
    count : numpy.ndarray, optional
        (R,) how many of each row's first candidates to compute, each in [0, m]; the others'
        distances are ``inf`` (for candidates known not to matter, see
        :func:`latentgraph.graphs.knn._needed`). Default: all.

    Returns
    -------
    numpy.ndarray
        (R, m) float64 distances.

    Raises
    ------
    ImportError
        Without numba.
    ValueError
        For shapes that do not match, indices or counts out of range.
    """
    if not HAVE_NUMBA:
        raise ImportError("the numba backend needs numba (pip install numba)")
    X = np.ascontiguousarray(X, dtype=np.float32)
    cand = np.ascontiguousarray(cand, dtype=np.int64)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    n = X.shape[0]
    if X.ndim != 2 or cand.ndim != 2 or rows.shape != (cand.shape[0],):
        raise ValueError(f"need X (N, d), cand (R, m) and rows (R,); got {X.shape}, {cand.shape}, {rows.shape}")
    for name, v in (("cand", cand), ("rows", rows)):
        if v.size and (v.min() < 0 or v.max() >= n):
            raise ValueError(f"{name} holds indices outside [0, {n})")
    m = cand.shape[1]
    if count is None:
        count = np.full(rows.shape, m, dtype=np.int64)
    else:
        count = np.ascontiguousarray(count, dtype=np.int64)
        if count.shape != rows.shape or (count.size and (count.min() < 0 or count.max() > m)):
            raise ValueError(f"count must hold one value in [0, {m}] per row ({rows.size}), got shape {count.shape}")
    with numba_threads(threads) as nthreads:
        return _exact_rows(X, cand, rows, count, nthreads)
