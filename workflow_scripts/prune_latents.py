"""Rule prune_latents: a pruning round's latents of the configured split (spine schema)."""

from _common import start

start(snakemake, torch_threads=True)

from latentgraph.execution import execution_settings
from latentgraph.nets.data import load_dataset
from latentgraph.nets.extraction import extract_checkpoint, extraction_options
from latentgraph.nets.models import load_checkpoint
from latentgraph.nets.pruning import read_summary

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
