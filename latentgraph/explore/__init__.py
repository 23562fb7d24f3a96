"""The latent-space explorer: self-contained HTML pages of a class graph and of the samples.

:mod:`latentgraph.explore.data` computes what a page shows (class graph, seeded UMAP layout
of the samples, neighbours, k-occurrence, per-sample Jaccard, thumbnail atlas);
:mod:`latentgraph.explore.page` writes it with the package's template, style, behaviour
and vendored libraries (sigma.js, graphology) into one HTML file that opens offline.
"""

from .data import class_view, sample_layout, thumbnail_atlas
from .page import GraphInput, PageOptions, class_graph_page_data, page_data, render_page, write_page
from .thumbs import read_thumbnails, write_thumbnails

__all__ = [
    "GraphInput",
    "PageOptions",
    "class_graph_page_data",
    "class_view",
    "page_data",
    "read_thumbnails",
    "render_page",
    "sample_layout",
    "thumbnail_atlas",
    "write_page",
    "write_thumbnails",
]
