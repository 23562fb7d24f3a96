"""Conda environment files: valid structure, and every package a rule's script imports
(directly or through the latentgraph modules it uses) is named in that rule's env.

Conda itself cannot run here; this checks what can be checked without it."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from conftest import REPO, load_yaml

# import name -> conda-forge package names that provide it
CONDA_NAMES = {
    "torch": {"pytorch", "pytorch-gpu", "pytorch-cpu"},
    "torchvision": {"torchvision"},
    "numpy": {"numpy"},
    "scipy": {"scipy"},
    "pandas": {"pandas"},
    "pyarrow": {"pyarrow"},
    "sklearn": {"scikit-learn"},
    "matplotlib": {"matplotlib", "matplotlib-base"},
    "tqdm": {"tqdm"},
    "yaml": {"pyyaml"},
    "jsonschema": {"jsonschema"},
    "faiss": {"faiss-cpu", "faiss-gpu", "faiss"},
    "igraph": {"python-igraph", "igraph"},
    "leidenalg": {"leidenalg"},
    "PIL": {"pillow"},
    "numba": {"numba"},
    "networkx": {"networkx"},
}
# import name -> pip distribution names (pyproject)
PIP_NAMES = {"sklearn": "scikit-learn", "yaml": "pyyaml", "faiss": "faiss-cpu", "PIL": "pillow"}

ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))
SPEC = re.compile(r"^[A-Za-z0-9_.\-]+(\[[^\]]+\])?(\s*([<>=!~]=?|==)\s*[^\s,]+(\s*,\s*[<>=!]=?\s*[^\s,]+)*)?$")


def env_packages(path: Path) -> set[str]:
    env = load_yaml(path)
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # a pip: section
            names |= {re.split(r"[<>=!~ \[]", d)[0].lower() for d in dep.get("pip", [])}
        else:
            names.add(re.split(r"[<>=!~ ]", dep)[0].lower())
    return names


def imports_of(path: Path) -> set[str]:
    """Top-level module names imported anywhere in a file (module and function level)."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            names |= {f"latentgraph.{node.module}"} if node.module else {f"latentgraph.{a.name}" for a in node.names}
    return names


def third_party_closure(script: Path) -> set[str]:
    """Third-party packages a script needs, following imports through latentgraph modules."""
    seen_modules: set[str] = set()
    third: set[str] = set()
    todo = [script]
    while todo:
        for name in imports_of(todo.pop()):
            top = name.split(".")[0]
            if top == "latentgraph":
                parts = name.split(".")
                mod = REPO.joinpath(*parts).with_suffix(".py")
                pkg = REPO.joinpath(*parts) / "__init__.py"
                target = mod if mod.exists() else pkg if pkg.exists() else None
                if target is not None and name not in seen_modules:
                    seen_modules.add(name)
                    todo.append(target)
                if name == "latentgraph":
                    continue
            elif top not in sys.stdlib_module_names and top not in ("snakemake", "__future__", "_common"):
                third.add(top)
    return third


def rules_with_scripts() -> list[tuple[str, Path, Path]]:
    """(rule, env file, script) for every rule that runs a script.

    A ``conda:`` given by a name defined in rules/common.smk (e.g. GRAPH_ENV, which picks
    the GPU env on GPU configs) yields one entry per env file the definition names.
    """
    common = (REPO / "rules" / "common.smk").read_text()
    out = []
    for smk in sorted((REPO / "rules").glob("*.smk")):
        text = smk.read_text()
        for block in re.split(r"\n(?=rule |checkpoint )", text):
            m = re.match(r"(?:rule|checkpoint) (\w+):", block)
            conda = re.search(r"conda:\s*\n\s*(\S+)", block)
            script = re.search(r'script:\s*\n\s*"([^"]+)"', block)
            if m and script:
                assert conda, f"rule {m.group(1)} has a script but no conda env"
                value = conda.group(1)
                if value.startswith('"'):
                    envs = [value.strip('"')]
                else:
                    definition = re.search(rf"^{value} = (.+)$", common, re.M)
                    assert definition, f"rule {m.group(1)}: conda env {value} is not defined in common.smk"
                    envs = re.findall(r'"([^"]+\.yaml)"', definition.group(1))
                for env in envs:
                    out.append((m.group(1), (smk.parent / env).resolve(), (smk.parent / script.group(1)).resolve()))
    return out


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.name)
def test_env_file_structure(path):
    env = load_yaml(path)
    assert set(env) <= {"name", "channels", "dependencies"}
    assert env["channels"][0] == "conda-forge" and "defaults" not in env["channels"]
    assert any(str(d).startswith("python") for d in env["dependencies"])
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            assert set(dep) == {"pip"} and all(isinstance(x, str) for x in dep["pip"])
        else:
            assert SPEC.match(dep.replace(" ", "")) or SPEC.match(dep), f"bad spec {dep!r} in {path.name}"
    assert "latentgraph" not in env_packages(path)  # the workflow imports its own copy


def test_every_rule_script_has_its_imports_in_its_env():
    rules = rules_with_scripts()
    assert len(rules) >= 5
    missing = []
    for rule, env_path, script in rules:
        assert env_path.exists(), f"rule {rule}: env file {env_path} missing"
        assert script.exists(), f"rule {rule}: script {script} missing"
        pkgs = env_packages(env_path)
        for imp in sorted(third_party_closure(script)):
            if imp not in CONDA_NAMES:
                missing.append(f"{rule}: import {imp!r} has no known conda name (add it to CONDA_NAMES)")
            elif not CONDA_NAMES[imp] & pkgs:
                missing.append(f"{rule} ({script.name}) imports {imp!r}, but {env_path.name} lacks {CONDA_NAMES[imp]}")
    assert not missing, "\n".join(missing)


def test_scripts_find_the_workflows_own_library():
    for _, _, script in rules_with_scripts():
        assert "sys.path.insert(0, str(Path(snakemake.scriptdir).parent))" in script.read_text(), script.name


def test_pyproject_names_every_library_import():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = {re.split(r"[<>=!~ \[]", d)[0].lower() for d in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        deps |= {re.split(r"[<>=!~ \[]", d)[0].lower() for d in extra}
    needed = set()
    for f in (REPO / "latentgraph").glob("*.py"):
        needed |= {n.split(".")[0] for n in imports_of(f)}
    needed -= set(sys.stdlib_module_names) | {"latentgraph", "__future__"}
    for imp in sorted(needed):
        assert PIP_NAMES.get(imp, imp).lower() in deps, f"latentgraph imports {imp!r}; pyproject lacks it"
