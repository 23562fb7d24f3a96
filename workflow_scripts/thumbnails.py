"""Rule thumbnails: small images of the split's samples by sample id, for the explorer pages."""

from _common import start

start(snakemake)

from latentgraph.explore.images import write_dataset_thumbnails

p = snakemake.params
write_dataset_thumbnails(dict(p.data), snakemake.output[0], split=p.split, size=int(p.size),
                         input_size=int(p.input_size), progress=True)
