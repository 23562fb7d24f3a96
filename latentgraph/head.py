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
    """Class predictions argmax(X W^T + b), computed in float64; ties go to the lower class.

    Parameters
    ----------
    X : numpy.ndarray
        Latents, shape (n, d).
    W : numpy.ndarray
        Head weight, shape (C, d).
    b : numpy.ndarray
        Head bias, shape (C,).
    block : int, optional
        Rows of ``X`` computed at a time (bounds the float64 logits' memory).

    Returns
    -------
    numpy.ndarray
        The predicted class of each row, int64, shape (n,).

    Raises
    ------
    LatentGraphError
        When the latents' dimension does not match the head's.
    """
    X = np.asarray(X)
    if X.shape[1] != W.shape[1]:
        raise LatentGraphError(f"latents have {X.shape[1]} dims but the head expects {W.shape[1]}")
    out = np.empty(X.shape[0], dtype=np.int64)
    for s in range(0, X.shape[0], block):
        logits = X[s : s + block].astype(np.float64) @ W.T + b
        out[s : s + block] = np.argmax(logits, axis=1)
    return out


def write_head(path: Any, W: np.ndarray, b: np.ndarray, **meta: Any) -> None:
    """Write the ``fc`` head (float64 weight (C, d), bias (C,)) to an ``.npz`` file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file to write.
    W : numpy.ndarray
        Head weight, shape (C, d); stored as float64 under ``weight``.
    b : numpy.ndarray
        Head bias, shape (C,); stored as float64 under ``bias``.
    **meta : Any
        Extra arrays stored in the file under their keyword names.

    Raises
    ------
    LatentGraphError
        When the weight is not 2-D or the bias does not have one entry per class.
    """
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if W.ndim != 2 or b.shape != (W.shape[0],):
        raise LatentGraphError(f"head weight {W.shape} and bias {b.shape} do not fit")
    extra = {k: np.asarray(v) for k, v in meta.items()}
    with atomic_path(path) as tmp:
        np.savez(tmp, weight=W, bias=b, **extra)


def read_head(path: Any) -> tuple[np.ndarray, np.ndarray]:
    """Read a head written by :func:`write_head`.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file.

    Returns
    -------
    W : numpy.ndarray
        Head weight, float64, shape (C, d).
    b : numpy.ndarray
        Head bias, float64, shape (C,).

    Raises
    ------
    LatentGraphError
        When the file is missing, unreadable or not a head file.
    """
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
