"""Layer by layer: the latents of several modules of two networks, compared layer for layer.

The thesis studies one layer, the 512-d ``avgpool`` output of ResNet-18 (§3.1). Here any
named module can be read (``model.named_modules()``: ``layer1`` ... ``layer4``,
``layer3.1.conv2``, ``avgpool``, or ``features.3`` of a MobileNet): one forward pass over
the split records every listed module (:func:`latentgraph.extract.extract_layers`), a
convolutional (C, H, W) map becoming C features by global average pooling
(``reduce="avg"``) or C·H·W by flattening (``reduce="flatten"``). For each layer the kNN
graphs of the two networks are compared with every measure of
:func:`latentgraph.measures.compare` (:func:`compare_layer`), giving a table with one row
per (layer, k).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .utils import LatentGraphError

log = logging.getLogger(__name__)

#: Columns in front of the measures in a layer table.
KEY_COLUMNS = ["layer", "depth", "dim_a", "dim_b", "k"]


def extract_checkpoint_layers(
    checkpoint: str | os.PathLike,
    data: Any,
    outputs: Mapping[str, str | os.PathLike],
    *,
    split: str = "test",
    reduce: str = "avg",
    device: str = "auto",
    batch_size: int = 256,
    num_workers: int = 0,
    metadata: dict[str, Any] | None = None,
) -> dict[str, int]:
    """Latents of every module in ``outputs`` (name -> Parquet path) from one checkpoint,
    in one pass over ``split``; returns each layer's latent dimension."""
    from .extract import extract_layers
    from .io import write_latents
    from .models import model_from_checkpoint
    from .train import resolve_device

    model, ckpt = model_from_checkpoint(checkpoint)
    subset = getattr(data, split, None)
    if subset is None:
        raise LatentGraphError(f"dataset {data.name!r} has no {split!r} split")
    spec = ckpt["spec"]
    layers = list(outputs)
    X, labels, ids, pred = extract_layers(model, subset, int(spec["input_size"]), resolve_device(device), layers,
                                          batch_size=batch_size, num_workers=num_workers, reduce=reduce)
    acc = float(np.mean(pred == labels))
    dims = {}
    for depth, name in enumerate(layers):
        meta = {"dataset": data.name, "split": split, "layer": name, "depth": depth, "reduce": reduce,
                "arch": spec["arch"], "model": spec, "seed": ckpt["meta"].get("seed"),
                "epoch": ckpt["meta"].get("epoch"), "test_accuracy": acc, "class_names": list(data.classes),
                "checkpoint": str(checkpoint)}
        meta.update(metadata or {})
        write_latents(outputs[name], X[name], labels, ids, prediction=pred, metadata=meta)
        dims[name] = int(X[name].shape[1])
        log.info("%s: %d latents of dim %d (%s, %s)", outputs[name], X[name].shape[0], X[name].shape[1], name, reduce)
    return dims


def compare_layer(
    lat_a: Any,
    lat_b: Any,
    ks: Sequence[int],
    measures: Sequence[str],
    *,
    layer: str,
    depth: int = 0,
    metric: str = "l1",
    directed: bool = False,
    backend: str = "auto",
    threads: int | None = None,
    n_eigs: int = 20,
    n_perm: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """Every measure between two :class:`latentgraph.io.Latents` of one layer, per k.

    Searches each kNN table once at the largest k (:func:`latentgraph.knn.knn_table`) and
    returns :func:`latentgraph.measures.compare` with the columns :data:`KEY_COLUMNS` in
    front (``depth`` = the layer's position in the configured list, for plotting in order).
    """
    from .knn import knn_table
    from .measures import compare

    kmax = max(int(k) for k in ks)
    n_eigs = min(int(n_eigs), lat_a.n)
    tables = []
    for lat in (lat_a, lat_b):
        try:
            tables.append(knn_table(lat.X, kmax, lat.labels, lat.sample_id, metric=metric, backend=backend,
                                    threads=threads))
        except LatentGraphError as exc:
            raise LatentGraphError(f"{lat.metadata.get('source', 'latents')}: {exc}") from exc
    df = compare(tables[0], tables[1], ks, ["jaccard", "cns", *measures], directed=directed, xa=lat_a.X,
                 xb=lat_b.X, n_eigs=n_eigs, n_perm=n_perm, seed=seed)
    df.insert(0, "layer", layer)
    df.insert(1, "depth", int(depth))
    df.insert(2, "dim_a", lat_a.dim)
    df.insert(3, "dim_b", lat_b.dim)
    return df


def layers_markdown(df: pd.DataFrame, title: str | None = None, digits: int = 3) -> str:
    """One Markdown table per k: a row per layer (in depth order), a column per measure,
    each followed by its permutation null in parentheses when the table has one."""
    lines = [f"# {title}", ""] if title else []
    skip = set(KEY_COLUMNS) | {c for c in df.columns if c.endswith("_null") or c.endswith("_null_std")}
    measures = [c for c in df.columns if c not in skip]
    lines += ["Chance level (mean over shuffles of the sample correspondence) in parentheses (none for the "
              "spectral distance: it ignores the correspondence); hubness columns: A / B, with the level of a "
              "uniformly random k-out graph in parentheses.", ""]
    for k, part in df.sort_values(["k", "depth"]).groupby("k", sort=True):
        lines += [f"## k = {k}", ""]
        shown = [m for m in measures if not m.endswith("_b")]
        head = ["layer", "dim"] + [m.removesuffix("_a") for m in shown]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|---" * len(head) + "|")
        for _, r in part.iterrows():
            cells = [str(r["layer"]), f"{r['dim_a']}" if r["dim_a"] == r["dim_b"] else f"{r['dim_a']}/{r['dim_b']}"]
            for m in shown:
                if m.endswith("_a"):
                    base = m.removesuffix("_a")
                    cell = f"{r[m]:.{digits}f} / {r[base + '_b']:.{digits}f}"
                    null = f"{base}_null"
                else:
                    cell = f"{r[m]:.{digits}f}"
                    null = f"{m}_null"
                if null in r.index and m != "spectral":  # the spectral null is the value itself
                    cell += f" ({r[null]:.{digits}f})"
                cells.append(cell)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
