"""Datasets: a small registry of image classification data with stable sample ids.

Every split is a torch ``Dataset`` whose items are ``(image, label, sample_id)`` and which
exposes ``labels`` and ``sample_ids`` as numpy arrays, so latents can always be traced back
to their samples. Images come out normalised, at their native size; resizing to the model's
``input_size`` happens batch-wise on the compute device (:func:`prepare_batch`), which is
what lets a GPU upscale CIFAR's 32 px images to 224 px without a CPU bottleneck.

Datasets
--------
``digits``       scikit-learn's bundled 8x8 digits (1,797 real images, no download), a fixed
                 stratified train/test split; grey is repeated to 3 channels.
``synthetic``    a small seeded set of class-conditional 3-channel images, for tests.
``cifar100``     torchvision's CIFAR-100 under ``root`` (downloaded only if ``download``).
``imagefolder``  ``root/train`` and ``root/val`` class folders (ImageNet layout); images
                 are resized and centre-cropped on the CPU (they vary in size).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..utils import LatentGraphError

log = logging.getLogger(__name__)

DATASETS = ("digits", "synthetic", "cifar100", "imagefolder")

CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class DataBundle:
    """The splits of one dataset plus what downstream stages need to know about it.

    Each split is a torch ``Dataset`` of ``(image, label, sample_id)`` with ``labels`` and
    ``sample_ids`` arrays (a :class:`TensorSplit` or :class:`IndexedDataset`).

    Parameters
    ----------
    name : str
        The dataset's name (one of ``DATASETS``).
    train : TensorSplit or IndexedDataset or None
        The training split; None for a val-only image folder.
    test : TensorSplit or IndexedDataset
        The test split (an image folder's ``val`` folder).
    classes : list of str
        Class names in class-index order.
    val : TensorSplit or IndexedDataset, optional
        A validation split held out of ``train`` (``data.val_fraction``), else None.
    info : dict
        Facts about the data, such as ``native_size`` (image side in pixels) and ``n_total``.
    """

    name: str
    train: Any  # torch Dataset of (image, label, sample_id)
    test: Any
    classes: list[str]
    val: Any = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - environment dependent
        raise LatentGraphError("this step needs PyTorch: pip install 'latentgraph[torch]'") from exc
    return torch


class TensorSplit:
    """An in-memory split: images (N, 3, H, W) float32, labels and sample ids.

    Batched by indexing, without a DataLoader: digits, synthetic data and CIFAR-100 (614 MB
    as float32) live here. On a GPU the whole split is copied to the device once
    (:meth:`on`), so batches never cross the PCIe bus and the GPU is never starved by a
    CPU pipeline.

    Parameters
    ----------
    images : array_like
        Images, shape (N, 3, H, W); held as a contiguous float32 tensor.
    labels : numpy.ndarray
        Class indices, shape (N,).
    sample_ids : numpy.ndarray
        Sample ids, shape (N,).
    augment : bool, optional
        Apply random 4-pixel translations and horizontal flips batch-wise on the device
        (:func:`augment_batch`) when training.
    """

    def __init__(self, images: Any, labels: np.ndarray, sample_ids: np.ndarray, augment: bool = False) -> None:
        torch = _torch()
        self.images = torch.as_tensor(images, dtype=torch.float32).contiguous()
        self.labels = np.asarray(labels, dtype=np.int64)
        self.sample_ids = np.asarray(sample_ids, dtype=np.int64)
        self.augment = bool(augment)
        self._labels_t = torch.as_tensor(self.labels)
        self._ids_t = torch.as_tensor(self.sample_ids)
        self._device_copies: dict[str, tuple[Any, Any]] = {}

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __getitem__(self, i: int) -> tuple[Any, int, int]:
        return self.images[i], int(self.labels[i]), int(self.sample_ids[i])

    def on(self, device: Any) -> tuple[Any, Any]:
        """Images and labels on ``device`` (copied once, then cached).

        Parameters
        ----------
        device : torch.device or str
            The device to copy to.

        Returns
        -------
        tuple of (torch.Tensor, torch.Tensor)
            All images and all labels of the split, on ``device``.
        """
        key = str(device)
        if key not in self._device_copies:
            self._device_copies[key] = (self.images.to(device), self._labels_t.to(device))
        return self._device_copies[key]

    def batch(self, index: Any, device: Any = None) -> tuple[Any, Any, Any]:
        """Images, labels and ids of the rows in ``index``, on ``device``.

        Parameters
        ----------
        index : torch.Tensor
            Row positions (a LongTensor on the CPU).
        device : torch.device or str, optional
            Where images and labels are cut from the split's cached copy (:meth:`on`);
            None or ``"cpu"`` cuts them on the CPU.

        Returns
        -------
        tuple of (torch.Tensor, torch.Tensor, torch.Tensor)
            Images, labels (on ``device``) and sample ids (on the CPU).
        """
        if device is not None and str(device) != "cpu":
            images, labels = self.on(device)
            # non_blocking: a host->device copy from pageable memory is staged at once and
            # waits for no queued GPU work (a blocking one would synchronise every batch)
            index_d = index.to(device, non_blocking=True)
            return images[index_d], labels[index_d], self._ids_t[index]
        return self.images[index], self._labels_t[index], self._ids_t[index]

    def subset(self, rows: np.ndarray) -> TensorSplit:
        """A new split holding only ``rows`` (positions, not ids).

        Parameters
        ----------
        rows : numpy.ndarray
            Row positions to keep.

        Returns
        -------
        TensorSplit
            The subset, with the same ``augment`` setting.
        """
        rows = np.asarray(rows, dtype=np.int64)
        return TensorSplit(self.images[rows], self.labels[rows], self.sample_ids[rows], augment=self.augment)


def augment_batch(x: Any, generator: Any, pad: int = 4) -> Any:
    """Random translations (zero padding) and horizontal flips, applied to a whole batch at once.

    Parameters
    ----------
    x : torch.Tensor
        Image batch, shape (B, C, H, W), on any device.
    generator : torch.Generator
        CPU generator the shifts and flips are drawn from, per image (the same draws on
        every device).
    pad : int, optional
        Largest shift in pixels, in each direction.

    Returns
    -------
    torch.Tensor
        The augmented batch, same shape and device as ``x``.
    """
    torch = _torch()
    b, c, h, w = x.shape
    # drawn on the CPU generator (the same draws on every device); non_blocking copies wait
    # for no queued GPU work, as in TensorSplit.batch
    shifts = torch.randint(0, 2 * pad + 1, (2, b), generator=generator).to(x.device, non_blocking=True)
    flips = (torch.rand(b, generator=generator) < 0.5).to(x.device, non_blocking=True)
    xp = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    rows = shifts[0][:, None] + torch.arange(h, device=x.device)[None, :]
    cols = shifts[1][:, None] + torch.arange(w, device=x.device)[None, :]
    cols = torch.where(flips[:, None], cols.flip(1), cols)
    bi = torch.arange(b, device=x.device)[:, None, None, None]
    ci = torch.arange(c, device=x.device)[None, :, None, None]
    return xp[bi, ci, rows[:, None, :, None], cols[:, None, None, :]]


class IndexedDataset:
    """Wrap a torchvision-style dataset so items carry their sample id (the index).

    Parameters
    ----------
    base : torch.utils.data.Dataset
        A dataset whose items are ``(image, label)``.
    labels : numpy.ndarray
        The label of each item, shape (N,).
    sample_ids : numpy.ndarray, optional
        The id of each item; None gives the index ``0 .. N-1``.
    """

    def __init__(self, base: Any, labels: np.ndarray, sample_ids: np.ndarray | None = None) -> None:
        self.base = base
        self.labels = np.asarray(labels, dtype=np.int64)
        self.sample_ids = np.arange(len(self.labels), dtype=np.int64) if sample_ids is None else np.asarray(sample_ids)
        self._rows = np.arange(len(self.labels), dtype=np.int64)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __getitem__(self, i: int) -> tuple[Any, int, int]:
        x, y = self.base[int(self._rows[i])]
        return x, int(y), int(self.sample_ids[i])

    def subset(self, rows: np.ndarray) -> IndexedDataset:
        """A view holding only ``rows`` (positions, not ids).

        Parameters
        ----------
        rows : numpy.ndarray
            Row positions to keep.

        Returns
        -------
        IndexedDataset
            The subset, reading from the same ``base``.
        """
        rows = np.asarray(rows, dtype=np.int64)
        out = IndexedDataset(self.base, self.labels[rows], self.sample_ids[rows])
        out._rows = self._rows[rows]
        return out


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of a stratified train/test split, fixed by ``seed``.

    Parameters
    ----------
    labels : numpy.ndarray
        Class of each row, shape (N,).
    test_fraction : float
        Fraction of rows in the test part (in (0, 1)).
    seed : int
        Seed of the split.

    Returns
    -------
    train : numpy.ndarray
        Sorted row positions of the train part.
    test : numpy.ndarray
        Sorted row positions of the test part.
    """
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(labels))
    tr, te = train_test_split(rows, test_size=test_fraction, stratify=labels, random_state=seed)
    return np.sort(tr), np.sort(te)


