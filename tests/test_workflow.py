"""The real Snakemake workflow: dry runs, lint, formatting, a full run on the tiny config,
caching (what reruns when the config changes), interruption, bad configs."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import REPO, TINY, load_yaml, snakemake, write_yaml

pytestmark = pytest.mark.slow


def planned_jobs(workdir: Path, configfile: Path, *args: str) -> dict[str, int]:
    """Rule -> number of jobs a dry run would execute."""
    proc = snakemake(workdir, "-n", *args, configfile=configfile)
    out = proc.stdout + proc.stderr
    if "Nothing to be done" in out:
        return {}
    block = out.split("Job stats:")[1].split("\n\n")[0]
    jobs = {}
    for line in block.splitlines():
        m = re.match(r"^(\S+)\s+(\d+)$", line.strip())
        if m and m.group(1) != "total":
            jobs[m.group(1)] = int(m.group(2))
    return jobs


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def test_dry_run_of_every_shipped_config(tmp_path):
    for cfg in [REPO / "config.yaml", *sorted((REPO / "configs").glob("*.yaml"))]:
        jobs = planned_jobs(tmp_path, cfg)
        assert jobs.get("all") == 1, cfg
        if load_yaml(cfg).get("stability", {}).get("enabled", True):
            assert jobs["train"] == len(load_yaml(cfg)["train"]["runs"])


def test_default_config_dry_run_plans_the_thesis_stages(tmp_path):
    jobs = planned_jobs(tmp_path, REPO / "config.yaml")
    cfg = load_yaml(REPO / "config.yaml")
    first, last = cfg["stability"]["epochs"]
    n_graphs = len(cfg["train"]["runs"]) * (last - first + 1)
    assert jobs["train"] == 2 and jobs["latents"] >= n_graphs and jobs["knn"] >= n_graphs and jobs["stability"] == 1


def job_resources(workdir: Path, configfile: Path) -> tuple[dict[str, list[str]], str]:
    """Rule -> the `resources:` line of each job a dry run lists, and the whole output."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--cores", "2", "-n", "--configfile", str(configfile)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    res: dict[str, list[str]] = {}
    rule = None
    for line in out.splitlines():
        if m := re.match(r"^\s*(?:local)?rule (\w+):$", line):
            rule = m.group(1)
        elif rule and line.strip().startswith("resources:"):
            res.setdefault(rule, []).append(line.strip())
            rule = None
    return res, out


def test_dry_run_knn_jobs_ask_for_a_gpu_only_for_large_splits(tmp_path):
    """Thesis CIFAR-100 (10,000 test images, a GPU config): kNN jobs on CPUs, bundled; its
    training on the GPU. With resources.knn_gpu_min_samples at 10,000 they ask for a GPU."""
    knn_rules = ("knn", "prune_knn", "layer_compare")
    cfg_path = REPO / "configs" / "thesis_cifar100.yaml"
    res, out = job_resources(tmp_path, cfg_path)
    assert all("gpu=1" in line for line in res["train"])
    for rule in knn_rules:
        assert res[rule] and not any("gpu=" in line for line in res[rule]), rule
    assert "Group job knn" in out  # bundled like a CPU config's
    cfg = load_yaml(cfg_path)
    cfg["resources"]["knn_gpu_min_samples"] = 10_000
    res, out = job_resources(tmp_path, write_yaml(tmp_path / "gpu_knn.yaml", cfg))
    for rule in knn_rules:
        assert res[rule] and all("gpu=1" in line for line in res[rule]), rule
    assert "Group job knn" not in out  # one GPU per job, never a bundle of them


def test_slurm_profile_caps_every_bundled_rule():
    """Each rule with a group takes one bundle slot (profiles/slurm), or its bundles ask for all their jobs' CPUs."""
    text = "".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    grouped = {m.group(1) for block in re.split(r"\n(?=\s*rule )", text)
               if (m := re.match(r"\s*rule (\w+):", block)) and re.search(r"\n\s+group:", block)}
    assert grouped >= {"knn", "prune_knn", "noise_point"}
    profile = load_yaml(REPO / "profiles" / "slurm" / "config.yaml")
    capped = {entry.split(":")[0] for entry in profile["set-resources"] if entry.endswith(":bundle_slots=1")}
    assert grouped <= capped, f"rules bundled without a slot: {sorted(grouped - capped)}"
    assert "bundle_slots=local" in profile["set-resource-scopes"]


