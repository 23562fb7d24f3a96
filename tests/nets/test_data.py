"""Datasets through the real loading code: digits, synthetic, and CIFAR-100 / ImageFolder on
small files the tests write in the real on-disk formats."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from latentgraph.nets.data import (  # noqa: E402
    TensorSplit,
    load_dataset,
    prepare_batch,
    read_class_names,
)
from latentgraph.utils import LatentGraphError  # noqa: E402


def test_digits_split_is_stratified_fixed_and_disjoint():
    b = load_dataset({"dataset": "digits", "test_fraction": 0.5, "split_seed": 0})
    assert len(b.train) + len(b.test) == 1797 and len(b.test) == 899
    assert b.num_classes == 10 and b.classes[0] == "0"
    assert not set(b.train.sample_ids) & set(b.test.sample_ids)
    x, y, sid = b.test[0]
    assert tuple(x.shape) == (3, 8, 8) and torch.equal(x[0], x[1])  # grey -> 3 channels
    # stratified: class shares of the test split within one sample of the full data's
    counts = np.bincount(b.test.labels, minlength=10)
    full = np.bincount(np.concatenate([b.train.labels, b.test.labels]), minlength=10)
    assert np.all(np.abs(counts - full / 2) <= 1)
    again = load_dataset({"dataset": "digits", "test_fraction": 0.5, "split_seed": 0})
    np.testing.assert_array_equal(again.test.sample_ids, b.test.sample_ids)
    other = load_dataset({"dataset": "digits", "test_fraction": 0.5, "split_seed": 1})
    assert not np.array_equal(other.test.sample_ids, b.test.sample_ids)


def test_synthetic_is_seeded_and_val_split_comes_from_train():
    cfg = {"dataset": "synthetic", "synthetic": {"n_classes": 3, "n_per_class": 20, "image_size": 6}, "split_seed": 2}
    a, b = load_dataset(cfg), load_dataset(cfg)
    assert torch.equal(a.train.images, b.train.images)
    v = load_dataset({**cfg, "val_fraction": 0.25})
    assert len(v.val) + len(v.train) == len(a.train) and len(v.test) == len(a.test)
    assert set(v.val.sample_ids) <= set(a.train.sample_ids)
    assert not set(v.val.sample_ids) & set(v.test.sample_ids)


def test_prepare_batch_resizes_on_the_device():
    x = torch.randn(2, 3, 8, 8)
    y = prepare_batch(x, 16, torch.device("cpu"))
    assert tuple(y.shape) == (2, 3, 16, 16)
    assert prepare_batch(x, 8, torch.device("cpu")) is not None


def _write_cifar100(root, n_train=20, n_test=10, seed=0):
    """CIFAR-100 in torchvision's on-disk format: pickled dicts with uint8 rows."""
    rng = np.random.default_rng(seed)
    base = root / "cifar-100-python"
    base.mkdir(parents=True)
    for name, n in (("train", n_train), ("test", n_test)):
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        fine = (np.arange(n) % 100).tolist()
        with open(base / name, "wb") as fh:
            pickle.dump({"data": data, "fine_labels": fine, "coarse_labels": [0] * n}, fh)
    with open(base / "meta", "wb") as fh:
        pickle.dump({"fine_label_names": [f"class{i:02d}" for i in range(100)]}, fh)


def test_cifar100_from_local_files(tmp_path, monkeypatch):
    _write_cifar100(tmp_path)
    # the real files' md5 sums cannot match test files; everything else is torchvision's code
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: True)
    b = load_dataset({"dataset": "cifar100", "root": str(tmp_path), "download": False})
    assert len(b.train) == 20 and len(b.test) == 10 and b.num_classes == 100
    x, y, sid = b.test[3]
    assert tuple(x.shape) == (3, 32, 32) and y == 3 and sid == 3
    assert b.classes[5] == "class05"


def test_cifar100_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(LatentGraphError, match="does not exist.*download"):
        load_dataset({"dataset": "cifar100", "root": str(tmp_path / "nope"), "download": False})
    with pytest.raises(LatentGraphError, match="root must be set"):
        load_dataset({"dataset": "cifar100"})


def write_imagefolder(root, classes=("cat", "dog"), per_class=3, size=(20, 14), splits=("train", "val")):
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in splits:
        for c in classes:
            d = root / split / c
            d.mkdir(parents=True)
            for i in range(per_class):
                arr = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
                Image.fromarray(arr).save(d / f"{c}_{i}.png")
    return root


def test_imagefolder_resizes_and_crops(tmp_path):
    write_imagefolder(tmp_path)
    b = load_dataset({"dataset": "imagefolder", "root": str(tmp_path)}, input_size=16)
    assert b.classes == ["cat", "dog"] and len(b.train) == 6 and len(b.test) == 6
    x, y, sid = b.test[4]
    assert tuple(x.shape) == (3, 16, 16) and y == 1 and sid == 4


def test_imagefolder_val_only_and_errors(tmp_path):
    write_imagefolder(tmp_path, splits=("val",))
    with pytest.raises(LatentGraphError, match="does not exist"):
        load_dataset({"dataset": "imagefolder", "root": str(tmp_path)}, input_size=16)
    b = load_dataset({"dataset": "imagefolder", "root": str(tmp_path), "require_train": False}, input_size=16)
    assert b.train is None and len(b.test) == 6


def test_class_names_files(tmp_path):
    (tmp_path / "names.txt").write_text("tench\ngoldfish\n")
    assert read_class_names(tmp_path / "names.txt", 2) == ["tench", "goldfish"]
    (tmp_path / "names.csv").write_text("id,class_name\n1,goldfish\n0,tench\n")
    assert read_class_names(tmp_path / "names.csv") == ["tench", "goldfish"]
    with pytest.raises(LatentGraphError, match="has 2 class names, the data has 3"):
        read_class_names(tmp_path / "names.txt", 3)
    with pytest.raises(LatentGraphError, match="does not exist"):
        read_class_names(tmp_path / "none.txt")


def test_tensor_split_subset_keeps_ids():
    s = TensorSplit(torch.zeros(5, 3, 4, 4), np.arange(5) % 2, np.arange(10, 15))
    sub = s.subset(np.array([1, 3]))
    np.testing.assert_array_equal(sub.sample_ids, [11, 13])


def test_augment_batch_translates_and_flips_each_image():
    from latentgraph.nets.data import augment_batch

    x = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).reshape(2, 1, 6, 6) + 1
    g = torch.Generator().manual_seed(0)
    y = augment_batch(x, g, pad=2)
    g = torch.Generator().manual_seed(0)
    shifts = torch.randint(0, 5, (2, 2), generator=g)
    flips = torch.rand(2, generator=g) < 0.5
    for b in range(2):
        ref = torch.nn.functional.pad(x[b], (2, 2, 2, 2))
        ref = ref[:, shifts[0, b] : shifts[0, b] + 6, shifts[1, b] : shifts[1, b] + 6]
        if flips[b]:
            ref = ref.flip(-1)
        assert torch.equal(y[b], ref)
    assert tuple(y.shape) == tuple(x.shape)
    # same generator state, same augmentation
    assert torch.equal(augment_batch(x, torch.Generator().manual_seed(0), pad=2), y)


def test_cifar100_augment_flag_reaches_the_training_split(tmp_path, monkeypatch):
    _write_cifar100(tmp_path)
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: True)
    b = load_dataset({"dataset": "cifar100", "root": str(tmp_path), "augment": True})
    assert b.train.augment and not b.test.augment  # (evaluation never augments: see train.iterate)
