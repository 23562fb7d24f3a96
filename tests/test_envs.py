"""Conda environment files: valid structure, and every package a rule's script imports
(directly or through the latentgraph modules it uses) is named in that rule's env.

Conda itself cannot run here; this checks what can be checked without it."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from helpers import REPO, load_yaml

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
    "umap": {"umap-learn"},
    # scikit-learn requires threadpoolctl (conda-forge and PyPI alike): the envs have it without
    # naming it, and a changed env file would rerun every job under --use-conda (software-env)
    "threadpoolctl": {"threadpoolctl", "scikit-learn"},
    # numba's compiler: every numba install has it (the L1 kernel's fma intrinsic uses it)
    "llvmlite": {"llvmlite", "numba"},
}
# import name -> pip distribution names (pyproject)
PIP_NAMES = {"sklearn": "scikit-learn", "yaml": "pyyaml", "faiss": "faiss-cpu", "PIL": "pillow", "umap": "umap-learn"}

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
    """Absolute names of the modules imported anywhere in a file (module and function level);
    relative imports are resolved against the file's package (``latentgraph.graphs`` ...)."""
    tree = ast.parse(path.read_text())
    try:
        package = list(path.resolve().relative_to(REPO).with_suffix("").parts[:-1])
    except ValueError:  # a workflow script: no package
        package = []
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level >= 1:
            base = ".".join(package[: len(package) - (node.level - 1)])
            names |= {f"{base}.{node.module}"} if node.module else {f"{base}.{a.name}" for a in node.names}
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


# every rule's script opens with ``from _common import start`` and ``start(snakemake)``
COMMON = REPO / "workflow_scripts" / "_common.py"


def opening_needs(script: Path) -> set[str]:
    """Third-party packages a script's opening imports: those of latentgraph.utils (logging),
    and torch only for ``start(snakemake, torch_threads=True)``."""
    needs = third_party_closure(COMMON) - {"torch"}
    return needs | {"torch"} if "torch_threads=True" in script.read_text() else needs


def rules_with_scripts() -> list[tuple[str, Path, Path]]:
    """(rule, env file, script) for every rule that runs a script.

    A ``conda:`` given by a name defined in rules/common.smk (e.g. GRAPH_ENV, which picks
    the GPU env on GPU configs) yields one entry per env file the definition names.
    """
    common = (REPO / "rules" / "common.smk").read_text()
    out = []
    for smk in sorted((REPO / "rules").glob("*.smk")):
        text = smk.read_text()
        for block in re.split(r"\n(?=\s*rule |\s*checkpoint )", text):
            m = re.match(r"\s*(?:rule|checkpoint) (\w+):", block)
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
        for imp in sorted(third_party_closure(script) | opening_needs(script)):
            if imp not in CONDA_NAMES:
                missing.append(f"{rule}: import {imp!r} has no known conda name (add it to CONDA_NAMES)")
            elif not CONDA_NAMES[imp] & pkgs:
                missing.append(f"{rule} ({script.name}) imports {imp!r}, but {env_path.name} lacks {CONDA_NAMES[imp]}")
    assert not missing, "\n".join(missing)


def test_scripts_find_the_workflows_own_library():
    """Every rule's script opens with workflow_scripts/_common.py (nothing before it but its
    docstring): the workflow's own latentgraph first on sys.path, logging to the rule's log."""
    assert "sys.path.insert(0, str(Path(snakemake.scriptdir).parent))" in COMMON.read_text()
    # at module level only the standard library: latentgraph is imported once it is first on the path
    module_level = {a.name for node in ast.parse(COMMON.read_text()).body if isinstance(node, ast.Import)
                    for a in node.names}
    module_level |= {node.module for node in ast.parse(COMMON.read_text()).body if isinstance(node, ast.ImportFrom)}
    assert {n.split(".")[0] for n in module_level} <= set(sys.stdlib_module_names) | {"__future__"}
    scripts = {script for _, _, script in rules_with_scripts()}
    assert scripts == set((REPO / "workflow_scripts").glob("*.py")) - {COMMON}
    for script in scripts:
        body = ast.parse(script.read_text()).body
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        assert ast.unparse(body[0]) == "from _common import start", script.name
        call = body[1].value if isinstance(body[1], ast.Expr) else None
        assert isinstance(call, ast.Call) and ast.unparse(call.func) == "start", script.name
        assert [ast.unparse(a) for a in call.args] == ["snakemake"], script.name
        if "torch_threads=True" in ast.unparse(call):
            assert "torch" in third_party_closure(script), f"{script.name}: torch threads in an env without torch"


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


# the rules that run torch; on GPU configs each must run in the CUDA build (envs/torch-gpu.yaml)
TORCH_RULES = {"train", "latents", "head", "prune_round0", "prune_round", "prune_latents", "pretrained_latents",
               "layer_latents"}


