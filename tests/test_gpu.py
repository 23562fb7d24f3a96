"""latentgraph.gpu: the start-up report of GPU configs, with its probes (torch's files,
nvidia-smi) replaced by stand-ins, and the limit on local GPU jobs at once."""

from __future__ import annotations

import importlib.machinery
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

from latentgraph import gpu
from latentgraph.gpu import GpuProbe, TorchBuild, gpu_limit_problem, startup_report, torch_build, visible_gpus

H100 = GpuProbe(names=("NVIDIA H100 80GB HBM3",), driver="570.86.15")
NO_GPU = GpuProbe(problem="nvidia-smi not found")


def cuda_torch(cuda: str | None, version: str = "2.9.1") -> TorchBuild:
    return TorchBuild(version=version, cuda=cuda, hip=None, path="/site-packages/torch")


@pytest.fixture
def probes(monkeypatch):
    """Set what the probes return: probes(torch=..., gpus=...)."""
    monkeypatch.delenv("CONDA_OVERRIDE_CUDA", raising=False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)

    def set_probes(torch: TorchBuild | None = None, gpus: GpuProbe = NO_GPU) -> None:
        monkeypatch.setattr(gpu, "torch_build", lambda: torch)
        monkeypatch.setattr(gpu, "visible_gpus", lambda: gpus)

    return set_probes


# ---- torch_build: version and CUDA from torch's files, without importing torch


def fake_torch(tmp_path: Path, monkeypatch, version_py: str | None) -> Path:
    folder = tmp_path / "torch"
    folder.mkdir()
    (folder / "__init__.py").write_text("raise ImportError('torch_build must not import torch')\n")
    if version_py is not None:
        (folder / "version.py").write_text(version_py)
    spec = importlib.machinery.ModuleSpec("torch", None, is_package=True)
    spec.submodule_search_locations = [str(folder)]
    monkeypatch.setattr(gpu.importlib.util, "find_spec", lambda name: spec if name == "torch" else None)
    return folder


def test_torch_build_reads_a_cuda_wheels_version_file(tmp_path, monkeypatch):
    folder = fake_torch(tmp_path, monkeypatch, (
        "from typing import Optional\n\n__all__ = ['__version__', 'cuda']\n__version__ = '2.14.1+cu130'\n"
        "debug = False\ncuda: Optional[str] = '13.0'\ngit_version = 'abc'\nhip: Optional[str] = None\n"
    ))
    build = torch_build()
    assert build == TorchBuild(version="2.14.1+cu130", cuda="13.0", hip=None, path=str(folder))
    assert build.cuda_major == 13


def test_torch_build_of_a_cpu_build_and_of_a_missing_version_file(tmp_path, monkeypatch):
    fake_torch(tmp_path, monkeypatch, "__version__ = '2.5.1'\ncuda = None\nhip = None\n")
    assert torch_build().cuda is None and torch_build().version == "2.5.1" and torch_build().cuda_major is None
    (tmp_path / "torch" / "version.py").unlink()
    monkeypatch.setattr(gpu.importlib.metadata, "version", lambda name: "2.4.0")
    assert torch_build() == TorchBuild(version="2.4.0", cuda=None, hip=None, path=str(tmp_path / "torch"))


def test_torch_build_without_torch(monkeypatch):
    monkeypatch.setattr(gpu.importlib.util, "find_spec", lambda name: None)
    assert torch_build() is None


def test_torch_build_of_the_installed_torch_does_not_import_it():
    code = (
        "import sys; from latentgraph.gpu import torch_build; b = torch_build(); "
        "assert 'torch' not in sys.modules, 'torch was imported'; print(b.version, b.cuda)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    import torch

    assert out.split() == [torch.__version__, str(torch.version.cuda)]


# ---- visible_gpus: nvidia-smi's answer


def stub_smi(tmp_path: Path, monkeypatch, script: str) -> None:
    exe = tmp_path / "nvidia-smi"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(0o755)
    monkeypatch.setattr(gpu.shutil, "which", lambda name: str(exe) if name == "nvidia-smi" else None)


def test_visible_gpus_lists_names_and_driver(tmp_path, monkeypatch):
    stub_smi(tmp_path, monkeypatch, 'echo "NVIDIA H200, 9.0, 580.65.06"\necho "NVIDIA H200, 9.0, 580.65.06"\n')
    probe = visible_gpus()
    assert probe == GpuProbe(names=("NVIDIA H200", "NVIDIA H200"), driver="580.65.06", compute_caps=("9.0", "9.0"))
    assert probe.driver_branch == 580
    # the kNN messages read the same probe
    from latentgraph.graphs.knn import gpu_names

    assert gpu_names() == ["NVIDIA H200 (compute capability 9.0)"] * 2


def test_visible_gpus_without_nvidia_smi_or_when_it_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu.shutil, "which", lambda name: None)
    assert visible_gpus() == GpuProbe(problem="nvidia-smi not found")
    stub_smi(tmp_path, monkeypatch, 'echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver."\nexit 9\n')
    probe = visible_gpus()
    assert probe.names == () and "could not communicate" in probe.problem
    stub_smi(tmp_path, monkeypatch, "sleep 5\n")
    assert "timed out" in visible_gpus(timeout=0.5).problem


