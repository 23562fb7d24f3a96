"""The ``fc`` head of a classifier as numpy arrays: predictions and files, without torch.

:func:`head_predict` is how the latents files' ``prediction`` column is computed (see
:mod:`latentgraph.nets.extraction`), so applying it to stored latents reproduces those predictions
exactly. :func:`write_head` / :func:`read_head` keep a head's weight and bias in an
``.npz`` file so that graph jobs (the noise experiment) can use it without PyTorch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .utils import LatentGraphError, atomic_path


def head_predict(X: np.ndarray, W: np.ndarray, b: np.ndarray, block: int = 65536) -> np.ndarray:
    """Class predictions argmax(X W^T + b), computed in float64; ties go to the lower class."""
    X = np.asarray(X)
    if X.shape[1] != W.shape[1]:
        raise LatentGraphError(f"latents have {X.shape[1]} dims but the head expects {W.shape[1]}")
    out = np.empty(X.shape[0], dtype=np.int64)
    for s in range(0, X.shape[0], block):
        logits = X[s : s + block].astype(np.float64) @ W.T + b
        out[s : s + block] = np.argmax(logits, axis=1)
    return out


def write_head(path: Any, W: np.ndarray, b: np.ndarray, **meta: Any) -> None:
    """Write the ``fc`` head (float64 weight (C, d), bias (C,)) to an ``.npz`` file, atomically."""
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if W.ndim != 2 or b.shape != (W.shape[0],):
        raise LatentGraphError(f"head weight {W.shape} and bias {b.shape} do not fit")
    extra = {k: np.asarray(v) for k, v in meta.items()}
    with atomic_path(path) as tmp:
        np.savez(tmp, weight=W, bias=b, **extra)


def read_head(path: Any) -> tuple[np.ndarray, np.ndarray]:
    """Read a head written by :func:`write_head`; returns (W, b) as float64."""
    p = Path(path)
    if not p.exists():
        raise LatentGraphError(f"{p}: head file does not exist")
    try:
        with np.load(p, allow_pickle=False) as z:
            W, b = z["weight"].astype(np.float64), z["bias"].astype(np.float64)
    except (OSError, ValueError, KeyError) as exc:
        raise LatentGraphError(f"{p}: not a head file with 'weight' and 'bias' ({type(exc).__name__}: {exc})") from exc
    if W.ndim != 2 or b.shape != (W.shape[0],):
        raise LatentGraphError(f"{p}: head weight {W.shape} and bias {b.shape} do not fit")
    return W, b