def conda_value(rule: str) -> str:
    """What a rule's ``conda:`` names (a quoted path, or a name defined in common.smk)."""
    text = "".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    block = re.search(rf"(?:rule|checkpoint) {rule}:\n(.*?)(?=\n\s*(?:rule|checkpoint) |\Z)", text, re.S)
    assert block, rule
    conda = re.search(r"conda:\s*\n\s*(\S+)", block.group(1))
    assert conda, f"rule {rule} names no conda env"
    return conda.group(1)


def torch_env_for(resources: dict) -> str:
    """The env file TORCH_ENV names for a config's ``resources`` (its definition in common.smk, evaluated)."""
    common = (REPO / "rules" / "common.smk").read_text()
    definition = re.search(r"^TORCH_ENV = (.+)$", common, re.M)
    assert definition, "rules/common.smk defines no TORCH_ENV"
    return Path(eval(definition.group(1), {"RESOURCES": resources})).name


def test_every_torch_rule_runs_in_torch_env():
    """Both torch envs are then checked by test_every_rule_script_has_its_imports_in_its_env
    (for the rules at the top level of a rule file; layer_latents sits in an `if` block)."""
    imports_torch = {rule for rule, _, script in rules_with_scripts() if "torch" in third_party_closure(script)}
    assert imports_torch >= TORCH_RULES - {"layer_latents"}
    wrong = {rule: conda_value(rule) for rule in imports_torch | TORCH_RULES if conda_value(rule) != "TORCH_ENV"}
    assert not wrong, f"torch rules with a fixed env (a GPU config would get a CPU build): {wrong}"
    checked = {(rule, env.name) for rule, env, _ in rules_with_scripts()}
    assert {(rule, "torch-gpu.yaml") for rule in TORCH_RULES - {"layer_latents"}} <= checked


def test_gpu_configs_select_the_cuda_torch_env():
    from helpers import full

    assert torch_env_for({"gpu": 0}) == "torch.yaml"
    assert torch_env_for({"gpu": 1}) == "torch-gpu.yaml"
    assert torch_env_for({"gpu": 2}) == "torch-gpu.yaml"
    seen = set()
    for path in [REPO / "config.yaml", *sorted((REPO / "configs").glob("*.yaml")), REPO / "tests" / "data" / "tiny.yaml"]:
        res = full(load_yaml(path))["resources"]
        env = torch_env_for(res)
        assert env == ("torch-gpu.yaml" if res["gpu"] >= 1 else "torch.yaml"), path.name
        seen.add(env)
    assert seen == {"torch.yaml", "torch-gpu.yaml"}  # the shipped configs exercise both


def test_gpu_torch_env_pins_a_cuda_12_build():
    """Unpinned, a login node without a GPU solves pytorch to its CPU build (no __cuda there)."""
    deps = [d for d in load_yaml(REPO / "envs" / "torch-gpu.yaml")["dependencies"] if isinstance(d, str)]
    spec = {re.split(r"[<>=!~ ]", d)[0]: d for d in deps}
    assert "pytorch-gpu" in spec and "pytorch" not in spec and "pytorch-cpu" not in spec
    assert spec["torchvision"].split()[-1] == "cuda*"  # its CPU build would pull a CPU pytorch
    assert spec["cuda-version"].replace(" ", "") == "cuda-version>=12,<13"  # CUDA 12: drivers from R525 on
    cpu = env_packages(REPO / "envs" / "torch.yaml")
    assert "pytorch-gpu" not in cpu and "cuda-version" not in cpu
    # the same packages otherwise: a script that works in one env works in the other
    assert env_packages(REPO / "envs" / "torch-gpu.yaml") - {"pytorch-gpu", "cuda-version"} == cpu - {"pytorch"}


def test_extras_never_install_two_faiss_builds():
    """faiss-cpu and faiss-gpu both install the folder faiss/: no extra may pull both, `test` neither."""
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]

    def packages(extra: str) -> set[str]:
        out: set[str] = set()
        for dep in extras[extra]:
            name = re.split(r"[<>=!~ \[]", dep)[0].lower()
            if name == "latentgraph":
                for sub in re.search(r"\[([^\]]+)\]", dep).group(1).split(","):
                    out |= packages(sub.strip())
            else:
                out.add(name)
        return out

    faiss = {name: {p for p in packages(name) if p.startswith("faiss")} for name in extras}
    assert faiss["cpu"] == {"faiss-cpu"} and faiss["gpu"] == {"faiss-gpu"}
    assert all(len(builds) <= 1 for builds in faiss.values()), faiss
    assert faiss["test"] == set()  # so '.[test,cpu]' and '.[test,gpu]' both work
    # CI runs the tests with faiss-cpu, as the README's install line does
    assert "-e '.[test,cpu,docs]'" in (REPO / ".ci" / "run").read_text()  # CPU FAISS (+ the docs build)
    assert "pip install -e '.[test,cpu]'" in (REPO / "README.md").read_text()
