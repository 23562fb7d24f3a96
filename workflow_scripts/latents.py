"""Rule latents: one checkpoint's latents of the configured split, written as Parquet."""

from _common import start

start(snakemake, torch_threads=True)

from latentgraph.execution import execution_settings
from latentgraph.nets.data import load_dataset
from latentgraph.nets.extraction import extract_checkpoint, extraction_options
from latentgraph.nets.models import load_checkpoint

p = snakemake.params
ckpt = load_checkpoint(snakemake.input.checkpoint)
data = load_dataset({**p.data, **execution_settings(snakemake.config, "data")}, input_size=ckpt["spec"]["input_size"])
extract_checkpoint(
    snakemake.input.checkpoint,
    data,
    snakemake.output[0],
    split=p.split,
    layer=p.layer,
    **extraction_options(snakemake.config),
    metadata={"run": p.run},
)
