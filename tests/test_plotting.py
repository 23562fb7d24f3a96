"""Figures: each plotting function writes a PNG with the panels its docstring promises."""

from __future__ import annotations

import pandas as pd
import pytest

import latentgraph.plotting as plotting


@pytest.fixture
def captured(monkeypatch):
    """The figures the plotting functions save (they are closed after saving)."""
    figures = []
    save = plotting.save_figure

    def keep(fig, path, dpi=150):
        figures.append(fig)
        return save(fig, path, dpi=dpi)

    monkeypatch.setattr(plotting, "save_figure", keep)
    return figures


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000


def stability_frame():
    rows = []
    for comparison, runs in (("epoch", ["A", "B"]), ("seed", ["A vs B"])):
        for run in runs:
            for e in (2, 3):
                for k in (4, 16):
                    rows.append({"comparison": comparison, "run": run, "epoch_a": e, "epoch_b": e + (comparison == "epoch"),
                                 "k": k, "jaccard": 0.5, "cns": 0.9, "jaccard_null": 0.01, "cns_null": 0.1,
                                 "mutual_knn": 0.6, "mutual_knn_null": 0.02, "cka": 0.7, "cka_null": 0.0})
    return pd.DataFrame(rows)


def test_training_figure_has_a_panel_per_run(tmp_path, captured):
    h = pd.DataFrame({"epoch": [1, 2, 3], "train_accuracy": [0.5, 0.7, 0.8], "test_accuracy": [0.4, 0.6, 0.7]})
    path = plotting.plot_training({"A": h, "B": h}, tmp_path / "t.png", window=(2, 3))
    assert is_png(path)
    assert [ax.get_title() for ax in visible_axes(captured[0])] == ["run A", "run B"]


def test_stability_figure_has_jaccard_and_cns_by_comparison(tmp_path, captured):
    path = plotting.plot_stability(stability_frame(), tmp_path / "s.png")
    assert is_png(path)
    axes = visible_axes(captured[0])
    assert len(axes) == 4
    assert [ax.get_ylabel() for ax in axes] == ["graph average Jaccard", "", "class neighbourhood sim.", ""]
    assert axes[0].get_title().startswith("epoch to epoch") and axes[1].get_title().startswith("seed to seed")
    # a line per (run, k) and a dotted chance line for each: epoch panel 2 runs x 2 k x 2
    assert len(axes[0].get_lines()) == 8


def test_stability_measures_figure_has_a_row_per_measure(tmp_path, captured):
    plotting.plot_stability_measures(stability_frame(), tmp_path / "m.png")
    assert len(visible_axes(captured[0])) == 2 * 2  # mutual_knn and cka rows, epoch and seed columns


def test_noise_figures(tmp_path, captured):
    ps = [0.0, 0.01, 0.02, 0.5, 1.0]
    summary = pd.DataFrame([{"p": p, "k": k, "jaccard": 1 - p / 2, "jaccard_std": 0.01, "cns": 1 - p / 5,
                             "cns_std": 0.01, "accuracy": 0.9 - p / 10, "accuracy_std": 0.0}
                            for p in ps for k in (4, 16)])
    chance = pd.DataFrame({"k": [4, 16], "jaccard": [0.003, 0.012], "cns": [0.12, 0.14]})
    assert is_png(plotting.plot_noise_similarity(summary, chance, "jaccard", tmp_path / "j.png", zoom_max=0.02))
    assert len(visible_axes(captured[-1])) == 2  # full range and the zoom (Fig 5.2a/b)
    plotting.plot_noise_similarity(summary, chance, "cns", tmp_path / "c.png")
    assert len(visible_axes(captured[-1])) == 1
    assert is_png(plotting.plot_noise_accuracy(summary, tmp_path / "a.png", clean_accuracy=0.9, chance_accuracy=0.1))


def test_pruning_figure_has_a_panel_per_rate(tmp_path, captured):
    rows = [{"rate": r, "round": i, "k": k, "pruned_fraction": 1 - (1 - r) ** i, "accuracy": 0.9,
             "jaccard_vs_round0": 1.0 if i == 0 else 0.4, "cns_vs_round0": 1.0 if i == 0 else 0.9}
            for r in (0.2, 0.01) for i in range(3) for k in (4, 16)]
    plotting.plot_pruning(pd.DataFrame(rows), tmp_path / "p.png", measure="jaccard")
    axes = visible_axes(captured[0])
    assert len(axes) == 2 and all(len(ax.get_lines()) >= 2 for ax in axes)


def test_layers_figure_hides_unused_panels(tmp_path, captured):
    rows = [{"layer": name, "depth": d, "k": k, "jaccard": 0.5 - d / 10, "cns": 0.9, "cka": 0.8, "jaccard_null": 0.01}
            for d, name in enumerate(["layer1", "layer4", "avgpool"]) for k in (4, 16)]
    plotting.plot_layers(pd.DataFrame(rows), tmp_path / "l.png")
    axes = visible_axes(captured[0])
    assert [ax.get_title() for ax in axes] == ["graph average Jaccard", "CNS(A, B)", "linear CKA (debiased)"]
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["layer1", "layer4", "avgpool"]


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_figures_are_deterministic(tmp_path, suffix):
    """No timestamps and no random SVG ids in the files: the same data gives the same bytes."""
    df = stability_frame()
    a = plotting.plot_stability(df, tmp_path / f"a{suffix}").read_bytes()
    b = plotting.plot_stability(df, tmp_path / f"b{suffix}").read_bytes()
    assert a == b
