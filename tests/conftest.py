"""Fixtures: the tiny workflow config and one whole tiny run per session (helpers.py holds the helpers)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import REPO, TINY, load_yaml, snakemake


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
