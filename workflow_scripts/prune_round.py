"""Rules prune_round0 / prune_round: one lottery-ticket round (prune, reset, train with early stopping)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

from latentgraph.execution import execution_settings
from latentgraph.nets.data import load_dataset
from latentgraph.nets.models import load_checkpoint
from latentgraph.nets.pruning import PruneSettings, round_data_config, run_round, train_settings
from latentgraph.nets.training import resolve_device
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])

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
run_round(
    inp.theta0,
    data,
    settings,
    PruneSettings.from_config(p.pruning),
    seed=int(p.seed),
    round_index=int(p.round),
    rate=None if first else float(p.rate),
    previous_model=None if first else inp.previous,
    previous_mask=None if first else inp.previous_mask,
    reset_path=None if first else inp.reset,
    out_model=out.model,
    out_mask=out.mask,
    out_history=out.history,
    out_summary=out.summary,
    out_rewind=out.get("rewind") if first else None,
)
