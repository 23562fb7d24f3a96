"""The GPU set-up as the workflow's own process sees it, said before any job starts.

Snakemake builds the DAG (and the conda envs) in one process, often on another node than
the jobs run on. A CPU build of torch, or a CUDA build too new for the node's NVIDIA driver,
otherwise shows only when the first GPU job fails or quietly trains on the CPU.
:func:`startup_report` says, for GPU configs (``resources.gpu >= 1``), which torch build
this Python has and which GPUs this machine shows, without importing torch (seconds, and a
CUDA context in the Snakemake process): torch's version and CUDA come from its installed
``torch/version.py`` (:func:`torch_build`), the GPUs and the driver from ``nvidia-smi``
(:func:`visible_gpus`). :func:`gpu_limit_problem` checks the limit on GPU jobs at once of a
local run. Standard library only.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: Oldest NVIDIA Linux driver branch that runs any release of a CUDA major version (CUDA's
#: minor-version compatibility): CUDA 12.x needs R525+, CUDA 13.x R580+.
MIN_DRIVER = {11: 450, 12: 525, 13: 580}

#: PyTorch's own wheel index of CUDA 12 builds, for nodes whose driver predates R580 (PyPI's
#: default torch wheels are CUDA 13 builds).
CUDA12_INDEX = "https://download.pytorch.org/whl/cu126"

#: What ``CONDA_OVERRIDE_CUDA`` to suggest when conda sees no driver (envs/torch-gpu.yaml
#: pins CUDA 12; conda-forge's newest CUDA 12 builds are 12.9).
CONDA_CUDA = "12.9"


@dataclass(frozen=True)
class TorchBuild:
    """The torch a Python would import, read from its files.

    Parameters
    ----------
    version : str
        ``torch.__version__``, with its local tag where the wheel has one (``2.9.1+cu126``).
    cuda : str or None
        CUDA version of the build (``torch.version.cuda``); None for CPU and ROCm builds.
    hip : str or None
        ROCm/HIP version of ROCm builds (``torch.version.hip``).
    path : str
        The folder of the ``torch`` package.
    """

    version: str
    cuda: str | None
    hip: str | None
    path: str

    @property
    def cuda_major(self) -> int | None:
        """Major CUDA version of the build (12 for ``12.6``), or None."""
        try:
            return int(str(self.cuda).split(".")[0]) if self.cuda else None
        except ValueError:
            return None


@dataclass(frozen=True)
class GpuProbe:
    """What ``nvidia-smi`` says about this machine.

    Parameters
    ----------
    names : tuple of str
        One name per GPU the driver shows (all of them; ``CUDA_VISIBLE_DEVICES`` is not applied).
    driver : str or None
        The NVIDIA driver version (``570.86.15``), None when unknown.
    problem : str or None
        Why no GPU could be listed (``nvidia-smi`` missing, failing, timing out), else None.
    compute_caps : tuple of str
        Each GPU's compute capability (``"9.0"``), in the order of ``names``; ``""`` where unknown.
    """

    names: tuple[str, ...] = ()
    driver: str | None = None
    problem: str | None = None
    compute_caps: tuple[str, ...] = ()

    def labels(self) -> list[str]:
        """One label per GPU for messages, e.g. ``"NVIDIA H200 (compute capability 9.0)"``.

        Returns
        -------
        list of str
            The names, each with its compute capability where known; empty without GPUs.
        """
        caps = self.compute_caps or ("",) * len(self.names)
        return [f"{n} (compute capability {c})" if c else n for n, c in zip(self.names, caps, strict=True)]

    @property
    def driver_branch(self) -> int | None:
        """The driver's major version (570 for ``570.86.15``), or None."""
        try:
            return int(self.driver.split(".")[0]) if self.driver else None
        except ValueError:
            return None


@dataclass
class GpuReport:
    """The start-up report: facts (``lines``) and what will go wrong (``problems``).

    Parameters
    ----------
    lines : list of str
        What was found.
    problems : list of str
        What will make GPU jobs fail or run on the CPU, each with its fix.
    gpus : GpuProbe
        The probe the report is based on.
    """

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    gpus: GpuProbe = field(default_factory=GpuProbe)

    def text(self) -> str:
        """The report as one block of text, problems last, each marked ``WARNING:``.

        Returns
        -------
        str
            The lines and then the problems, one per line.
        """
        return "\n".join([*self.lines, *(f"WARNING: {p}" for p in self.problems)])


def _module_constants(path: Path) -> dict[str, object]:
    """Top-level ``NAME = literal`` (and ``NAME: type = literal``) assignments of a Python file."""
    values: dict[str, object] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value = node.target.id, node.value
        else:
            continue
        try:
            values[name] = ast.literal_eval(value)
        except ValueError:
            continue
    return values


