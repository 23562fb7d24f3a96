"""The package's one architectural rule: the graph side never imports the torch side.

``latentgraph.nets`` (data, models, training, extraction, pretrained weights, pruning) may
import PyTorch; ``latentgraph.graphs``, ``latentgraph.compare``, ``latentgraph.experiments``
and the shared modules beside them must not, not even inside a function, so that every graph
job runs in an environment without torch (envs/graph.yaml).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "latentgraph"
GRAPH_SIDE = ["graphs", "compare", "experiments"]
SHARED = ["io", "head", "utils", "execution", "plotting", "gpu"]


def graph_side_modules() -> list[str]:
    mods = [f"latentgraph.{m}" for m in SHARED]
    for sub in GRAPH_SIDE:
        mods.append(f"latentgraph.{sub}")
        mods += [f"latentgraph.{sub}.{p.stem}" for p in sorted((PKG / sub).glob("*.py")) if p.stem != "__init__"]
    return mods


def imported_names(path: Path) -> set[str]:
    """Absolute names of every import in a file, module level and function level alike."""
    rel = path.relative_to(PKG.parent).with_suffix("").parts
    package = list(rel[:-1]) if rel[-1] != "__init__" else list(rel[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
                names |= {mod} if node.module else {f"{mod}.{a.name}" for a in node.names}
            elif node.module:
                names.add(node.module)
    return names


@pytest.mark.parametrize("module", graph_side_modules())
def test_graph_side_never_imports_torch_or_the_torch_side(module):
    path = PKG.parent.joinpath(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    bad = {n for n in imported_names(path)
           if n.split(".")[0] in ("torch", "torchvision") or n.startswith("latentgraph.nets")}
    assert not bad, f"{module} imports {sorted(bad)}"


def test_graph_side_imports_with_torch_unimportable():
    """Every graph-side module imports, and torch is never loaded, when torch cannot be imported."""
    code = (
        "import sys\n"
        "sys.modules['torch'] = None\n"  # `import torch` now raises ImportError
        "sys.modules['torchvision'] = None\n"
        "import importlib\n"
        f"for m in {graph_side_modules()!r}:\n"
        "    importlib.import_module(m)\n"
        "import latentgraph.graphs as g, latentgraph.compare as c, latentgraph.experiments as e\n"
        "for pkg in (g, c, e):\n"
        "    for name in pkg.__all__:\n"
        "        getattr(pkg, name)\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PKG.parent)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