# ---- startup_report


def test_report_of_a_working_pip_setup(probes):
    probes(torch=cuda_torch("12.6", "2.9.1+cu126"), gpus=H100)
    report = startup_report(1, use_conda=False)
    text = report.text()
    assert not report.problems, text
    assert "resources.gpu = 1" in text and "torch 2.9.1+cu126: a CUDA 12.6 build" in text
    assert "1 GPU (NVIDIA H100 80GB HBM3), NVIDIA driver 570.86.15" in text
    assert report.gpus == H100


def test_report_warns_of_a_cpu_build(probes):
    probes(torch=cuda_torch(None, "2.9.1+cpu"), gpus=H100)
    report = startup_report(1, use_conda=False)
    assert len(report.problems) == 1
    assert "CPU build" in report.problems[0] and gpu.CUDA12_INDEX in report.problems[0]
    assert report.text().splitlines()[-1].startswith("WARNING: torch 2.9.1+cpu")


def test_report_warns_when_there_is_no_torch(probes):
    probes(torch=None, gpus=NO_GPU)
    report = startup_report(1, use_conda=False)
    assert len(report.problems) == 1 and "no torch in this Python" in report.problems[0]
    assert "--use-conda" in report.problems[0] and gpu.CUDA12_INDEX in report.problems[0]


def test_report_warns_when_the_driver_is_too_old_for_cuda_13(probes):
    """PyPI's default wheels are CUDA 13 builds: R580+. Older drivers need PyTorch's CUDA 12 index."""
    probes(torch=cuda_torch("13.0", "2.14.1+cu130"), gpus=H100)
    (problem,) = startup_report(1, use_conda=False).problems
    assert "R580+" in problem and "570.86.15" in problem and f"--index-url {gpu.CUDA12_INDEX}" in problem
    probes(torch=cuda_torch("13.0", "2.14.1+cu130"), gpus=GpuProbe(names=("NVIDIA H200",), driver="580.65.06"))
    assert not startup_report(1, use_conda=False).problems


def test_report_asks_for_a_newer_driver_below_cuda_12s_minimum(probes):
    probes(torch=cuda_torch("12.6"), gpus=GpuProbe(names=("Tesla V100",), driver="470.256.02"))
    (problem,) = startup_report(1, use_conda=False).problems
    assert "R525+" in problem and "driver R525 or newer" in problem and "index-url" not in problem


def test_report_of_a_login_node_is_no_warning(probes):
    probes(torch=cuda_torch("12.6"), gpus=NO_GPU)
    report = startup_report(1, use_conda=False)
    assert not report.problems
    assert "No GPU visible on this machine (nvidia-smi not found)" in report.text()
    assert "run elsewhere" in report.text()


def test_report_with_conda_leaves_this_pythons_torch_alone(probes, monkeypatch):
    def no_probe():
        raise AssertionError("the jobs bring their own torch: this Python's is not probed")

    probes(gpus=NO_GPU)
    monkeypatch.setattr(gpu, "torch_build", no_probe)
    report = startup_report(1, use_conda=True, env_file="envs/torch-gpu.yaml")
    text = report.text()
    assert not report.problems
    assert "conda env envs/torch-gpu.yaml" in text
    assert f"CONDA_OVERRIDE_CUDA={gpu.CONDA_CUDA} snakemake ... --use-conda --conda-create-envs-only" in text
    monkeypatch.setenv("CONDA_OVERRIDE_CUDA", "12.9")  # set: conda will offer the CUDA build
    assert "CONDA_OVERRIDE_CUDA" not in startup_report(1, use_conda=True).text()


def test_report_with_conda_checks_the_driver_against_cuda_12(probes):
    probes(gpus=GpuProbe(names=("Tesla T4",), driver="470.82.01"))
    (problem,) = startup_report(1, use_conda=True, env_file="envs/torch-gpu.yaml").problems
    assert "envs/torch-gpu.yaml (CUDA 12) needs NVIDIA driver R525+" in problem
    probes(gpus=H100)
    assert not startup_report(1, use_conda=True).problems


def test_report_names_cuda_visible_devices(probes, monkeypatch):
    probes(torch=cuda_torch("12.6"), gpus=H100)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert "CUDA_VISIBLE_DEVICES='1'" in startup_report(1, use_conda=False).text()


# ---- gpu_limit_problem: local runs


def test_gpu_limit_of_local_runs():
    assert gpu_limit_problem(1, 1) is None and gpu_limit_problem(1, 4) is None
    assert "no limit on GPU jobs" in gpu_limit_problem(None, 1)
    assert "--resources gpu=3" in gpu_limit_problem(3, 4) and "cuda:0" in gpu_limit_problem(3, 4)
    assert gpu_limit_problem(None, 0) is None  # no GPU here: the jobs run on the CPU anyway
