"""Thumbnails of a dataset's split, by sample id (the torch side: reads the data through
:mod:`latentgraph.nets.data`; the explorer itself, :mod:`latentgraph.explore.data`, never
imports this module).

In-memory splits (digits, synthetic, CIFAR-100) hold normalised float images: each is
stretched back to 0..255 by its own minimum and maximum (colours keep their balance; the
dataset's mean/std normalisation is undone up to a per-image contrast). Image folders
(ImageNet-style) are read from their files: centre square, resized.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..utils import LatentGraphError
from .thumbs import write_thumbnails

log = logging.getLogger(__name__)


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    mode = "L" if img.shape[2] == 1 else "RGB"
    im = Image.fromarray(img[:, :, 0] if mode == "L" else img, mode=mode)
    resample = Image.Resampling.NEAREST if im.width < size else Image.Resampling.BILINEAR
    out = np.asarray(im.resize((size, size), resample))
    return out[:, :, None] if out.ndim == 2 else out


def _stretch(x: np.ndarray) -> np.ndarray:
    """(C, H, W) float -> (H, W, C') uint8 by the image's own range; grey (equal channels) -> C' = 1."""
    lo, hi = float(x.min()), float(x.max())
    y = np.zeros(x.shape, dtype=np.uint8) if hi <= lo else np.rint((x - lo) / (hi - lo) * 255).astype(np.uint8)
    y = np.transpose(y, (1, 2, 0))
    if y.shape[2] == 3 and np.array_equal(y[:, :, 0], y[:, :, 1]) and np.array_equal(y[:, :, 0], y[:, :, 2]):
        y = y[:, :, :1]
    return y


def _from_file(path: str, size: int) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        side = min(im.size)
        left, top = (im.width - side) // 2, (im.height - side) // 2
        im = im.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BILINEAR)
        return np.asarray(im, dtype=np.uint8)


def split_thumbnails(split: Any, size: int = 32, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Thumbnails of every sample of a split.

    Parameters
    ----------
    split : TensorSplit or IndexedDataset
        A split of a :class:`latentgraph.nets.data.DataBundle`.
    size : int, optional
        Side of the square thumbnails in pixels.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    sample_id : numpy.ndarray
        (N,) int64.
    images : numpy.ndarray
        (N, size, size, C) uint8, C = 1 when every image is grey, else 3.
    """
    from tqdm.auto import tqdm

    ids = np.asarray(split.sample_ids, dtype=np.int64)
    base = getattr(split, "base", None)
    files = getattr(base, "samples", None)
    out = []
    for i in tqdm(range(len(split)), desc="thumbnails", disable=not progress, mininterval=2):
        if files is not None:
            out.append(_from_file(files[int(split._rows[i])][0], size))
        else:
            x = split[i][0]
            x = x.numpy() if hasattr(x, "numpy") else np.asarray(x)
            out.append(_resize(_stretch(np.asarray(x, dtype=np.float32)), size))
    if any(im.shape[2] == 3 for im in out):
        out = [np.repeat(im, 3, axis=2) if im.shape[2] == 1 else im for im in out]
    images = np.stack(out) if out else np.zeros((0, size, size, 1), dtype=np.uint8)
    return ids, images


def write_dataset_thumbnails(data_cfg: dict[str, Any], path: str | os.PathLike, *, split: str = "test",
                             size: int = 32, input_size: int | None = None, progress: bool = False) -> Path:
    """Write the thumbnails of a configured dataset's split (for the explorer's sample view).

    Parameters
    ----------
    data_cfg : dict
        The config's ``data`` section (:func:`latentgraph.nets.data.load_dataset`).
    path : str or os.PathLike
        The Parquet file to write (:func:`latentgraph.explore.data.write_thumbnails`).
    split : {"test", "train", "val"}, optional
        The split (the one whose latents are explored).
    size : int, optional
        Thumbnail side in pixels.
    input_size : int, optional
        The model's input size (image folders only).
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    LatentGraphError
        For a split the dataset does not have.
    """
    from ..nets.data import load_dataset

    bundle = load_dataset(data_cfg, input_size=input_size)
    ds = getattr(bundle, split, None)
    if ds is None:
        raise LatentGraphError(f"dataset {bundle.name!r} has no {split!r} split")
    ids, images = split_thumbnails(ds, size, progress=progress)
    log.info("%d thumbnails of %s/%s, %dx%d px", ids.size, bundle.name, split, size, size)
    return write_thumbnails(path, ids, images, {"dataset": bundle.name, "split": split})
