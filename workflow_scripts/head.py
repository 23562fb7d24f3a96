"""Rule head: the fc head (weight, bias) of one checkpoint as .npz, so the noise jobs need no torch."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

from latentgraph.head import write_head
from latentgraph.nets.extraction import head_weights
from latentgraph.nets.models import load_checkpoint
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])

ckpt = load_checkpoint(snakemake.input[0])
W, b = head_weights(ckpt["state_dict"])
write_head(snakemake.output[0], W, b, epoch=int(ckpt["meta"].get("epoch", -1)))
