"""Models: torchvision's ResNet-18 with a CIFAR or ImageNet stem and a width option, and any
other torchvision classification model by name.

``width=64`` with ``stem="imagenet"`` is exactly ``torchvision.models.resnet18`` (same
module names and shapes, so torchvision state dicts load). ``stem="cifar"`` replaces the
7x7/stride-2 convolution and the max-pool with a 3x3/stride-1 convolution. ``width``
scales every stage (width, 2w, 4w, 8w channels); the latent is the flattened ``avgpool``
output, of dimension 8 * width (512 for the standard network).

Any other name of ``torchvision.models.list_models(module=torchvision.models)`` (e.g.
``resnet50``, ``mobilenet_v3_small``, ``vit_b_16``) builds that network with
``weights=None`` (no download); pretrained weights come from a local state-dict file
(:func:`load_state_dict_file`). ``stem`` and ``width`` apply to ``resnet18`` only.

Checkpoints are plain dicts of tensors and builtins, saved with ``torch.save`` and read
with ``torch.load(weights_only=True)``; they carry the model spec so a checkpoint alone
rebuilds its network.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..utils import LatentGraphError, atomic_path

ARCHS = ("resnet18",)  # the architectures with stem/width options
#: torchvision 0.29's classification models (``list_models(module=torchvision.models)``);
#: checked without importing torch. Names a newer torchvision adds are accepted too
#: (:func:`known_arch` asks torchvision when a name is not listed here).
TORCHVISION_CLASSIFIERS = (
    "alexnet", "convnext_base", "convnext_large", "convnext_small", "convnext_tiny", "densenet121", "densenet161",
    "densenet169", "densenet201", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
    "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7", "efficientnet_v2_l",
    "efficientnet_v2_m", "efficientnet_v2_s", "googlenet", "inception_v3", "maxvit_t", "mnasnet0_5", "mnasnet0_75",
    "mnasnet1_0", "mnasnet1_3", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "regnet_x_16gf",
    "regnet_x_1_6gf", "regnet_x_32gf", "regnet_x_3_2gf", "regnet_x_400mf", "regnet_x_800mf", "regnet_x_8gf",
    "regnet_y_128gf", "regnet_y_16gf", "regnet_y_1_6gf", "regnet_y_32gf", "regnet_y_3_2gf", "regnet_y_400mf",
    "regnet_y_800mf", "regnet_y_8gf", "resnet101", "resnet152", "resnet18", "resnet34", "resnet50",
    "resnext101_32x8d", "resnext101_64x4d", "resnext50_32x4d", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0",
    "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", "squeezenet1_0", "squeezenet1_1", "swin_b", "swin_s", "swin_t",
    "swin_v2_b", "swin_v2_s", "swin_v2_t", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
    "vgg19_bn", "vit_b_16", "vit_b_32", "vit_h_14", "vit_l_16", "vit_l_32", "wide_resnet101_2", "wide_resnet50_2",
)
REDUCTIONS = ("flatten", "avg")
STEMS = ("imagenet", "cifar")
CHECKPOINT_FORMAT = "latentgraph-checkpoint/1"


def model_spec(cfg: dict[str, Any], num_classes: int) -> dict[str, Any]:
    """The canonical model description stored in every checkpoint.

    Parameters
    ----------
    cfg : dict
        The config's ``model`` section (``arch``, ``stem``, ``width``, ``input_size``; missing
        keys take ``resnet18``, ``imagenet``, 64 and 224).
    num_classes : int
        Number of outputs of the classifier.

    Returns
    -------
    dict
        ``arch``, ``stem``, ``width``, ``num_classes`` and ``input_size``.
    """
    return {
        "arch": str(cfg.get("arch", "resnet18")),
        "stem": str(cfg.get("stem", "imagenet")),
        "width": int(cfg.get("width", 64)),
        "num_classes": int(num_classes),
        "input_size": int(cfg.get("input_size", 224)),
    }


def known_arch(arch: str) -> bool:
    """Whether ``arch`` names a torchvision classification model (see :data:`TORCHVISION_CLASSIFIERS`).

    Parameters
    ----------
    arch : str
        The architecture's name.

    Returns
    -------
    bool
        True when the name is listed, or when the installed torchvision lists it.
    """
    if arch in TORCHVISION_CLASSIFIERS:
        return True
    try:
        import torchvision
    except ImportError:
        return False
    return arch in torchvision.models.list_models(module=torchvision.models)


def unknown_arch_message(arch: str) -> str:
    """The error for an unknown architecture: close names first, then a few others.

    Parameters
    ----------
    arch : str
        The unknown name.

    Returns
    -------
    str
        The message, with up to five close names (or common ones when none is close).
    """
    import difflib

    close = difflib.get_close_matches(str(arch), TORCHVISION_CLASSIFIERS, n=5, cutoff=0.5)
    some = close or ["resnet18", "resnet50", "mobilenet_v3_small", "efficientnet_b0", "vit_b_16"]
    return (f"unknown arch {arch!r}: not a torchvision classification model; e.g. {', '.join(some)} "
            f"({len(TORCHVISION_CLASSIFIERS)} names: torchvision.models.list_models(module=torchvision.models))")


def build_model(arch: str = "resnet18", num_classes: int = 1000, stem: str = "imagenet", width: int = 64, **_: Any) -> Any:
    """A freshly initialised network (initialisation follows torch's global RNG).

    Parameters
    ----------
    arch : str, optional
        ``resnet18`` or any other torchvision classification model, built by name with
        ``weights=None``.
    num_classes : int, optional
        Number of outputs.
    stem : {"imagenet", "cifar"}, optional
        The ``resnet18`` stem; other architectures need ``imagenet``.
    width : int, optional
        Channels of the first ``resnet18`` stage (stages have w, 2w, 4w, 8w); other
        architectures need 64.
    **_ : Any
        Other keys of a model spec (e.g. ``input_size``), ignored.

    Returns
    -------
    torch.nn.Module
        The network.

    Raises
    ------
    LatentGraphError
        For an unknown architecture, stem or width, or ``stem``/``width`` set on another
        architecture than ``resnet18``.
    """
    import torch.nn as nn
    from torchvision.models.resnet import BasicBlock, ResNet

    if arch not in ARCHS:
        if not known_arch(arch):
            raise LatentGraphError(unknown_arch_message(arch))
        if stem != "imagenet" or width != 64:
            raise LatentGraphError(f"model.stem and model.width apply to arch resnet18 only; arch {arch!r} needs "
                                   f"stem 'imagenet' and width 64 (got stem {stem!r}, width {width})")
        import torchvision

        return torchvision.models.get_model(arch, weights=None, num_classes=num_classes)
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


def resnet18_module_names() -> list[str]:
    """The names of ``build_model("resnet18", ...).named_modules()`` (any stem and width), without torch.

    The workflow checks ``latents.layer`` and ``layers.layers`` against them when it parses
    the config, so that a typo fails before any training. ``tests/test_models.py`` checks
    the list against the built models.

    Returns
    -------
    list of str
        Module names in ``named_modules()`` order, without the root's empty name.
    """
    names = ["conv1", "bn1", "relu", "maxpool"]
    for stage in range(1, 5):
        names.append(f"layer{stage}")
        for block in range(2):
            prefix = f"layer{stage}.{block}"
            names += [prefix] + [f"{prefix}.{m}" for m in ("conv1", "bn1", "relu", "conv2", "bn2")]
            if stage > 1 and block == 0:
                names += [f"{prefix}.downsample", f"{prefix}.downsample.0", f"{prefix}.downsample.1"]
    return names + ["avgpool", "fc"]


def module_names(arch: str, stem: str = "imagenet", width: int = 64) -> list[str]:
    """Named modules of an architecture (torch's ``meta`` device: no weights are allocated).

    Parameters
    ----------
    arch : str
        The architecture's name.
    stem : str, optional
        The ``resnet18`` stem (see :func:`build_model`).
    width : int, optional
        The ``resnet18`` width (see :func:`build_model`).

    Returns
    -------
    list of str
        Dotted module names, as ``model.named_modules()`` lists them (the root left out).
    """
    if arch in ARCHS:
        return resnet18_module_names()
    import torch

    with torch.device("meta"):
        model = build_model(arch, 10, stem, width)
    return [n for n, _ in model.named_modules() if n]


def check_layer_names(layers: dict[str, list[str]], names: list[str], arch: str) -> None:
    """Raise naming the config key when a requested module is not in ``names``.

    Parameters
    ----------
    layers : dict of str to list of str
        Requested module names by config key (see :func:`requested_layers`).
    names : list of str
        The model's module names (see :func:`module_names`).
    arch : str
        The architecture, named in the message.

    Raises
    ------
    LatentGraphError
        Naming the config key and the missing module, with close names where there are some.
    """
    import difflib

    for key, wanted in layers.items():
        for layer in wanted:
            if layer not in names:
                close = difflib.get_close_matches(layer, names, n=3, cutoff=0.6)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                top = ", ".join(n for n in names if "." not in n)
                raise LatentGraphError(f"{key}: model {arch!r} has no module {layer!r}{hint} (top-level modules: "
                                       f"{top}; nested ones by dotted name, as model.named_modules() lists them)")


def requested_layers(config: dict[str, Any]) -> dict[str, list[str]]:
    """Module names a (validated) workflow config asks for, by config key.

    Parameters
    ----------
    config : dict
        The workflow config.

    Returns
    -------
    dict of str to list of str
        ``latents.layer`` (default ``avgpool``) and, when the layer stage is enabled,
        ``layers.layers``.
    """
    out = {"latents.layer": [(config.get("latents") or {}).get("layer", "avgpool")]}
    lay = config.get("layers") or {}
    if lay.get("enabled", False):
        out["layers.layers"] = list(lay.get("layers", []))
    return out


def check_config_layer_names(config: dict[str, Any]) -> None:
    """Check the layer names of a workflow config against the built model (any architecture; needs torch).

    The train job's first step, so that a typo fails before any training.

    Parameters
    ----------
    config : dict
        The workflow config (its ``model``, ``latents`` and ``layers`` sections are read).

    Raises
    ------
    LatentGraphError
        When a requested layer is not a module of the model (see :func:`check_layer_names`).
    """
    model = config.get("model") or {}
    arch = model.get("arch", "resnet18")
    names = module_names(arch, model.get("stem", "imagenet"), int(model.get("width", 64)))
    check_layer_names(requested_layers(config), names, arch)


def build_from_spec(spec: dict[str, Any]) -> Any:
    """Build the network a checkpoint's ``spec`` describes.

    Parameters
    ----------
    spec : dict
        A model spec (see :func:`model_spec`).

    Returns
    -------
    torch.nn.Module
        The freshly initialised network.
    """
    return build_model(spec["arch"], spec["num_classes"], spec.get("stem", "imagenet"), spec.get("width", 64))


def save_checkpoint(path: str | Path, model: Any, spec: dict[str, Any], **meta: Any) -> Path:
    """Save weights plus spec and metadata (builtins only) atomically.

    Parameters
    ----------
    path : str or pathlib.Path
        The checkpoint file to write.
    model : torch.nn.Module
        The network; its state dict is saved from CPU copies.
    spec : dict
        Its model spec (see :func:`model_spec`).
    **meta : Any
        Metadata stored under ``meta`` (builtins only, so ``weights_only`` loading works).

    Returns
    -------
    pathlib.Path
        ``path``.
    """

    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    payload = {"format": CHECKPOINT_FORMAT, "spec": dict(spec), "state_dict": state, "meta": dict(meta)}
    return save_torch_file(payload, path)


def save_torch_file(obj: Any, path: str | Path) -> Path:
    """``torch.save(obj)`` to ``path``, atomically and byte for byte the same on every save.

    ``torch.save`` names the folder inside its zip archive after the file name it is given;
    given the atomic write's random temporary name, two saves of the same object would
    differ in those bytes. Written through an open file instead, the folder is always
    ``archive`` (what ``torch.load`` expects either way).

    Parameters
    ----------
    obj : Any
        What to save: dicts of tensors and builtins (loadable with ``weights_only=True``).
    path : str or pathlib.Path
        The file to write.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import torch

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        torch.save(obj, fh)
    return Path(path)


def load_torch_file(path: str | Path, what: str, map_location: Any = "cpu") -> Any:
    """``torch.load(path, weights_only=True)``; every error names the file and ``what`` it is.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    what : str
        What the file is, in messages (``"checkpoint"``, ``"weights"``).
    map_location : str or torch.device, optional
        Where tensors are loaded to.

    Returns
    -------
    Any
        The loaded object.

    Raises
    ------
    LatentGraphError
        When the file is missing or cannot be loaded.
    """
    import torch

    p = Path(path)
    if not p.exists():
        raise LatentGraphError(f"{p}: {what} file does not exist")
    try:
        return torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        raise LatentGraphError(f"{p}: cannot load {what} ({type(exc).__name__}: {str(exc).splitlines()[0]})") from exc


def load_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; name the file in every error.

    Parameters
    ----------
    path : str or pathlib.Path
        The checkpoint file.
    map_location : str or torch.device, optional
        Where tensors are loaded to.

    Returns
    -------
    dict
        The checkpoint: ``format``, ``spec``, ``state_dict`` and ``meta``.

    Raises
    ------
    LatentGraphError
        When the file is missing, unreadable or not a latentgraph checkpoint.
    """
    p = Path(path)
    ckpt = load_torch_file(p, "checkpoint", map_location)
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise LatentGraphError(f"{p}: not a latentgraph checkpoint (expected format {CHECKPOINT_FORMAT})")
    return ckpt


def model_from_checkpoint(path: str | Path, map_location: Any = "cpu") -> tuple[Any, dict[str, Any]]:
    """Rebuild the network stored in a checkpoint.

    Parameters
    ----------
    path : str or pathlib.Path
        The checkpoint file.
    map_location : str or torch.device, optional
        Where tensors are loaded to.

    Returns
    -------
    model : torch.nn.Module
        The network with the stored weights.
    checkpoint : dict
        The checkpoint (see :func:`load_checkpoint`).

    Raises
    ------
    LatentGraphError
        When the checkpoint cannot be loaded or its weights do not fit its spec.
    """
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

    Parameters
    ----------
    model : torch.nn.Module
        The network to load into (in place).
    path : str or pathlib.Path
        The state-dict file.

    Returns
    -------
    torch.nn.Module
        ``model``.

    Raises
    ------
    LatentGraphError
        When the file cannot be loaded, is not a state dict or does not fit the model.
    """
    p = Path(path)
    state = load_torch_file(p, "weights")
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
def capture(model: Any, layer: str = "avgpool", reduce: str = "flatten"):
    """Record the output of module ``layer`` on every forward pass, one row per sample.

    Parameters
    ----------
    model : torch.nn.Module
        The network.
    layer : str, optional
        Dotted module name (as ``model.named_modules()`` lists it).
    reduce : {"flatten", "avg"}, optional
        ``"flatten"`` flattens each sample's output (a (C, H, W) map becomes C·H·W
        features); ``"avg"`` averages a 4-D (batch, C, H, W) output over H and W first
        (global average pooling: C features; other shapes are flattened as they are).

    Yields
    ------
    list of torch.Tensor
        Each forward pass appends one (batch, features) tensor.

    Raises
    ------
    LatentGraphError
        For an unknown reduction or a module the model does not have.
    """
    import torch

    if reduce not in REDUCTIONS:
        raise LatentGraphError(f"unknown reduction {reduce!r}; allowed: {list(REDUCTIONS)}")
    modules = dict(model.named_modules())
    if layer not in modules:
        names = [n for n in modules if n][:20]
        raise LatentGraphError(f"model has no module {layer!r}; some available: {names}")
    store: list[Any] = []

    def hook(_m: Any, _inp: Any, out: Any) -> None:
        if reduce == "avg" and out.dim() == 4:
            out = out.mean(dim=(2, 3))
        store.append(torch.flatten(out, 1))

    handle = modules[layer].register_forward_hook(hook)
    try:
        yield store
    finally:
        handle.remove()
