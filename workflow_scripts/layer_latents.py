"""Rule layer_latents: one checkpoint's latents at every configured module, one pass."""

from _common import start

start(snakemake, torch_threads=True)

from latentgraph.execution import execution_settings
from latentgraph.nets.data import load_dataset
from latentgraph.nets.extraction import extract_checkpoint_layers, extraction_options
from latentgraph.nets.models import load_checkpoint

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
