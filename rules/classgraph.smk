# Stage: the class graph (thesis 4.2, 5.2). Latents of a trained run at one epoch, or of a
# pretrained network (state-dict file, no training) -> class distance matrix (all-pairs
# shortest paths on the sample kNN graph, streamed) -> class kNN graph, statistics,
# communities, GraphML/GEXF -> figures.
CG = classgraph_dir()
CG_TAG = CG.removeprefix(f"{R}/classgraph/")  # A/epoch_015 or pretrained
CGLOG = f"{R}/logs/classgraph/{CG_TAG}"
CGBENCH = f"{R}/benchmarks/classgraph/{CG_TAG}"
CGF = config["classgraph"]


rule pretrained_latents:
    input:
        weights=classgraph_weights,
    output:
        f"{R}/latents/pretrained/{{split}}.parquet",
    log:
        f"{R}/logs/pretrained_latents/{{split}}.log",
    benchmark:
        f"{R}/benchmarks/pretrained_latents/{{split}}.tsv"
    conda:
        TORCH_ENV
    threads: RES["latents"]["threads"]
    resources:
        **gpu_resources(),
        mem_mb=RES["latents"]["mem_mb"],
        runtime=RES["latents"]["runtime"],
    params:
        weights=(CGF["source"].get("pretrained") or {}).get("weights"),
        data=RESULT["data"],
        model=RESULT["model"],
        layer=config["latents"]["layer"],
        split=lambda wc: wc.split,
    script:
        "../workflow_scripts/pretrained_latents.py"


rule class_distances:
    input:
        classgraph_latents(),
    output:
        f"{CG}/class_distances.parquet",
    log:
        f"{CGLOG}/class_distances.log",
    benchmark:
        f"{CGBENCH}/class_distances.tsv"
    conda:
        "../envs/graph.yaml"
    threads: RES["graph"]["threads"]
    resources:
        mem_mb=RES["graph"]["mem_mb"],
        runtime=RES["graph"]["runtime"],
    params:
        k=CGF["k"],
        weights=CGF["weights"],
        metric=config["knn"]["metric"],
    script:
        "../workflow_scripts/class_distances.py"


rule class_graph:
    input:
        f"{CG}/class_distances.parquet",
    output:
        nodes=report(
            f"{CG}/nodes.csv",
            caption="../report/classgraph.rst",
            category="4. Class graph",
        ),
        edges=report(
            f"{CG}/edges.csv",
            caption="../report/classgraph.rst",
            category="4. Class graph",
        ),
        graphml=f"{CG}/class_graph.graphml",
        gexf=f"{CG}/class_graph.gexf",
        stats=report(
            f"{CG}/stats.json",
            caption="../report/classgraph.rst",
            category="4. Class graph",
        ),
        summary=f"{CG}/summary.md",
        degrees=report(
            f"{CG}/degree_distribution.csv",
            caption="../report/classgraph.rst",
            category="4. Class graph",
        ),
    log:
        f"{CGLOG}/class_graph.log",
    conda:
        "../envs/graph.yaml"
    threads: 1
    resources:
        mem_mb=RES["graph"]["mem_mb"],
        runtime=RES["graph"]["runtime"],
    params:
        class_k=CGF["class_k"],
        seed=CGF["seed"],
        resolution=CGF["resolution"],
        hubs=CGF["hubs"],
        title=f"Class graph: {config['name']} ({CG_TAG})",
    script:
        "../workflow_scripts/class_graph.py"


rule plot_class_graph:
    input:
        nodes=f"{CG}/nodes.csv",
        edges=f"{CG}/edges.csv",
        degrees=f"{CG}/degree_distribution.csv",
    output:
        communities_png=report(
            f"{CG}/class_graph.png",
            caption="../report/classgraph_figure.rst",
            category="4. Class graph",
        ),
        communities_svg=f"{CG}/class_graph.svg",
        accuracy_png=report(
            f"{CG}/class_graph_accuracy.png",
            caption="../report/classgraph_figure.rst",
            category="4. Class graph",
        ),
        degrees_png=report(
            f"{CG}/degree_distribution.png",
            caption="../report/classgraph_figure.rst",
            category="4. Class graph",
        ),
    log:
        f"{CGLOG}/plot_class_graph.log",
    conda:
        "../envs/graph.yaml"
    params:
        title=f"{config['name']} ({CG_TAG})",
        hubs=CGF["hubs"],
    script:
        "../workflow_scripts/plot_class_graph.py"