def torch_build() -> TorchBuild | None:
    """The torch this Python would import, without importing it; None when there is none.

    Reads ``torch/version.py`` (written by torch's build: ``__version__``, ``cuda``, ``hip``),
    falling back to the distribution's metadata for the version.

    Returns
    -------
    TorchBuild or None
    """
    spec = importlib.util.find_spec("torch")  # finds the package, runs none of it
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    constants: dict[str, object] = {}
    version_file = folder / "version.py"
    if version_file.is_file():
        try:
            constants = _module_constants(version_file)
        except (OSError, SyntaxError, UnicodeDecodeError):
            constants = {}
    version = constants.get("__version__")
    if not isinstance(version, str):
        try:
            version = importlib.metadata.version("torch")
        except importlib.metadata.PackageNotFoundError:
            version = "(unknown version)"
    cuda, hip = constants.get("cuda"), constants.get("hip")
    return TorchBuild(
        version=version,
        cuda=cuda if isinstance(cuda, str) and cuda else None,
        hip=hip if isinstance(hip, str) and hip else None,
        path=str(folder),
    )


def visible_gpus(timeout: float = 20.0) -> GpuProbe:
    """The NVIDIA GPUs, their compute capabilities and the driver, from one ``nvidia-smi`` call.

    The one probe of the package: the GPU start-up report and the kNN messages
    (:func:`latentgraph.graphs.knn.gpu_names`) both read it.

    Parameters
    ----------
    timeout : float
        Seconds to wait for ``nvidia-smi`` (it can hang on a node with a broken driver).

    Returns
    -------
    GpuProbe
        No names and a ``problem`` when ``nvidia-smi`` is missing, fails or lists no GPU.
    """
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return GpuProbe(problem="nvidia-smi not found")
    cmd = [exe, "--query-gpu=name,compute_cap,driver_version", "--format=csv,noheader"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as err:
        return GpuProbe(problem=f"nvidia-smi failed: {err}")
    if proc.returncode != 0:
        said = (proc.stdout + proc.stderr).strip().splitlines()
        return GpuProbe(problem=f"nvidia-smi failed: {said[-1] if said else f'exit status {proc.returncode}'}")
    rows = [[s.strip() for s in line.rsplit(",", 2)] for line in proc.stdout.splitlines() if line.strip()]
    if not rows:
        return GpuProbe(problem="nvidia-smi lists no GPU")
    rows = [row + [""] * (3 - len(row)) for row in rows]
    return GpuProbe(names=tuple(r[0] for r in rows), driver=rows[0][2] or None,
                    compute_caps=tuple(r[1] for r in rows))


def _install_hint() -> str:
    return (
        f"for drivers older than R580 first `pip install torch torchvision --index-url {CUDA12_INDEX}` "
        "(CUDA 12 wheels, driver R525+), as PyPI's default torch wheels are CUDA 13 builds (driver R580+)"
    )


def startup_report(gpus: int, *, use_conda: bool, env_file: str = "envs/torch-gpu.yaml") -> GpuReport:
    """What the Snakemake process sees of torch and the GPUs, for a config asking for GPUs.

    Parameters
    ----------
    gpus : int
        GPUs per job the config asks for (``resources.gpu``, at least 1).
    use_conda : bool
        Whether the jobs run in conda envs (``--use-conda``): then this Python's torch is
        not theirs, and only the driver matters here.
    env_file : str
        The conda env of the torch jobs, named in the messages.

    Returns
    -------
    GpuReport
        ``lines`` always say which torch build was found (or that the jobs bring their own)
        and which GPUs this machine shows; ``problems`` name what will keep the jobs off the
        GPU and how to fix it. Where the jobs run elsewhere (a cluster submitted from a
        login node), what this machine shows says nothing about their nodes, and the
        messages say so.
    """
    probe = visible_gpus()
    report = GpuReport(gpus=probe)
    report.lines.append(
        f"GPU config (resources.gpu = {gpus}): the set-up this Snakemake process sees "
        f"(Python {sys.executable}; torch is not imported here)."
    )

    torch = _report_torch(report, use_conda=use_conda, env_file=env_file)
    _report_gpus(report, torch, use_conda=use_conda, env_file=env_file)
    return report


def _report_torch(report: GpuReport, *, use_conda: bool, env_file: str) -> TorchBuild | None:
    """Add what the report says of the torch build the jobs will use; return this Python's build."""
    probe = report.gpus
    torch = None
    if use_conda:
        report.lines.append(
            f"torch: the torch jobs run in the conda env {env_file} (conda-forge's CUDA 12 build), "
            "not with this Python's torch."
        )
        if not probe.names and not os.environ.get("CONDA_OVERRIDE_CUDA"):
            report.lines.append(
                f"No NVIDIA driver visible here, and conda offers CUDA builds only where it detects one: if "
                f"{env_file} is not built yet, build it first with this command line prefixed and extended, "
                f"`CONDA_OVERRIDE_CUDA={CONDA_CUDA} snakemake ... --use-conda --conda-create-envs-only`."
            )
    else:
        torch = torch_build()
        if torch is None:
            report.problems.append(
                f"no torch in this Python ({sys.executable}), which runs the torch jobs (no --use-conda): "
                f"they will fail. Install it (pip install -e '.[workflow,gpu]'; {_install_hint()}), "
                "or run with --use-conda."
            )
        elif torch.cuda is None and torch.hip is None:
            report.problems.append(
                f"torch {torch.version} in this Python ({torch.path}) is a CPU build: the torch jobs cannot "
                "use a GPU (train.device: cuda fails, auto trains on the CPU). Install a CUDA build: "
                "pip uninstall -y torch torchvision, then "
                f"`pip install torch torchvision --index-url {CUDA12_INDEX}` (CUDA 12, driver R525+) "
                "or `pip install torch torchvision` (PyPI: CUDA 13, driver R580+)."
            )
        elif torch.cuda is None:
            report.lines.append(f"torch {torch.version}: a ROCm build (HIP {torch.hip}) at {torch.path}.")
        else:
            report.lines.append(f"torch {torch.version}: a CUDA {torch.cuda} build at {torch.path}.")

    return torch


def _report_gpus(report: GpuReport, torch: TorchBuild | None, *, use_conda: bool, env_file: str) -> None:
    """Add the GPUs this machine shows, and whether the driver can run the torch build."""
    probe = report.gpus
    if probe.names:
        counts = f"{len(probe.names)} GPU{'s' if len(probe.names) > 1 else ''}"
        report.lines.append(
            f"GPUs on this machine: {counts} ({', '.join(probe.names)}), NVIDIA driver {probe.driver or 'unknown'}."
        )
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        if visible is not None:
            report.lines.append(f"CUDA_VISIBLE_DEVICES={visible!r}: local jobs see only these.")
        if use_conda:
            build, major = f"{env_file} (CUDA 12)", 12
        elif torch is not None and torch.cuda_major:
            build, major = f"torch {torch.version} (CUDA {torch.cuda})", torch.cuda_major
        else:
            build, major = "", None
        need, have = MIN_DRIVER.get(major or 0), probe.driver_branch
        if need and have and have < need:
            fix = (
                f"pip uninstall -y torch torchvision, then `pip install torch torchvision --index-url {CUDA12_INDEX}`"
                if major and major > 12 and not use_conda
                else f"an NVIDIA driver R{need} or newer"
            )
            report.problems.append(
                f"{build} needs NVIDIA driver R{need}+, but this machine has {probe.driver}: torch will not see "
                f"its GPUs (jobs run here fail with train.device: cuda). Fix: {fix}."
            )
    else:
        report.lines.append(
            f"No GPU visible on this machine ({probe.problem}). Fine where the jobs run elsewhere (a SLURM "
            "login node: they run on the GPU nodes, and each job's log names the device it used); jobs run "
            "on this machine train on the CPU (train.device: auto) or fail at their start (cuda)."
        )


def gpu_limit_problem(limit: int | None, gpus_visible: int) -> str | None:
    """What is wrong with the limit on GPU jobs at once of a local run, or None.

    Snakemake treats a resource that ``--resources`` does not name as unlimited, so a local
    run without ``--resources gpu=N`` starts as many GPU jobs at once as its cores allow. The
    jobs do not pick a device: all of them use the first GPU (``cuda:0``).

    Parameters
    ----------
    limit : int or None
        The run's global ``gpu`` resource (``--resources gpu=N``; profiles/default sets 1),
        None when there is none.
    gpus_visible : int
        GPUs :func:`visible_gpus` found (0 when unknown).

    Returns
    -------
    str or None
        The problem and its fix; None for a limit of 1 (one GPU job at a time), and where
        no GPU is visible.
    """
    if gpus_visible == 0:
        return None  # the jobs run on the CPU here (the report says so), any number at once
    if limit is None:
        return (
            "no limit on GPU jobs at once (--resources gpu=N): Snakemake starts as many as the cores allow, "
            "all on the first GPU (cuda:0). profiles/default sets gpu=1 (picked up unless --workflow-profile "
            "is given); with another profile pass --resources gpu=1."
        )
    if limit > 1:
        return (
            f"--resources gpu={limit} lets {limit} GPU jobs run at once, but every job uses the first GPU "
            f"(cuda:0; {gpus_visible} visible here), so they share it. Keep gpu=1 locally; on SLURM each job "
            "gets a GPU of its own."
        )
    return None
