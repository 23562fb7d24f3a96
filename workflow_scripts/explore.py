"""Rule explore: one self-contained explorer page of a run at an epoch (class view, samples side by side)."""

from _common import start

start(snakemake)

from latentgraph.explore import GraphInput, PageOptions, page_data, write_page

p = snakemake.params
inp = snakemake.input
graphs = [GraphInput(inp.latents, inp.knn)]
notes = []
if p.second:
    graphs.append(GraphInput(inp.latents2, inp.knn2))
    notes.append(f"Side by side ({p.compare}): run {p.second['run']} at epoch {p.second['epoch']}.")
class_graph = {"nodes": inp.nodes, "edges": inp.edges, "stats": inp.stats} if hasattr(inp, "nodes") else None
thumbnails = inp.thumbnails if hasattr(inp, "thumbnails") else None
options = PageOptions(k=int(p.k), seed=int(p.layout["seed"]), n_neighbors=int(p.layout["n_neighbors"]),
                      directed=bool(p.directed), thumbnail_cap=int(p.thumbnails["cap"]), hubs=int(p.hubs),
                      extra_notes=notes)
data = page_data(graphs, class_graph=class_graph, thumbnails=thumbnails, options=options)
write_page(snakemake.output[0], data, p.title)
