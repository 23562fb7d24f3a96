"""The comparison with the thesis's published numbers maps thesis epochs to our checkpoints."""

from __future__ import annotations

import pandas as pd
import yaml

from latentgraph.experiments.thesis import compare_to_thesis


def test_thesis_comparison_maps_thesis_epochs_to_checkpoints(tmp_path):
    """The thesis's epoch t is our checkpoint t + checkpoint_offset: rows are looked up there."""
    ref = {"stability": {"checkpoint_offset": 1, "epoch": {"jaccard": {"range": [0.89, 0.93]}, "cns": {"rows": [
        {"epoch_a": 10, "epoch_b": 11, "k4": 0.96, "k8": 0.96, "k16": 0.97}]}},
        "seed": {"jaccard": {"rows": [{"epoch_a": 10, "epoch_b": 10, "k4": 0.15, "k8": 0.18, "k16": 0.21}]},
                 "cns": {"rows": [{"epoch_a": 10, "epoch_b": 10, "k4": 0.53, "k8": 0.57, "k16": 0.64}]}}}}
    (tmp_path / "ref.yaml").write_text(yaml.safe_dump(ref))
    rows = []
    for k in (4, 8, 16):
        rows += [{"comparison": "epoch", "run": "A", "epoch_a": 10, "epoch_b": 11, "k": k, "jaccard": 0.1, "cns": 0.1},
                 {"comparison": "epoch", "run": "A", "epoch_a": 11, "epoch_b": 12, "k": k, "jaccard": 0.9, "cns": 0.95},
                 {"comparison": "seed", "run": "A vs B", "epoch_a": 11, "epoch_b": 11, "k": k, "jaccard": 0.2,
                  "cns": 0.6}]
    pd.DataFrame(rows).to_csv(tmp_path / "stability.csv", index=False)
    df = compare_to_thesis(tmp_path / "ref.yaml", stability=tmp_path / "stability.csv")
    cns = df[(df["quantity"] == "cns, epoch comparison") & (df["k"] == 4)].iloc[0]
    assert cns["setting"] == "thesis epochs 10, 11 = checkpoints 11, 12" and cns["ours"] == "0.950"
    seed = df[(df["quantity"] == "jaccard, seed comparison") & (df["k"] == 16)].iloc[0]
    assert seed["setting"] == "thesis epoch 10 = checkpoint 11" and seed["ours"] == "0.200"
    window = df[df["setting"] == "window mean"]
    assert set(window["k"]) == {4, 8, 16} and (window["thesis"] == "0.89-0.93").all()
