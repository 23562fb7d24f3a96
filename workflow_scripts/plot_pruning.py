"""Rule plot_pruning: CNS and Jaccard of every round against round 0 (Figs 5.13/5.14), with the
seed-to-seed level of the stability experiment as reference lines when that stage ran."""

from _common import start

start(snakemake)

import logging

import pandas as pd

from latentgraph.experiments.pruning import seed_reference
from latentgraph.plotting import plot_pruning

df = pd.read_csv(snakemake.input.table)
stability = snakemake.input.get("stability")
reference = seed_reference(pd.read_csv(stability)) if stability else None
if reference is None:
    why = "the stability table has no seed-to-seed rows" if stability else "the stability stage is disabled"
    logging.getLogger("latentgraph").info("no seed-to-seed reference line: %s", why)
for measure in ("cns", "jaccard"):
    plot_pruning(df, snakemake.output[measure], measure=measure, reference=reference, title=snakemake.params.title)
