"""Rule pretrained_latents: latents of a pretrained network (a state-dict file), no training."""

from _common import start

start(snakemake, torch_threads=True)

from latentgraph.execution import execution_settings
from latentgraph.nets.extraction import extraction_options
from latentgraph.nets.pretrained import extract_pretrained

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
