"""Models: torchvision's ResNet-18 with a CIFAR or ImageNet stem and a width option.

``width=64`` with ``stem="imagenet"`` is exactly ``torchvision.models.resnet18`` (same
module names and shapes, so torchvision state dicts load). ``stem="cifar"`` replaces the
7x7/stride-2 convolution and the max-pool with a 3x3/stride-1 convolution. ``width``
scales every stage (width, 2w, 4w, 8w channels); the latent is the flattened ``avgpool``
output, of dimension 8 * width (512 for the standard network).

Checkpoints are plain dicts of tensors and builtins, saved with ``torch.save`` and read
with ``torch.load(weights_only=True)``; they carry the model spec so a checkpoint alone
rebuilds its network.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .utils import LatentGraphError, atomic_path

ARCHS = ("resnet18",)
STEMS = ("imagenet", "cifar")
CHECKPOINT_FORMAT = "latentgraph-checkpoint/1"


def model_spec(cfg: dict[str, Any], num_classes: int) -> dict[str, Any]:
    """The canonical model description stored in every checkpoint."""
    return {
        "arch": str(cfg.get("arch", "resnet18")),
        "stem": str(cfg.get("stem", "imagenet")),
        "width": int(cfg.get("width", 64)),
        "num_classes": int(num_classes),
        "input_size": int(cfg.get("input_size", 224)),
    }


def build_model(arch: str = "resnet18", num_classes: int = 1000, stem: str = "imagenet", width: int = 64, **_: Any) -> Any:
    """A freshly initialised network (initialisation follows torch's global RNG)."""
    import torch.nn as nn
    from torchvision.models.resnet import BasicBlock, ResNet

    if arch not in ARCHS:
        raise LatentGraphError(f"unknown arch {arch!r}; allowed: {list(ARCHS)}")
    if stem not in STEMS:
        raise LatentGraphError(f"unknown stem {stem!r}; allowed: {list(STEMS)}")
    if width < 1:
        raise LatentGraphError(f"width must be positive, got {width}")
    if width == 64 and stem == "imagenet":
        from torchvision.models import resnet18

        return resnet18(weights=None, num_classes=num_classes)

    model = ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)
    # rebuild every stage at the requested width (torchvision hard-codes 64)
    model.inplanes = width
    if stem == "cifar":
        model.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=1, padding=1, bias=False)
        model.maxpool = nn.Identity()
    else:
        model.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
    model.bn1 = nn.BatchNorm2d(width)
    model.layer1 = model._make_layer(BasicBlock, width, 2)
    model.layer2 = model._make_layer(BasicBlock, 2 * width, 2, stride=2)
    model.layer3 = model._make_layer(BasicBlock, 4 * width, 2, stride=2)
    model.layer4 = model._make_layer(BasicBlock, 8 * width, 2, stride=2)
    model.fc = nn.Linear(8 * width, num_classes)
    # torchvision's initialisation, applied to the rebuilt modules
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
    return model


def build_from_spec(spec: dict[str, Any]) -> Any:
    """Build the network a checkpoint's ``spec`` describes."""
    return build_model(spec["arch"], spec["num_classes"], spec.get("stem", "imagenet"), spec.get("width", 64))


def save_checkpoint(path: str | Path, model: Any, spec: dict[str, Any], **meta: Any) -> Path:
    """Save weights plus spec and metadata (builtins only) atomically."""
    import torch

    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    payload = {"format": CHECKPOINT_FORMAT, "spec": dict(spec), "state_dict": state, "meta": dict(meta)}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; name the file in every error."""
    import torch

    p = Path(path)
    if not p.exists():
        raise LatentGraphError(f"{p}: checkpoint file does not exist")
    try:
        ckpt = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        raise LatentGraphError(f"{p}: cannot load checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0]})") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise LatentGraphError(f"{p}: not a latentgraph checkpoint (expected format {CHECKPOINT_FORMAT})")
    return ckpt


def model_from_checkpoint(path: str | Path, map_location: Any = "cpu") -> tuple[Any, dict[str, Any]]:
    """Rebuild the network stored in a checkpoint; returns ``(model, checkpoint_dict)``."""
    ckpt = load_checkpoint(path, map_location)
    model = build_from_spec(ckpt["spec"])
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise LatentGraphError(f"{path}: weights do not fit the stored model spec: {str(exc).splitlines()[0]}") from exc
    return model, ckpt


def load_state_dict_file(model: Any, path: str | Path) -> Any:
    """Load a plain state-dict file (e.g. torchvision's ``resnet18-f37072fd.pth``) into ``model``.

    Read with ``weights_only=True``; a ``{"state_dict": ...}`` wrapper and a ``module.``
    prefix (DataParallel) are accepted.
    """
    import torch

    p = Path(path)
    if not p.exists():
        raise LatentGraphError(f"{p}: weights file does not exist")
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise LatentGraphError(f"{p}: cannot load weights ({type(exc).__name__}: {str(exc).splitlines()[0]})") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise LatentGraphError(f"{p}: expected a state dict, got {type(state).__name__}")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise LatentGraphError(f"{p}: weights do not fit the model: {str(exc).splitlines()[0]}") from exc
    return model


@contextmanager
def capture(model: Any, layer: str = "avgpool"):
    """Record the flattened output of module ``layer`` on every forward pass.

    Yields a list; each forward appends one (batch, features) tensor.
    """
    import torch

    modules = dict(model.named_modules())
    if layer not in modules:
        names = [n for n in modules if n][:20]
        raise LatentGraphError(f"model has no module {layer!r}; some available: {names}")
    store: list[Any] = []

    def hook(_m: Any, _inp: Any, out: Any) -> None:
        store.append(torch.flatten(out, 1))

    handle = modules[layer].register_forward_hook(hook)
    try:
        yield store
    finally:
        handle.remove()
