"""ResNet-18 variants, checkpoints read with weights_only=True, local weight files, the
latent hook."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from latentgraph.nets.models import (  # noqa: E402
    build_model,
    capture,
    load_checkpoint,
    load_state_dict_file,
    model_from_checkpoint,
    model_spec,
    save_checkpoint,
)
from latentgraph.utils import LatentGraphError  # noqa: E402


def test_width_64_imagenet_stem_is_torchvision_resnet18(tmp_path):
    ours = build_model("resnet18", num_classes=1000, stem="imagenet", width=64)
    ref = torchvision.models.resnet18(weights=None)
    a, b = ours.state_dict(), ref.state_dict()
    assert a.keys() == b.keys()
    assert all(a[k].shape == b[k].shape for k in a)
    # a torchvision state-dict file (as downloaded from torchvision) loads, also wrapped
    torch.save(ref.state_dict(), tmp_path / "resnet18.pth")
    load_state_dict_file(ours, tmp_path / "resnet18.pth")
    assert all(torch.equal(ours.state_dict()[k], b[k]) for k in b)
    torch.save({"state_dict": {f"module.{k}": v for k, v in b.items()}}, tmp_path / "wrapped.pth")
    load_state_dict_file(build_model(width=64), tmp_path / "wrapped.pth")


def test_local_weights_errors(tmp_path):
    m = build_model(width=8, num_classes=10, stem="cifar")
    with pytest.raises(LatentGraphError, match=r"nope\.pth: weights file does not exist"):
        load_state_dict_file(m, tmp_path / "nope.pth")
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), tmp_path / "big.pth")
    with pytest.raises(LatentGraphError, match=r"big\.pth: weights do not fit the model"):
        load_state_dict_file(m, tmp_path / "big.pth")


@pytest.mark.parametrize("width", [4, 16])
def test_cifar_stem_and_width(width):
    torch.manual_seed(0)
    m = build_model(num_classes=7, stem="cifar", width=width).eval()
    assert m.conv1.kernel_size == (3, 3) and m.conv1.stride == (1, 1)
    assert isinstance(m.maxpool, torch.nn.Identity)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad(), capture(m, "avgpool") as store:
        out = m(x)
    assert tuple(out.shape) == (2, 7) and tuple(store[0].shape) == (2, 8 * width)
    # the latent is exactly fc's input
    with torch.no_grad():
        torch.testing.assert_close(m.fc(store[0]), out)


def test_initialisation_follows_the_seed():
    torch.manual_seed(3)
    a = build_model(num_classes=5, stem="cifar", width=4).state_dict()
    torch.manual_seed(3)
    b = build_model(num_classes=5, stem="cifar", width=4).state_dict()
    torch.manual_seed(4)
    c = build_model(num_classes=5, stem="cifar", width=4).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["conv1.weight"], c["conv1.weight"])


def test_unknown_layer_arch_stem():
    m = build_model(num_classes=3, stem="cifar", width=4)
    with pytest.raises(LatentGraphError, match="no module 'layer9'"), capture(m, "layer9"):
        pass
    with pytest.raises(LatentGraphError, match=r"unknown arch 'vgg99'.*e\.g\. vgg19"):
        build_model("vgg99")
    with pytest.raises(LatentGraphError, match="unknown stem"):
        build_model(stem="tiny")


def test_checkpoint_round_trip_with_weights_only(tmp_path):
    spec = model_spec({"arch": "resnet18", "stem": "cifar", "width": 4, "input_size": 8}, 3)
    torch.manual_seed(0)
    m = build_model(**spec)
    path = save_checkpoint(tmp_path / "c.pt", m, spec, epoch=2, seed=5, test_accuracy=0.5)
    raw = torch.load(path, weights_only=True)  # plain tensors and builtins only
    assert raw["meta"]["epoch"] == 2 and raw["spec"] == spec
    m2, ckpt = model_from_checkpoint(path)
    assert all(torch.equal(m.state_dict()[k], m2.state_dict()[k]) for k in m.state_dict())
    assert ckpt["meta"]["seed"] == 5


def test_checkpoints_are_byte_reproducible(tmp_path):
    """The same network saved twice (to different names) gives the same bytes: the zip's inner
    folder does not carry the atomic write's random temporary name."""
    spec = model_spec({"arch": "resnet18", "stem": "cifar", "width": 4, "input_size": 8}, 3)
    torch.manual_seed(0)
    m = build_model(**spec)
    a = save_checkpoint(tmp_path / "a.pt", m, spec, epoch=2)
    b = save_checkpoint(tmp_path / "b" / "other_name.pt", m, spec, epoch=2)
    assert a.read_bytes() == b.read_bytes()


def test_unreadable_checkpoints_name_the_file(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(LatentGraphError, match=r"junk\.pt: cannot load checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(LatentGraphError, match=r"gone\.pt: checkpoint file does not exist"):
        load_checkpoint(tmp_path / "gone.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    with pytest.raises(LatentGraphError, match=r"foreign\.pt: not a latentgraph checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    # a pickle that needs arbitrary code is refused by weights_only=True
    torch.save({"format": "latentgraph-checkpoint/1", "obj": np.random.default_rng(0)}, tmp_path / "unsafe.pt")
    with pytest.raises(LatentGraphError, match=r"unsafe\.pt: cannot load checkpoint"):
        load_checkpoint(tmp_path / "unsafe.pt")


def test_static_model_list_is_torchvisions():
    from latentgraph.nets.models import TORCHVISION_CLASSIFIERS, known_arch

    assert set(TORCHVISION_CLASSIFIERS) == set(torchvision.models.list_models(module=torchvision.models))
    assert known_arch("resnet50") and not known_arch("fasterrcnn_resnet50_fpn")  # detection is not classification


def test_any_torchvision_classifier_by_name_with_a_named_layer(tmp_path):
    torch.manual_seed(0)
    m = build_model("mobilenet_v3_small", num_classes=5).eval()
    assert isinstance(m, torchvision.models.MobileNetV3) and m.classifier[-1].out_features == 5
    ref = torchvision.models.mobilenet_v3_small(weights=None, num_classes=5)
    torch.save(ref.state_dict(), tmp_path / "w.pth")  # a local state-dict file, no download
    load_state_dict_file(m, tmp_path / "w.pth")
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad(), capture(m, "features.3") as flat, capture(m, "features.3", reduce="avg") as avg:
        m(x)
    assert tuple(flat[0].shape) == (3, 24 * 4 * 4) and tuple(avg[0].shape) == (3, 24)
    torch.testing.assert_close(avg[0], flat[0].reshape(3, 24, 16).mean(2))
    with pytest.raises(LatentGraphError, match="apply to arch resnet18 only"):
        build_model("resnet50", stem="cifar")
    with pytest.raises(LatentGraphError, match="unknown reduction"), capture(m, "features.3", reduce="max"):
        pass
