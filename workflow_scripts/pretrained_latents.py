"""Rule pretrained_latents: latents of a pretrained network (a state-dict file), no training."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

import torch

from latentgraph.pretrained import extract_pretrained
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])
torch.set_num_threads(snakemake.threads)

p = snakemake.params
# speed knobs come from the config directly: changing them must not re-run the job
train_cfg = snakemake.config["train"]
extract_pretrained(
    p.weights,
    p.data,
    p.model,
    snakemake.output[0],
    split=p.split,
    layer=p.layer,
    device=train_cfg["device"],
    batch_size=snakemake.config["latents"]["batch_size"],
    num_workers=train_cfg["num_workers"],
    metadata={"run": "pretrained"},
)
