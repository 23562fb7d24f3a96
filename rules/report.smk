# The thesis's published values beside ours (thesis configs; `report.thesis_reference`).
# `snakemake --report report.html` collects every figure and table marked with report().


rule thesis_comparison:
    input:
        unpack(thesis_comparison_inputs),
        reference=f"{workflow.basedir}/report/thesis_tables.yaml",
    output:
        table=report(
            f"{R}/tables/thesis_comparison.csv",
            caption="../report/thesis.rst",
            category="7. Thesis comparison",
        ),
        markdown=f"{R}/tables/thesis_comparison.md",
    log:
        f"{R}/logs/thesis_comparison.log",
    conda:
        "../envs/graph.yaml"
    params:
        dataset=config["data"]["dataset"],
        title=f"The thesis's published values beside ours: {config['name']}",
    script:
        "../workflow_scripts/thesis_comparison.py"
