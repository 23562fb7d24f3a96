"""Rule pretrained_latents: latents of a pretrained network (a state-dict file), no training."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

import torch

from latentgraph.execution import execution_settings
from latentgraph.nets.extraction import extraction_options
from latentgraph.nets.pretrained import extract_pretrained
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)

p = snakemake.params
extract_pretrained(
    p.weights,
    {**p.data, **execution_settings(snakemake.config, "data")},
    p.model,
    snakemake.output[0],
    split=p.split,
    layer=p.layer,
    **extraction_options(snakemake.config),
    metadata={"run": "pretrained"},
)
