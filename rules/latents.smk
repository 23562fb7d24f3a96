# Stage 2: latents of the test split for every (run, epoch) in the window, as Parquet.


rule latents:
    input:
        checkpoint=f"{RESULTS}/train/{{run}}/epoch_{{epoch}}.pt",
    output:
        f"{RESULTS}/latents/{{run}}/epoch_{{epoch}}.parquet",
    log:
        f"{RESULTS}/logs/latents/{{run}}/epoch_{{epoch}}.log",
    conda:
        TORCH_ENV
    threads: RESOURCES["latents"]["threads"]
    resources:
        **gpu_resources(),
        mem_mb=RESOURCES["latents"]["mem_mb"],
        runtime=RESOURCES["latents"]["runtime"],
    params:
        data=RESULT["data"],
        layer=config["latents"]["layer"],
        split=config["latents"]["split"],
        run=lambda wc: wc.run,
    script:
        "../workflow_scripts/latents.py"
