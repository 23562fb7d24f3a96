"""Latents of a pretrained network given as a plain state-dict file (no training).

The class graph of the thesis's ImageNet experiment (§5.2.1) comes from a pretrained
ResNet-18: :func:`extract_pretrained` builds the network with
:func:`latentgraph.nets.models.build_model`, loads the weights with
:func:`latentgraph.nets.models.load_state_dict_file` (e.g. torchvision's
``resnet18-f37072fd.pth``), runs :func:`latentgraph.nets.extraction.extract` over one split and
writes the latents with :func:`latentgraph.io.write_latents`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..utils import LatentGraphError

log = logging.getLogger(__name__)


def extract_pretrained(
    weights: str | os.PathLike,
    data_cfg: dict[str, Any],
    model_cfg: dict[str, Any],
    out: str | os.PathLike,
    *,
    split: str = "test",
    layer: str = "avgpool",
    device: str = "auto",
    batch_size: int = 256,
    num_workers: int = 0,
    metadata: dict[str, Any] | None = None,
    reduce: str = "flatten",
) -> dict[str, Any]:
    """Latents of a pretrained network given as a plain state-dict file (no training).

    Parameters
    ----------
    weights : str or os.PathLike
        A plain state-dict file, loaded with ``models.load_state_dict_file`` (e.g.
        torchvision's ``resnet18-f37072fd.pth`` with an ImageNet ``imagefolder`` val split).
    data_cfg : dict
        The ``data`` config section (see :func:`latentgraph.nets.data.load_dataset`).
    model_cfg : dict
        The ``model`` section: ``arch``, ``stem``, ``width`` and ``input_size``; the network
        is ``models.build_model`` for it with as many outputs as the data has classes.
    out : str or os.PathLike
        The latents Parquet file, written with :func:`latentgraph.io.write_latents`.
    split : str, optional
        The split to extract (``test`` is an image folder's ``val`` folder).
    layer : str, optional
        Dotted module name whose output is kept.
    device : str, optional
        ``auto``, ``cpu`` or ``cuda[:i]``.
    batch_size : int, optional
        Samples per forward pass.
    num_workers : int, optional
        DataLoader workers (file-backed splits only).
    metadata : dict, optional
        Extra metadata, written over the computed keys.
    reduce : {"flatten", "avg"}, optional
        How the module's output becomes one row (see :func:`latentgraph.nets.models.capture`).

    Returns
    -------
    dict
        The metadata written with the file (dataset, split, layer, reduce, arch, model,
        weights_file, test_accuracy, class_names, ...).

    Raises
    ------
    LatentGraphError
        When the weights file is missing or does not fit, or the dataset has no such split.
    """
    from ..io import write_latents
    from .data import load_dataset
    from .extraction import extract
    from .models import build_model, load_state_dict_file
    from .training import resolve_device

    if not Path(weights).exists():
        raise LatentGraphError(f"{weights}: pretrained weights file does not exist (classgraph.source.pretrained.weights)")
    input_size = int(model_cfg.get("input_size", 224))
    data = load_dataset(data_cfg, input_size=input_size)
    subset = getattr(data, split, None)
    if subset is None:
        raise LatentGraphError(f"dataset {data.name!r} has no {split!r} split")
    model = build_model(model_cfg.get("arch", "resnet18"), data.num_classes, model_cfg.get("stem", "imagenet"),
                        int(model_cfg.get("width", 64)))
    load_state_dict_file(model, weights)
    dev = resolve_device(device)
    X, labels, ids, pred = extract(model, subset, input_size, dev, layer=layer, batch_size=batch_size,
                                   num_workers=num_workers, reduce=reduce)
    acc = float(np.mean(pred == labels))
    meta = {
        "dataset": data.name,
        "split": split,
        "layer": layer,
        "reduce": reduce,
        "arch": model_cfg.get("arch", "resnet18"),
        "model": {k: model_cfg.get(k) for k in ("arch", "stem", "width", "input_size")},
        "weights_file": str(weights),
        "test_accuracy": acc,
        "class_names": list(data.classes),
    }
    meta.update(metadata or {})
    write_latents(out, X, labels, ids, prediction=pred, metadata=meta)
    log.info("%s: %d latents of dim %d from %s, accuracy %.4f", out, X.shape[0], X.shape[1], weights, acc)
    return meta
