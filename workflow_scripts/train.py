"""Rule train: train one run (one seed) and write its epoch 0..E checkpoints and history."""

from _common import start

start(snakemake)

from latentgraph.execution import execution_settings
from latentgraph.nets.data import check_class_names_file, load_dataset
from latentgraph.nets.models import check_config_layer_names, model_spec
from latentgraph.nets.training import TrainSettings, data_fingerprint, resolve_device, train_run

p = snakemake.params
# device, loader workers and evaluation batch size change how fast, not what: read from the
# config (latentgraph.config.execution_settings), not params, so they never retrain
run_on = execution_settings(snakemake.config, "train")
settings = TrainSettings.from_config({**p.train, **run_on}, threads=snakemake.threads)
resolve_device(settings.device)  # a missing GPU fails here, before any work
data = load_dataset({**p.data, **execution_settings(snakemake.config, "data")}, input_size=p.model["input_size"])
# the class-name file labels later outputs only; a wrong one fails now, not after training
check_class_names_file(snakemake.config["data"], data.num_classes)
# and the layers the later jobs extract exist in this architecture (any torchvision model)
check_config_layer_names(snakemake.config)
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
