"""Rules prune_round0 / prune_round: one lottery-ticket round (prune, reset, train with early stopping)."""

from _common import start

start(snakemake)

from latentgraph.execution import execution_settings
from latentgraph.nets.data import load_dataset
from latentgraph.nets.models import load_checkpoint
from latentgraph.nets.pruning import (
    PruneRound,
    PruneSettings,
    RoundFiles,
    round_data_config,
    run_round,
    train_settings,
)
from latentgraph.nets.training import resolve_device

p = snakemake.params
inp, out = snakemake.input, snakemake.output
spec = load_checkpoint(inp.theta0)["spec"]
# device, workers and batch size of evaluation are execution settings: from the config, not params
settings = train_settings(p.pruning, {**execution_settings(snakemake.config, "train"), "amp": p.amp},
                          threads=snakemake.threads)
resolve_device(settings.device)  # a missing GPU fails here, before any work
data_cfg = {**p.data, **execution_settings(snakemake.config, "data")}
data = load_dataset(round_data_config(data_cfg, p.pruning), input_size=spec["input_size"])
first = int(p.round) == 0
files = RoundFiles(
    theta0=inp.theta0,
    model=out.model,
    mask=out.mask,
    history=out.history,
    summary=out.summary,
    previous_model=None if first else inp.previous,
    previous_mask=None if first else inp.previous_mask,
    reset=None if first else inp.reset,
    rewind=out.get("rewind") if first else None,
)
run_round(
    PruneRound(int(p.round), files, rate=None if first else float(p.rate)),
    data,
    settings,
    PruneSettings.from_config(p.pruning),
    seed=int(p.seed),
)
