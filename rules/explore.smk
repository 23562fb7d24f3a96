# Stage: the latent-space explorer (docs/explorer.md). One self-contained HTML page per
# explored run and epoch: the class graph (when the class graph stage's source is that run
# and epoch) and every test sample in a seeded 2-D layout, beside a second graph of the same
# samples (explore.compare). Thumbnails of the split come from the dataset (rule thumbnails,
# torch env); the pages are built in the graph env.
from latentgraph.explore.plan import explore_pages

EXPLORE = config["explore"]
EXPLORE_DIR = f"{RESULTS}/explore"
EXPLORE_PAGES = {page["tag"]: page for page in explore_pages(config)}
EXPLORE_THUMBNAILS = (
    f"{RESULTS}/thumbnails/{config['latents']['split']}.parquet"
    if EXPLORE["thumbnails"]["enabled"]
    else None
)
# the kNN tables hold k up to the largest knn.k: the page shows explore.k (default 4) of them
EXPLORE_K = EXPLORE["k"] if EXPLORE["k"] is not None else min(4, max(K_VALUES))
# each page's input files, by its tag (A/epoch_016)
EXPLORE_INPUTS = {
    tag: {
        "latents": latents_path(page["run"], page["epoch"]),
        "knn": knn_path(page["run"], page["epoch"]),
        **(
            {
                "latents2": latents_path(
                    page["second"]["run"], page["second"]["epoch"]
                ),
                "knn2": knn_path(page["second"]["run"], page["second"]["epoch"]),
            }
            if page["second"]
            else {}
        ),
        **(
            {
                "nodes": f"{RESULTS}/classgraph/{tag}/nodes.csv",
                "edges": f"{RESULTS}/classgraph/{tag}/edges.csv",
                "stats": f"{RESULTS}/classgraph/{tag}/stats.json",
            }
            if page["classgraph"]
            else {}
        ),
        **({"thumbnails": EXPLORE_THUMBNAILS} if EXPLORE_THUMBNAILS else {}),
    }
    for tag, page in EXPLORE_PAGES.items()
}
# final targets (rule all)
EXPLORE_TARGETS = [f"{EXPLORE_DIR}/{tag}.html" for tag in EXPLORE_PAGES]


rule thumbnails:
    output:
        f"{RESULTS}/thumbnails/{{split}}.parquet",
    log:
        f"{RESULTS}/logs/thumbnails/{{split}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/thumbnails/{{split}}.tsv"
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=RESOURCES["latents"]["mem_mb"],
        runtime=RESOURCES["latents"]["runtime"],
    params:
        data=TRAIN_DATA,
        split=lambda wc: wc.split,
        size=EXPLORE["thumbnails"]["size"],
        input_size=config["model"]["input_size"],
    script:
        "../workflow_scripts/thumbnails.py"


rule explore:
    input:
        unpack(lambda wc: EXPLORE_INPUTS[f"{wc.run}/epoch_{wc.epoch}"]),
    output:
        report(
            f"{EXPLORE_DIR}/{{run}}/epoch_{{epoch}}.html",
            caption="../report/explore.rst",
            category="8. Explorer",
            subcategory="{run}",
            labels={"run": "{run}", "epoch": "{epoch}"},
        ),
    log:
        f"{RESULTS}/logs/explore/{{run}}/epoch_{{epoch}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/explore/{{run}}/epoch_{{epoch}}.tsv"
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RESOURCES["graph"]["mem_mb"],
        runtime=RESOURCES["graph"]["runtime"],
    params:
        k=EXPLORE_K,
        layout=EXPLORE["layout"],
        thumbnails=EXPLORE["thumbnails"],
        directed=config["knn"]["directed"],
        compare=EXPLORE["compare"],
        hubs=config["classgraph"]["hubs"],
        title=lambda wc: f"{config['name']}: run {wc.run}, epoch {int(wc.epoch)}",
        second=lambda wc: EXPLORE_PAGES[f"{wc.run}/epoch_{wc.epoch}"]["second"],
    script:
        "../workflow_scripts/explore.py"