def test_dry_run_puts_only_the_gpu_jobs_on_the_gpu_partition(tmp_path):
    """resources.gpu_partition becomes slurm_partition of the jobs that ask for a GPU, and of
    no other job (a --default-resources slurm_partition=gpu sent every CPU job there)."""
    cfg = load_yaml(TINY)
    cfg["resources"].update(gpu=1, gpu_partition="gpu-part")
    res, out = job_resources(tmp_path, write_yaml(tmp_path / "gpu.yaml", cfg))
    assert "resources.gpu = 1" in out  # the start-up report of GPU configs
    gpu_rules = {rule for rule, lines in res.items() if all("gpu=1" in line for line in lines)}
    assert gpu_rules >= {"train", "latents", "prune_round0", "prune_round", "prune_latents", "layer_latents"}
    for rule, lines in res.items():
        for line in lines:
            assert ("slurm_partition=gpu-part" in line) == ("gpu=1" in line), (rule, line)
    assert "slurm_partition" not in str(res["training_summary"]) + str(res["noise_point"]) + str(res["head"])
    cfg["resources"].pop("gpu_partition")
    res, _ = job_resources(tmp_path, write_yaml(tmp_path / "gpu.yaml", cfg))
    assert all("gpu=1" in line for line in res["train"]) and "slurm_partition" not in str(res)


def test_default_profile_runs_gpu_jobs_one_at_a_time(tmp_path):
    """Snakemake counts `gpu` only against a --resources limit: profiles/default (read unless
    --workflow-profile names another) sets gpu=1, so local GPU jobs never share cuda:0 at once."""
    profile = load_yaml(REPO / "profiles" / "default" / "config.yaml")
    assert "gpu=1" in profile["resources"]
    assert not any(r.startswith("gpu=") for r in load_yaml(REPO / "profiles" / "slurm" / "config.yaml")["resources"])
    (tmp_path / "Snakefile").write_text(  # three jobs asking for a GPU, each writing its start and end time
        "rule all:\n    input: expand('{i}.txt', i=range(3))\n\n"
        "rule gpu_job:\n    output: '{i}.txt'\n    resources: gpu=1\n"
        "    shell: 'date +%s.%N > {output}.tmp; sleep 0.5; date +%s.%N >> {output}.tmp; mv {output}.tmp {output}'\n"
    )

    def intervals(*args: str) -> list[tuple[float, float]]:
        for f in tmp_path.glob("*.txt"):
            f.unlink()
        subprocess.run([sys.executable, "-m", "snakemake", "-s", str(tmp_path / "Snakefile"), "--directory",
                        str(tmp_path), "--cores", "3", "--quiet", "all", *args], check=True, capture_output=True)
        return sorted(tuple(map(float, (tmp_path / f"{i}.txt").read_text().split())) for i in range(3))

    def overlap(spans: list[tuple[float, float]]) -> bool:
        return any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))

    assert not overlap(intervals("--workflow-profile", str(REPO / "profiles" / "default")))
    assert overlap(intervals("--workflow-profile", "none"))  # without the limit: all three at once


