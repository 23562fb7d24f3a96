"""The one opening of every workflow script: ``from _common import start`` and ``start(snakemake)``.

Snakemake runs a rule's script with this folder (workflow_scripts/) appended to ``sys.path``
(its script preamble), so this module is importable from every script, in every conda env.
``start`` then

* puts the workflow's own repository root first on ``sys.path``, so ``import latentgraph``
  finds the copy beside this Snakefile, never another one installed in the env;
* sends logging (and stderr: progress bars, library warnings) to the rule's log file;
* with ``torch_threads=True``, limits torch to the job's threads (torch jobs only: the graph
  envs have no torch).

Everything after that in a script is its own glue: read the inputs, call latentgraph, write
the outputs.
"""

from __future__ import annotations

import sys
from pathlib import Path


def start(snakemake, *, torch_threads: bool = False) -> None:
    """Prepare a rule's script: the workflow's own library first, logging to ``snakemake.log[0]``."""
    sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the workflow's own latentgraph

    from latentgraph.utils import setup_logging

    setup_logging(snakemake.log[0])
    if torch_threads:
        import torch

        torch.set_num_threads(snakemake.threads)
