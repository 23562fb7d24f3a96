"""Rule train: train one run (one seed) and write its epoch 0..E checkpoints and history."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

from latentgraph.data import load_dataset
from latentgraph.models import model_spec
from latentgraph.train import TrainSettings, data_fingerprint, train_run
from latentgraph.utils import setup_logging

setup_logging(snakemake.log[0])

p = snakemake.params
data = load_dataset(p.data, input_size=p.model["input_size"])
settings = TrainSettings.from_config(p.train, threads=snakemake.threads)
train_run(
    model_spec(p.model, data.num_classes),
    data,
    settings,
    seed=int(p.seed),
    checkpoint_paths=list(snakemake.output.checkpoints),
    history_path=snakemake.output.history,
    work_dir=p.work_dir,
    data_fingerprint=data_fingerprint(p.data),
)
