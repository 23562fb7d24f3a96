"""The torch side: data sets, networks, training, latent extraction, pretrained weights, lottery-ticket pruning.

Everything here may import PyTorch (lazily, inside functions). Nothing in
:mod:`latentgraph.graphs`, :mod:`latentgraph.compare` or :mod:`latentgraph.experiments`
imports this package, so graph jobs run in an environment without torch
(``tests/test_boundary.py``).

Modules: :mod:`.data`, :mod:`.models`, :mod:`.training`, :mod:`.extraction`, :mod:`.pretrained`, :mod:`.pruning`.
Every public name below is importable from the package (loaded on first use).
"""

from __future__ import annotations

from ..utils import lazy_exports

#: public name -> the module that defines it
_EXPORTS = {
    "DataBundle": ".data",
    "TensorSplit": ".data",
    "augment_batch": ".data",
    "IndexedDataset": ".data",
    "stratified_split": ".data",
    "load_digits_bundle": ".data",
    "load_synthetic_bundle": ".data",
    "load_cifar100_bundle": ".data",
    "load_imagefolder_bundle": ".data",
    "read_class_names": ".data",
    "check_class_names_file": ".data",
    "load_dataset": ".data",
    "prepare_batch": ".data",
    "model_spec": ".models",
    "known_arch": ".models",
    "unknown_arch_message": ".models",
    "build_model": ".models",
    "resnet18_module_names": ".models",
    "module_names": ".models",
    "check_layer_names": ".models",
    "requested_layers": ".models",
    "check_config_layer_names": ".models",
    "build_from_spec": ".models",
    "save_checkpoint": ".models",
    "load_torch_file": ".models",
    "load_checkpoint": ".models",
    "model_from_checkpoint": ".models",
    "load_state_dict_file": ".models",
    "capture": ".models",
    "TrainSettings": ".training",
    "resolve_device": ".training",
    "fp32_precision_leaves": ".training",
    "set_tf32": ".training",
    "configure_torch": ".training",
    "autocast": ".training",
    "iterate": ".training",
    "evaluate": ".training",
    "train_one_epoch": ".training",
    "make_optimizer": ".training",
    "train_epochs": ".training",
    "train_run": ".training",
    "data_fingerprint": ".training",
    "state_dicts_equal": ".training",
    "weights_array": ".training",
    "float32_precision": ".extraction",
    "head_weights": ".extraction",
    "extract": ".extraction",
    "extract_layers": ".extraction",
    "extraction_options": ".extraction",
    "extract_checkpoint": ".extraction",
    "extract_checkpoint_layers": ".extraction",
    "extract_pretrained": ".pretrained",
    "rate_label": ".pruning",
    "check_rate": ".pruning",
    "PruneSettings": ".pruning",
    "train_settings": ".pruning",
    "round_data_config": ".pruning",
    "conv_weight_names": ".pruning",
    "full_mask": ".pruning",
    "global_magnitude_prune": ".pruning",
    "layerwise_magnitude_prune": ".pruning",
    "prune_mask": ".pruning",
    "pruned_counts": ".pruning",
    "pruned_fraction": ".pruning",
    "layer_fractions": ".pruning",
    "MaskEnforcer": ".pruning",
    "apply_mask": ".pruning",
    "reset_to": ".pruning",
    "save_mask": ".pruning",
    "load_mask": ".pruning",
    "EarlyStopping": ".pruning",
    "stopping_point": ".pruning",
    "StoppingResult": ".pruning",
    "train_early_stopping": ".pruning",
    "RoundFiles": ".pruning",
    "PruneRound": ".pruning",
    "prune_and_reset": ".pruning",
    "train_round": ".pruning",
    "round_summary": ".pruning",
    "run_round": ".pruning",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
