# The thesis's published values beside ours (thesis configs; `report.thesis_reference`).
# `snakemake --report report.html` collects every figure and table marked with report().

# whichever of the enabled stages' result files the comparison can use
THESIS_COMPARISON_INPUTS = {}
if config["stability"]["enabled"]:
    THESIS_COMPARISON_INPUTS["stability"] = f"{RESULTS}/tables/stability.csv"
if config["noise"]["enabled"]:
    THESIS_COMPARISON_INPUTS["noise_summary"] = f"{RESULTS}/tables/noise_summary.csv"
    THESIS_COMPARISON_INPUTS["latent_graph_stats"] = (
        f"{RESULTS}/tables/latent_graph_stats.json"
    )
if config["classgraph"]["enabled"]:
    THESIS_COMPARISON_INPUTS["classgraph_stats"] = f"{CLASSGRAPH_DIR}/stats.json"
if config["pruning"]["enabled"]:
    THESIS_COMPARISON_INPUTS["pruning"] = f"{RESULTS}/tables/pruning.csv"
# final targets (rule all)
THESIS_COMPARISON_TARGETS = (
    [
        f"{RESULTS}/tables/thesis_comparison.csv",
        f"{RESULTS}/tables/thesis_comparison.md",
    ]
    if config["report"]["thesis_reference"]
    else []
)


rule thesis_comparison:
    input:
        **THESIS_COMPARISON_INPUTS,
        reference=f"{workflow.basedir}/report/thesis_tables.yaml",
    output:
        table=report(
            f"{RESULTS}/tables/thesis_comparison.csv",
            caption="../report/thesis.rst",
            category="7. Thesis comparison",
        ),
        markdown=f"{RESULTS}/tables/thesis_comparison.md",
    log:
        f"{RESULTS}/logs/thesis_comparison.log",
    conda:
        "../envs/graph.yaml"
    params:
        dataset=config["data"]["dataset"],
        title=f"The thesis's published values beside ours: {config['name']}",
    script:
        "../workflow_scripts/thesis_comparison.py"
