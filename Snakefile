"""latentgraph: the latent spaces of deep networks, studied as graphs.

Stages (one file each under rules/): train -> latents -> knn -> stability; noise (robustness
of one latent space); classgraph (class distances, class kNN graph, communities); prune
(lottery-ticket rounds); report (the thesis's values beside ours). Results land in
results/<name>/ (name from the config); `snakemake --report report.html` collects them.
See README.md.
"""

from snakemake.utils import min_version

min_version("8.20")


report: "report/workflow.rst"


# The default config is the embedded digits demo; `--configfile X` replaces it entirely
# (keys X leaves out take the schema's defaults, never the demo's values).
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/train.smk"
include: "rules/latents.smk"
include: "rules/knn.smk"
include: "rules/stability.smk"
include: "rules/noise.smk"
include: "rules/prune.smk"
include: "rules/classgraph.smk"
include: "rules/report.smk"
include: "rules/measures.smk"
include: "rules/explore.smk"


# The final outputs of every enabled stage: each rule file defines its <STAGE>_TARGETS (empty
# when the stage is disabled).
rule all:
    default_target: True
    input:
        TRAINING_TARGETS,
        STABILITY_TARGETS,
        NOISE_TARGETS,
        PRUNE_TARGETS,
        CLASSGRAPH_TARGETS,
        THESIS_COMPARISON_TARGETS,
        MEASURES_TARGETS,
        LAYERS_TARGETS,
        EXPLORE_TARGETS,