def test_lint_and_snakefmt_are_clean():
    lint = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "Congratulations" in lint.stdout + lint.stderr
    fmt = subprocess.run([str(Path(sys.executable).parent / "snakefmt"), "--check", "Snakefile", "rules"], cwd=REPO,
                         capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_tiny_run_outputs(tiny_run):
    R = tiny_run / "results" / "tiny"
    df = pd.read_csv(R / "tables" / "stability.csv")
    # the thesis's columns first; the measures stage appends its own (tests/experiments/test_layers.py)
    assert list(df.columns[:7]) == ["comparison", "run", "epoch_a", "epoch_b", "k", "jaccard", "cns"]
    assert set(df["comparison"]) == {"epoch", "seed"} and set(df["k"]) == {2, 4}
    assert len(df) == (2 * 1 + 2) * 2  # (A 2->3, B 2->3, A vs B at 2 and 3) x 2 values of k
    assert df[["jaccard", "cns"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (R / "tables" / "stability.md").read_text().count("| k = 2 | k = 4 |") == 6
    for name in ("stability.png", "training.png"):
        assert (R / "figures" / name).stat().st_size > 10_000
    hist = pd.read_csv(R / "tables" / "training.csv")
    assert set(hist["run"]) == {"A", "B"} and hist["epoch"].max() == 3
    for run in "AB":
        assert sorted(p.name for p in (R / "train" / run).glob("epoch_*.pt")) == [f"epoch_00{e}.pt" for e in range(4)]
        assert (R / "logs" / "train" / f"{run}.log").stat().st_size > 0
    # intervals (measures.resamples, default 200) beside every measure; lo <= value <= hi
    for col in ("jaccard", "cns", "mutual_knn", "cka"):
        assert (df[f"{col}_lo"] <= df[col] + 1e-9).all() and (df[col] <= df[f"{col}_hi"] + 1e-9).all()
    # the layer x layer map: its diagonal is the same-layer table
    lmap, layers = pd.read_parquet(R / "tables" / "layer_map.parquet"), pd.read_csv(R / "tables" / "layers.csv")
    diag = lmap[(lmap["row"] == lmap["col"]) & (lmap["measure"] == "jaccard")].merge(
        layers, left_on=["row", "k"], right_on=["layer", "k"])
    assert len(diag) == len(layers) and np.allclose(diag["value"], diag["jaccard"], atol=1e-6)
    assert (R / "figures" / "layer_map.png").stat().st_size > 10_000
    assert not list(R.rglob("_work"))  # no training work folders left behind
    assert not list(R.rglob(".*.tmp*"))  # no temporary files left behind


def test_html_report_holds_every_figure_and_table(tiny_run, tmp_path):
    """`snakemake --report` renders every figure of the run, each with its caption's category."""
    report = tmp_path / "report.html"
    snakemake(tiny_run, "--report", str(report), configfile=tiny_run / "tiny.yaml")
    html = report.read_text()
    # the report's own index of results: "<path>": {"name": "<file>", "filename": ...
    results = set(re.findall(r'"name": "([^"]+)", "filename"', html))
    figures = sorted(p.name for p in (tiny_run / "results/tiny").rglob("*.png") if "benchmarks" not in p.parts)
    assert figures, "the tiny run made no figures"
    missing = [name for name in figures if name not in results]
    assert not missing, f"figures left out of the report: {missing}"
    tables = {p.name for p in (tiny_run / "results/tiny/tables").glob("*.csv")}
    assert not tables - results, f"tables left out of the report: {sorted(tables - results)}"
    for category in ("Training", "Stability", "Noise", "Class graph", "Pruning", "Beyond the thesis"):
        assert category in html, category


def test_second_run_does_nothing(tiny_run):
    assert planned_jobs(tiny_run, tiny_run / "tiny.yaml") == {}


def test_changing_k_reruns_only_graph_and_similarity_jobs(tiny_run, tmp_path):
    cfg = load_yaml(TINY)
    cfg["knn"]["k"] = [2, 3]  # new largest k: the kNN tables and the tables after them
    jobs = planned_jobs(tiny_run, write_yaml(tmp_path / "k.yaml", cfg))
    assert jobs.get("knn") == 4 and jobs.get("stability") == 1
    assert "train" not in jobs and "latents" not in jobs
    cfg["knn"]["k"] = [1, 4]  # same largest k: the kNN tables are reused
    jobs = planned_jobs(tiny_run, write_yaml(tmp_path / "k2.yaml", cfg))
    assert "knn" not in jobs and jobs.get("stability") == 1
    assert "train" not in jobs and "latents" not in jobs


def test_changing_training_settings_retrains(tiny_run, tmp_path):
    cfg = load_yaml(TINY)
    cfg["train"]["optimizer"]["lr"] = 0.02
    jobs = planned_jobs(tiny_run, write_yaml(tmp_path / "lr.yaml", cfg))
    assert jobs.get("train") == 2 and jobs.get("latents") == 4


@pytest.mark.parametrize("fault", ["cuda", "class_names"])
def test_train_job_fails_before_training(tmp_path, fault):
    """What only the job can check (a GPU, a class-name file) fails at its start, not after training."""
    import torch

    cfg = load_yaml(TINY)
    if fault == "cuda":
        if torch.cuda.is_available():
            pytest.skip("this machine has a GPU")
        cfg["train"]["device"] = "cuda"
        message = "device 'cuda' was requested but PyTorch sees no GPU"
    else:
        (tmp_path / "names.txt").write_text("a\nb\nc\n")
        cfg["data"]["class_names"] = str(tmp_path / "names.txt")
        message = "data.class_names: class-names file"
    target = "results/tiny/train/A/history.csv"
    proc = snakemake(tmp_path, target, configfile=write_yaml(tmp_path / "c.yaml", cfg), check=False)
    assert proc.returncode != 0
    log = (tmp_path / "results/tiny/logs/train/A.log").read_text()
    assert message in log or (fault == "class_names" and "has 3 class names, the data has 4 classes" in log), log
    assert "epoch 1" not in log.lower() and not list((tmp_path / "results/tiny/train").rglob("*.pt"))


def test_one_target_alone(tiny_run, tmp_path):
    work = copy_run(tiny_run, tmp_path / "w")
    target = "results/tiny/knn/A/epoch_002.parquet"
    jobs = planned_jobs(work, work / "tiny.yaml", target, "--forcerun", "knn")
    assert jobs == {"knn": 1}
    snakemake(work, target, "--forcerun", "knn", configfile=work / "tiny.yaml")
    # the rebuilt table is identical (deterministic), so at most its downstream tables redo
    jobs = planned_jobs(work, work / "tiny.yaml")
    assert set(jobs) <= {"stability", "plot_stability", "hubness", "stability_measures", "per_sample_stability", "all"}


def test_bad_config_stops_before_anything_runs(tmp_path):
    cfg = load_yaml(TINY)
    cfg["knn"]["metric"] = "cosine"
    proc = snakemake(tmp_path, configfile=write_yaml(tmp_path / "bad.yaml", cfg), check=False)
    assert proc.returncode != 0
    assert "knn.metric: 'cosine' is not allowed; allowed values: 'l1', 'l2'" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


def test_k_not_below_n_stops_before_any_job(tiny_run, tmp_path):
    work = copy_run(tiny_run, tmp_path / "w")
    shutil.rmtree(work / "results/tiny/knn")
    cfg = load_yaml(TINY)
    cfg["knn"]["k"] = [2, 60]  # the tiny test split has 60 samples: known when the config is read
    proc = snakemake(work, configfile=write_yaml(work / "big.yaml", cfg), check=False)
    assert proc.returncode != 0
    assert "knn.k: k=60 must be smaller than the number of samples: the test split of synthetic has N=60" in (
        proc.stdout + proc.stderr)
    assert not (work / "results/tiny/knn").exists()  # nothing ran


def test_result_files_are_readable_by_collaborators(tiny_run):
    """Under umask 022 every result is mode 0644 and every folder 0755, as an ordinary write gives."""
    results = tiny_run / "results" / "tiny"
    files = [p for p in results.rglob("*") if p.is_file()]
    assert len(files) > 100
    wrong = {str(p.relative_to(results)): oct(p.stat().st_mode & 0o777) for p in files
             if p.stat().st_mode & 0o777 != 0o644}
    assert not wrong, wrong
    folders = [p for p in results.rglob("*") if p.is_dir()]
    assert all(p.stat().st_mode & 0o777 == 0o755 for p in folders)


def test_reordered_config_is_a_no_op(tiny_run, tmp_path):
    """YAML mappings have no order: the same config written with sorted keys reruns nothing."""
    import yaml

    cfg = load_yaml(TINY)
    path = tmp_path / "sorted.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=True))
    assert planned_jobs(tiny_run, path) == {}
    cfg["train"]["optimizer"]["lr"] = 0.05  # the same number, spelled as the other type where allowed
    cfg["train"]["scheduler"]["gamma"] = 0.1
    cfg["noise"]["grid"] = [0.0, 0.5, 1.0]
    cfg["knn"]["k"] = [4, 2]  # a set of k: order is no result
    assert planned_jobs(tiny_run, write_yaml(tmp_path / "spelled.yaml", cfg)) == {}


#: A changed value for every execution-only key of the schema (test_every_execution_key_...).
EXECUTION_CHANGES = {
    "data.download": lambda c: c["data"].update(download=True),
    "train.device": lambda c: c["train"].update(device="auto"),  # tiny says cpu; auto is the CPU here
    "train.channels_last": lambda c: c["train"].update(channels_last=False),
    "train.num_workers": lambda c: c["train"].update(num_workers=1),
    "train.eval_batch_size": lambda c: c["train"].update(eval_batch_size=128),
    "train.deterministic": lambda c: c["train"].update(deterministic=True),
    "latents.batch_size": lambda c: c.setdefault("latents", {}).update(batch_size=7),
    "knn.backend": lambda c: c["knn"].update(backend="numpy"),
    "knn.shards": lambda c: c["knn"].update(shards=2),
    "classgraph.shards": lambda c: c["classgraph"].update(shards=3),
    "noise.path_batch_size": lambda c: c["noise"].update(path_batch_size=7),
    "classgraph.batch_size": lambda c: c["classgraph"].update(batch_size=7),
    "classgraph.backend": lambda c: c["classgraph"].update(backend="scipy"),
    "resources": lambda c: (c["resources"]["graph"].update(threads=2, mem_mb=3000),
                            c["resources"]["train"].update(runtime=50)),
}


#: the jobs a changed classgraph.shards may rerun (see below)
CLASSGRAPH_STAGE = {"class_distance_shard", "class_distances_gather", "class_graph", "plot_class_graph", "explore",
                    "all"}


def test_every_execution_key_changed_alone_reruns_nothing(tiny_run, tmp_path):
    from latentgraph.config import execution_keys

    assert set(EXECUTION_CHANGES) == set(execution_keys()), "give every execution-only key a test value"
    for key, change in EXECUTION_CHANGES.items():
        cfg = load_yaml(TINY)
        change(cfg)
        # a shard count swaps the rule that writes a table (its inputs and script change, the
        # table does not): Snakemake's input and code triggers see that, its params trigger does
        # not. The class-graph shards also get a new input, the kNN table, and Snakemake
        # regenerates missing temporary files whose input is newer than their consumer's output
        # whatever the triggers: then the class-graph stage (only) reruns, to the same matrix.
        triggers = ("--rerun-triggers", "params", "software-env") if key.endswith(".shards") else ()
        jobs = planned_jobs(tiny_run, write_yaml(tmp_path / f"{key}.yaml", cfg), *triggers)
        allowed = CLASSGRAPH_STAGE if key == "classgraph.shards" else set()
        assert set(jobs) <= allowed, f"{key} alone schedules {jobs}"


def test_sharded_jobs_rebuild_the_same_tables(tiny_run, tmp_path):
    """knn.shards and classgraph.shards: scatter/gather jobs whose tables equal the one-job run's."""
    from latentgraph.experiments.classgraph import read_class_distances
    from latentgraph.io import read_knn

    cfg = load_yaml(TINY)
    cfg["knn"]["shards"] = 3
    cfg["classgraph"]["shards"] = 4  # = the number of classes
    cfg["classgraph"]["sources_per_class"] = 5
    work = copy_run(tiny_run, tmp_path / "sharded")
    conf = write_yaml(work / "sharded.yaml", cfg)
    knn_t = "results/tiny/knn/A/epoch_003.parquet"
    cd_t = "results/tiny/classgraph/A/epoch_003/class_distances.parquet"
    jobs = planned_jobs(work, conf, knn_t, cd_t)
    assert jobs.get("knn_shard") == 3 and jobs.get("class_distance_shard") == 4, jobs
    assert "train" not in jobs and "latents" not in jobs
    snakemake(work, knn_t, cd_t, configfile=conf)
    a, b = read_knn(tiny_run / knn_t), read_knn(work / knn_t)
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.distances, b.distances)
    assert b.metadata["shards"] == 3
    assert not list((work / "results/tiny/knn/A").glob("*.npz")), "shard files are temporary"
    # sampled sources, sharded: equal to the same config run as one job
    one = copy_run(tiny_run, tmp_path / "one")
    cfg1 = load_yaml(TINY)
    cfg1["classgraph"]["sources_per_class"] = 5
    snakemake(one, cd_t, configfile=write_yaml(one / "one.yaml", cfg1))
    x, y = read_class_distances(one / cd_t), read_class_distances(work / cd_t)
    for key in ("mean", "pairs", "total", "se", "ci_low", "ci_high"):
        assert np.array_equal(getattr(x, key), getattr(y, key), equal_nan=True), key
    assert y.metadata["shards"] == 4


def test_bad_shard_counts_stop_before_any_job(tiny_run, tmp_path):
    for edit, message in [(lambda c: c["classgraph"].update(shards=5), "classgraph.shards: 5 must be at most the "
                                                                        "number of classes (4)"),
                          (lambda c: c["knn"].update(shards=61), "knn.shards: 61 must be at most the number of "
                                                                  "samples"),
                          (lambda c: c["knn"].update(shards=2, method="ivf"), "knn.shards: 2 shards need knn.method "
                                                                              "exact")]:
        cfg = load_yaml(TINY)
        edit(cfg)
        proc = snakemake(tiny_run, "-n", configfile=write_yaml(tmp_path / "bad.yaml", cfg), check=False)
        assert proc.returncode != 0 and message in proc.stdout + proc.stderr, proc.stderr[-2000:]


def test_result_keys_rerun_what_they_change(tiny_run, tmp_path):
    cfg = load_yaml(TINY)
    cfg["model"]["width"] = 8
    jobs = planned_jobs(tiny_run, write_yaml(tmp_path / "width.yaml", cfg))
    assert jobs.get("train") == 2 and jobs.get("latents") == 4 and jobs.get("prune_round0") == 1
    cfg = load_yaml(TINY)
    cfg["noise"]["seed"] = 1
    jobs = planned_jobs(tiny_run, write_yaml(tmp_path / "noise.yaml", cfg))
    assert jobs.get("noise_point") == 3 and jobs.get("noise_table") == 1
    assert not {"train", "latents", "knn", "prune_round", "stability"} & set(jobs)
    names = tmp_path / "names.txt"
    names.write_text("zero\none\ntwo\nthree\n")
    cfg = load_yaml(TINY)
    cfg["data"]["class_names"] = str(names)  # labels outputs only: no retraining
    jobs = planned_jobs(tiny_run, write_yaml(tmp_path / "names.yaml", cfg))
    assert "train" not in jobs and "prune_round" not in jobs and jobs.get("latents") == 4


def test_interrupted_run_reruns_cleanly_to_the_same_tables(tiny_run, tmp_path):
    work = tmp_path / "w"
    work.mkdir()
    shutil.copy(TINY, work / "tiny.yaml")
    target = "results/tiny/tables/stability.csv"  # the spine's stages (the others have their own tests)
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(work), target,
           "--cores", "2", "--configfile", str(work / "tiny.yaml")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = work / "results/tiny/train/A/_work/state.pt"
    deadline = time.time() + 120
    while not state.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)  # mid-training: epoch 1 of run A done
    proc.wait(timeout=60)
    assert not (work / "results/tiny/tables/stability.csv").exists()
    snakemake(work, target, configfile=work / "tiny.yaml")  # profiles/default sets rerun-incomplete
    a = pd.read_csv(work / "results/tiny/tables/stability.csv")
    b = pd.read_csv(tiny_run / "results/tiny/tables/stability.csv")
    pd.testing.assert_frame_equal(a, b)  # deterministic: same config and seeds, same table
    la = pd.read_parquet(work / "results/tiny/latents/B/epoch_003.parquet")
    lb = pd.read_parquet(tiny_run / "results/tiny/latents/B/epoch_003.parquet")
    np.testing.assert_array_equal(np.stack(la["latent"]), np.stack(lb["latent"]))


# per-sample tables of every stage: (file stem, stage table, its identifier columns, per-sample -> table column)
PER_SAMPLE_STAGES = [
    ("stability", "stability.csv", ["comparison", "run", "epoch_a", "epoch_b"], {"jaccard": "jaccard", "cns": "cns"}),
    ("noise", "noise.csv", ["p", "repeat"], {"jaccard": "jaccard", "cns": "cns"}),
    ("pruning", "pruning.csv", ["rate", "round"], {"jaccard": "jaccard_vs_round0", "cns": "cns_vs_round0"}),
    ("layers", "layers.csv", ["layer"], {"jaccard": "jaccard", "cns": "cns"}),
]


@pytest.mark.parametrize(("stage", "table", "keys", "cols"), PER_SAMPLE_STAGES, ids=[s[0] for s in PER_SAMPLE_STAGES])
def test_tiny_run_per_sample_means_equal_the_stage_tables(tiny_run, stage, table, keys, cols):
    from latentgraph.compare.per_sample import COLUMNS, read_per_sample

    R = tiny_run / "results" / "tiny"
    samples = read_per_sample(R / "per_sample" / f"{stage}.parquet")
    avg = pd.read_csv(R / "tables" / table)
    assert list(samples.columns) == [*keys, *COLUMNS]
    n = pd.read_parquet(R / "latents/A/epoch_003.parquet").shape[0]
    assert len(samples) == len(avg) * n  # every comparison and k of the table, every test sample
    assert (samples["prediction_a"] >= 0).all() and (samples["prediction_b"] >= 0).all()  # read from the latents
    means = samples.groupby([*keys, "k"])[list(cols)].mean().add_suffix("_samples").reset_index()
    merged = avg.merge(means, on=[*keys, "k"], how="left", validate="one_to_one")
    for col, table_col in cols.items():
        # the stage tables are CSV with 6 (or more) decimals: equal to their rounding
        np.testing.assert_allclose(merged[f"{col}_samples"], merged[table_col], rtol=0, atol=1e-6)
    summary = pd.read_csv(R / "tables" / f"per_sample_{stage}.csv")
    assert set(summary["section"]) == {"status", "class", "k_occurrence", "spearman"}
    assert (R / "tables" / f"per_sample_{stage}.md").read_text().count("| correctness |") >= 1
    assert (R / "figures" / f"per_sample_{stage}.png").stat().st_size > 10_000


def test_approximate_knn_in_the_workflow(tiny_run, tmp_path):
    """knn.method hnsw: the tables record method and recall, the stability table names the method."""
    from latentgraph.io import read_knn

    cfg = load_yaml(TINY)
    cfg["knn"]["method"] = "hnsw"
    cfg["knn"]["min_recall"] = 0.5
    work = copy_run(tiny_run, tmp_path / "hnsw")
    conf = write_yaml(work / "hnsw.yaml", cfg)
    jobs = planned_jobs(work, conf, "results/tiny/tables/stability.csv")
    assert jobs.get("knn") == 4 and "train" not in jobs and "latents" not in jobs, jobs
    snakemake(work, "results/tiny/tables/stability.csv", configfile=conf)
    table = read_knn(work / "results/tiny/knn/A/epoch_003.parquet")
    assert table.metadata["method"] == "hnsw" and 0.5 <= table.metadata["recall_at_k"] <= 1
    df = pd.read_csv(work / "results/tiny/tables/stability.csv")
    assert df["knn_method"].str.startswith("hnsw (recall@4 = ").all()
