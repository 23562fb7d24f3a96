"""Rule layer_latents: one checkpoint's latents at every configured module, one pass."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

import torch

from latentgraph.execution import execution_settings
from latentgraph.nets.data import load_dataset
from latentgraph.nets.extraction import extract_checkpoint_layers, extraction_options
from latentgraph.nets.models import load_checkpoint
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)

p = snakemake.params
ckpt = load_checkpoint(snakemake.input.checkpoint)
data = load_dataset({**p.data, **execution_settings(snakemake.config, "data")}, input_size=ckpt["spec"]["input_size"])
extract_checkpoint_layers(
    snakemake.input.checkpoint,
    data,
    dict(zip(p.layers, snakemake.output, strict=True)),
    split=p.split,
    reduce=p.reduce,
    **extraction_options(snakemake.config),
    metadata={"run": p.run},
)
