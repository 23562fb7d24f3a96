"""Rule plot_noise: Jaccard (full and zoomed), CNS and accuracy against the noise level (Figs 5.2-5.4)."""

from _common import start

start(snakemake)

import pandas as pd

from latentgraph.experiments.noise import majority_share
from latentgraph.io import read_latents
from latentgraph.plotting import plot_noise_accuracy, plot_noise_similarity

summary = pd.read_csv(snakemake.input.summary)
chance = pd.read_csv(snakemake.input.chance)
lat = read_latents(snakemake.input.latents)
title = snakemake.params.title
plot_noise_similarity(summary, chance, "jaccard", snakemake.output.jaccard, zoom_max=snakemake.params.zoom_max,
                      title=title)
plot_noise_similarity(summary, chance, "cns", snakemake.output.cns, title=title)
plot_noise_accuracy(summary, snakemake.output.accuracy, clean_accuracy=lat.accuracy,
                    chance_accuracy=majority_share(lat.labels), title=title)
