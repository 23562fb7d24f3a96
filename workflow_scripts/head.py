"""Rule head: the fc head (weight, bias) of one checkpoint as .npz, so the noise jobs need no torch."""

from _common import start

start(snakemake)

from latentgraph.head import write_head
from latentgraph.nets.extraction import head_weights
from latentgraph.nets.models import load_checkpoint

ckpt = load_checkpoint(snakemake.input[0])
W, b = head_weights(ckpt["state_dict"])
write_head(snakemake.output[0], W, b, epoch=int(ckpt["meta"].get("epoch", -1)))