def _normalise_grey(images: np.ndarray) -> np.ndarray:
    """(N, H, W) in [0, 1] -> (N, 3, H, W) standardised to mean 0, std 1 per dataset."""
    x = images.astype(np.float32)
    x = (x - x.mean()) / (x.std() + 1e-8)
    return np.repeat(x[:, None, :, :], 3, axis=1)


def load_digits_bundle(test_fraction: float = 0.5, split_seed: int = 0) -> DataBundle:
    """scikit-learn's bundled digits: 1,797 8x8 images of 10 classes, stratified split.

    Parameters
    ----------
    test_fraction : float, optional
        Fraction of images in the test split.
    split_seed : int, optional
        Seed of the split.

    Returns
    -------
    DataBundle
        ``digits`` with in-memory train and test splits (sample id = index in the dataset).
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    images = _normalise_grey(d.images / 16.0)
    labels = d.target.astype(np.int64)
    ids = np.arange(len(labels), dtype=np.int64)
    tr, te = stratified_split(labels, test_fraction, split_seed)
    return DataBundle(
        name="digits",
        train=TensorSplit(images[tr], labels[tr], ids[tr]),
        test=TensorSplit(images[te], labels[te], ids[te]),
        classes=[str(c) for c in d.target_names],
        info={"native_size": 8, "n_total": len(labels)},
    )


def load_synthetic_bundle(
    n_classes: int = 4,
    n_per_class: int = 40,
    image_size: int = 8,
    noise: float = 1.0,
    test_fraction: float = 0.5,
    seed: int = 0,
) -> DataBundle:
    """A seeded toy set: each class is a random template plus Gaussian noise.

    Parameters
    ----------
    n_classes : int, optional
        Number of classes.
    n_per_class : int, optional
        Images per class.
    image_size : int, optional
        Image side in pixels (3 channels).
    noise : float, optional
        Standard deviation of the noise added to each class's standard normal template.
    test_fraction : float, optional
        Fraction of images in the test split.
    seed : int, optional
        Seed of the templates, the noise and the split.

    Returns
    -------
    DataBundle
        ``synthetic`` with in-memory train and test splits and classes ``class_0`` ...
    """
    rng = np.random.default_rng(seed)
    templates = rng.normal(size=(n_classes, 3, image_size, image_size)).astype(np.float32)
    labels = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    images = templates[labels] + noise * rng.normal(size=(labels.size, 3, image_size, image_size)).astype(np.float32)
    ids = np.arange(labels.size, dtype=np.int64)
    tr, te = stratified_split(labels, test_fraction, seed)
    return DataBundle(
        name="synthetic",
        train=TensorSplit(images[tr], labels[tr], ids[tr]),
        test=TensorSplit(images[te], labels[te], ids[te]),
        classes=[f"class_{c}" for c in range(n_classes)],
        info={"native_size": image_size, "n_total": int(labels.size)},
    )


def load_cifar100_bundle(root: str, download: bool = False, augment: bool = False) -> DataBundle:
    """torchvision's CIFAR-100 (train 50,000 / test 10,000 images, 32 px, 100 classes).

    torchvision reads the files; the images are then normalised once and held in memory as
    :class:`TensorSplit` s (sample id = index in the split), so training batches are cut,
    augmented and upscaled on the compute device.

    Parameters
    ----------
    root : str
        torchvision's CIFAR-100 folder.
    download : bool, optional
        Download the data into ``root`` if it is missing.
    augment : bool, optional
        Augment the training split (see :class:`TensorSplit`).

    Returns
    -------
    DataBundle
        ``cifar100`` with train and test splits and the 100 class names.

    Raises
    ------
    LatentGraphError
        When ``root`` does not exist (and ``download`` is off) or the files cannot be loaded.
    """
    from torchvision import datasets

    if not Path(root).exists() and not download:
        raise LatentGraphError(
            f"CIFAR-100 root {root!r} does not exist; set data.download: true where downloads are allowed"
        )
    try:
        train = datasets.CIFAR100(root, train=True, download=download)
        test = datasets.CIFAR100(root, train=False, download=download)
    except RuntimeError as exc:
        raise LatentGraphError(f"cannot load CIFAR-100 from {root!r}: {exc}") from exc
    mean = np.asarray(CIFAR100_MEAN, dtype=np.float32)[None, :, None, None]
    std = np.asarray(CIFAR100_STD, dtype=np.float32)[None, :, None, None]

    def split(ds: Any, aug: bool) -> TensorSplit:
        x = (np.asarray(ds.data, dtype=np.float32).transpose(0, 3, 1, 2) / 255.0 - mean) / std
        y = np.asarray(ds.targets, dtype=np.int64)
        return TensorSplit(x, y, np.arange(len(y), dtype=np.int64), augment=aug)

    return DataBundle(
        name="cifar100",
        train=split(train, augment),
        test=split(test, False),
        classes=list(train.classes),
        info={"native_size": 32},
    )


def load_imagefolder_bundle(
    root: str,
    input_size: int = 224,
    train_dir: str = "train",
    val_dir: str = "val",
    augment: bool = False,
    require_train: bool = True,
) -> DataBundle:
    """An ImageNet-style folder: ``root/train/<class>/*.jpg`` and ``root/val/<class>/*.jpg``.

    Evaluation images are resized to input_size * 256 / 224 and centre-cropped (the usual
    ImageNet protocol).

    Parameters
    ----------
    root : str
        The folder holding the train and val folders.
    input_size : int, optional
        Side of the square images the model takes, in pixels.
    train_dir : str, optional
        The train folder's name under ``root``.
    val_dir : str, optional
        The val folder's name under ``root`` (the bundle's ``test`` split).
    augment : bool, optional
        Random resized crops and horizontal flips for the training images instead of the
        evaluation transform.
    require_train : bool, optional
        False allows a val-only folder (pretrained models); the train split is then None
        when its folder is missing.

    Returns
    -------
    DataBundle
        ``imagefolder`` with :class:`IndexedDataset` splits and the class folders' names.

    Raises
    ------
    LatentGraphError
        When a required folder is missing or unreadable, or train and val have different classes.
    """
    from torchvision import datasets, transforms

    rootp = Path(root)
    resize = int(round(input_size * 256 / 224))
    norm = [transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    eval_tf = transforms.Compose([transforms.Resize(resize), transforms.CenterCrop(input_size)] + norm)
    train_tf = (
        transforms.Compose([transforms.RandomResizedCrop(input_size), transforms.RandomHorizontalFlip()] + norm)
        if augment
        else eval_tf
    )

    def folder(sub: str, tf: Any) -> Any:
        path = rootp / sub
        if not path.is_dir():
            raise LatentGraphError(f"image folder {str(path)!r} does not exist")
        try:
            return datasets.ImageFolder(str(path), transform=tf)
        except (FileNotFoundError, RuntimeError) as exc:
            raise LatentGraphError(f"cannot read image folder {str(path)!r}: {exc}") from exc

    val = folder(val_dir, eval_tf)
    train = folder(train_dir, train_tf) if (require_train or (rootp / train_dir).is_dir()) else None
    if train is not None and train.classes != val.classes:
        raise LatentGraphError(f"{root}: train and val folders have different class folders")
    return DataBundle(
        name="imagefolder",
        train=IndexedDataset(train, np.asarray(train.targets)) if train is not None else None,
        test=IndexedDataset(val, np.asarray(val.targets)),
        classes=list(val.classes),
        info={"native_size": input_size},
    )


def read_class_names(path: str | Path, n_classes: int | None = None) -> list[str]:
    """Class names from a text file or a CSV/TSV table.

    Parameters
    ----------
    path : str or pathlib.Path
        A text file (one name per line, in class-index order; blank lines skipped) or a
        ``.csv``/``.tsv`` with a ``name``/``class_name``/``label_name`` column, ordered by
        an ``index``/``id``/``class``/``label`` column where there is one.
    n_classes : int, optional
        If given, the number of names the file must hold.

    Returns
    -------
    list of str
        The names in class-index order.

    Raises
    ------
    LatentGraphError
        When the file is missing, lacks a name column or holds the wrong number of names.
    """
    p = Path(path)
    if not p.exists():
        raise LatentGraphError(f"class-names file {str(p)!r} does not exist")
    text = p.read_text().splitlines()
    names: list[str]
    if p.suffix.lower() in (".csv", ".tsv"):
        import pandas as pd

        df = pd.read_csv(p, sep="\t" if p.suffix.lower() == ".tsv" else ",")
        id_col = next((c for c in ("index", "id", "class", "label") if c in df.columns), None)
        name_col = next((c for c in ("name", "class_name", "label_name") if c in df.columns), None)
        if name_col is None:
            raise LatentGraphError(f"{p}: needs a 'name' or 'class_name' column, has {list(df.columns)}")
        if id_col is not None:
            df = df.sort_values(id_col)
        names = [str(x) for x in df[name_col]]
    else:
        names = [line.strip() for line in text if line.strip()]
    if n_classes is not None and len(names) != n_classes:
        raise LatentGraphError(f"{p}: has {len(names)} class names, the data has {n_classes} classes")
    return names


def check_class_names_file(cfg: dict[str, Any], n_classes: int) -> None:
    """Fail now when the configured class-name file is missing, unreadable or of the wrong length.

    Does nothing when none is configured. Training jobs call it before they train: the names
    label only later outputs (latents metadata, the class graph), which would otherwise fail
    hours later.

    Parameters
    ----------
    cfg : dict
        The config's ``data`` section (``class_names`` is read).
    n_classes : int
        The number of classes the data has.

    Raises
    ------
    LatentGraphError
        One line naming ``data.class_names`` and the problem.
    """
    path = cfg.get("class_names")
    if not path:
        return
    try:
        read_class_names(path, n_classes)
    except LatentGraphError as exc:
        raise LatentGraphError(f"data.class_names: {exc}") from None


def load_dataset(cfg: dict[str, Any], input_size: int | None = None) -> DataBundle:
    """Build the :class:`DataBundle` described by a config's ``data`` section.

    Parameters
    ----------
    cfg : dict
        The ``data`` section: ``dataset`` (default ``digits``), ``test_fraction``,
        ``split_seed``, ``val_fraction``, ``class_names`` and the dataset's own keys
        (``root``, ``download``, ``augment``, ``synthetic``, ...).
    input_size : int, optional
        The model's input size; used by ``imagefolder`` (default 224), ignored otherwise.

    Returns
    -------
    DataBundle
        The splits, with a ``val`` split held out of train when ``val_fraction`` > 0 and the
        class names from ``class_names`` when set.

    Raises
    ------
    LatentGraphError
        For an unknown dataset, a missing ``root`` or data that cannot be loaded.
    """
    name = cfg.get("dataset", "digits")
    if name not in DATASETS:
        raise LatentGraphError(f"unknown dataset {name!r}; allowed: {list(DATASETS)}")
    test_fraction = float(cfg.get("test_fraction", 0.5))
    split_seed = int(cfg.get("split_seed", 0))
    if name == "digits":
        bundle = load_digits_bundle(test_fraction, split_seed)
    elif name == "synthetic":
        s = cfg.get("synthetic", {}) or {}
        bundle = load_synthetic_bundle(
            n_classes=int(s.get("n_classes", 4)),
            n_per_class=int(s.get("n_per_class", 40)),
            image_size=int(s.get("image_size", 8)),
            noise=float(s.get("noise", 1.0)),
            test_fraction=test_fraction,
            seed=split_seed,
        )
    elif name == "cifar100":
        if not cfg.get("root"):
            raise LatentGraphError("data.root must be set for dataset cifar100")
        bundle = load_cifar100_bundle(cfg["root"], bool(cfg.get("download", False)), bool(cfg.get("augment", False)))
    else:
        if not cfg.get("root"):
            raise LatentGraphError("data.root must be set for dataset imagefolder")
        bundle = load_imagefolder_bundle(
            cfg["root"],
            input_size=int(input_size or 224),
            train_dir=cfg.get("train_dir", "train"),
            val_dir=cfg.get("val_dir", "val"),
            augment=bool(cfg.get("augment", False)),
            require_train=bool(cfg.get("require_train", True)),
        )
    if cfg.get("class_names"):
        bundle.classes = read_class_names(cfg["class_names"], bundle.num_classes)
    val_fraction = float(cfg.get("val_fraction", 0.0) or 0.0)
    if val_fraction > 0 and bundle.train is not None:
        tr, va = stratified_split(bundle.train.labels, val_fraction, split_seed + 1)
        bundle.train, bundle.val = bundle.train.subset(tr), bundle.train.subset(va)
    return bundle


def prepare_batch(x: Any, input_size: int | None, device: Any, channels_last: bool = False) -> Any:
    """Move an image batch to ``device`` and resize it to ``input_size`` there (bilinear).

    Parameters
    ----------
    x : torch.Tensor
        Image batch, shape (B, C, H, W).
    input_size : int or None
        Side of the square images the model takes; None keeps the size.
    device : torch.device or str
        The compute device.
    channels_last : bool, optional
        Return the batch in channels-last memory format.

    Returns
    -------
    torch.Tensor
        The batch on ``device``, of side ``input_size``.
    """
    torch = _torch()
    x = x.to(device, non_blocking=True)
    if input_size is not None and (x.shape[-1] != input_size or x.shape[-2] != input_size):
        x = torch.nn.functional.interpolate(x, size=(input_size, input_size), mode="bilinear", align_corners=False)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x
