"""Rule prune_latents: a pruning round's latents of the configured split (spine schema)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

import torch

from latentgraph.execution import execution_settings
from latentgraph.nets.data import load_dataset
from latentgraph.nets.extraction import extract_checkpoint, extraction_options
from latentgraph.nets.models import load_checkpoint
from latentgraph.nets.pruning import read_summary
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)

p = snakemake.params
ckpt = load_checkpoint(snakemake.input.model)
data = load_dataset({**p.data, **execution_settings(snakemake.config, "data")}, input_size=ckpt["spec"]["input_size"])
summary = read_summary(snakemake.input.summary)
extract_checkpoint(
    snakemake.input.model,
    data,
    snakemake.output[0],
    split=p.split,
    layer=p.layer,
    **extraction_options(snakemake.config),
    metadata={
        "run": p.run,
        "rate": summary["rate"],
        "round": summary["round"],
        "pruned_fraction": summary["pruned_fraction"],
        "epochs_trained": summary["epochs_trained"],
    },
)
