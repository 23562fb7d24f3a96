"""Shared fixtures: the repository root, the tiny workflow config and a Snakemake runner."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "data" / "tiny.yaml"


SCHEMA = str(REPO / "schemas" / "config.schema.yaml")


def full(config: dict) -> dict:
    """Validate like the Snakefile does (readable errors, then defaults, then cross checks)."""
    from snakemake.utils import validate

    from latentgraph.config import check_config, validate_config

    config = copy.deepcopy(config)
    validate_config(config, SCHEMA)
    validate(config, SCHEMA)
    check_config(config)
    return config


def snakemake(workdir: Path, *args: str, configfile: Path | None = TINY, check: bool = True,
              timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the repository's Snakefile with ``workdir`` as working directory."""
    # targets and options first: --quiet and --configfile take several values
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--cores", "2", *args, "--quiet", "rules"]
    if configfile is not None:
        cmd += ["--configfile", str(configfile)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # an ordinary umask: result files must come out readable by the group and others
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                          preexec_fn=lambda: os.umask(0o022))
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def load_yaml(path: Path) -> dict:
    with open(path) as fh:
        return yaml.safe_load(fh)


def write_yaml(path: Path, data: dict) -> Path:
    with open(path, "w") as fh:
        yaml.safe_dump(data, fh, sort_keys=False)
    return path


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture
def tiny_config() -> dict:
    return load_yaml(TINY)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole workflow run once on the tiny config; returns its working directory.

    Tests may read its results but must not modify them (copy the folder first).
    """
    work = tmp_path_factory.mktemp("tiny_run")
    shutil.copy(TINY, work / "tiny.yaml")
    snakemake(work, configfile=work / "tiny.yaml")
    return work
