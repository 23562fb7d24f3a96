"""The documentation site: the strict MkDocs build, the generated reference pages, the README's map and links."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"


@pytest.fixture(scope="module")
def gen() -> dict:
    """The functions of docs/gen_reference.py (run without mkdocs: its main() does not run)."""
    return runpy.run_path(str(DOCS / "gen_reference.py"), run_name="gen_reference")


@pytest.fixture(scope="module")
def schema() -> dict:
    return yaml.safe_load((ROOT / "schemas" / "config.schema.yaml").read_text())


def _schema_keys(node: dict, root: dict, prefix: str = "", exec_only: bool = False) -> list[tuple[str, bool]]:
    """(dotted key, execution-only) of every property, resolving local $ref: an independent walk."""
    out = []
    for name, child in node.get("properties", {}).items():
        if "$ref" in child:
            target = root
            for part in child["$ref"][2:].split("/"):
                target = target[part]
            child = {**target, **{k: v for k, v in child.items() if k != "$ref"}}
        eo = exec_only or bool(child.get("x-execution-only"))
        out.append((prefix + name, eo))
        out += _schema_keys(child, root, f"{prefix}{name}.", eo)
    return out


def _cells(row: str) -> list[str]:
    """The cells of a Markdown table row: split at pipes outside code spans and not escaped."""
    cells, cur, code, prev = [], "", False, ""
    for ch in row.strip()[1:-1]:
        if ch == "`":
            code = not code
        if ch == "|" and not code and prev != "\\":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += ch
        prev = ch
    return [*cells, cur.strip()]


def _modules() -> list[str]:
    mods = []
    for path in sorted((ROOT / "latentgraph").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        if rel.name == "__init__":
            rel = rel.parent
        mods.append(".".join(rel.parts))
    return mods


def test_configuration_page_lists_every_key_with_its_execution_only_mark(gen, schema):
    page = gen["config_markdown"](schema)
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([^`]+)` \|.*$", page, flags=re.M)}
    keys = _schema_keys(schema, schema)
    assert len(keys) > 100
    sections = {k for k, _ in keys if "." not in k and "properties" in schema["properties"][k]}
    for key, exec_only in keys:
        if key in sections:  # a top-level section is a heading with its table below
            assert f"## `{key}`" in page
            continue
        assert key in rows, f"{key} missing from the configuration page"
        cells = _cells(rows[key])
        assert len(cells) == 5, rows[key]
        assert (cells[3] == "✓") == exec_only, rows[key]
    # the marks the schema's description names, and a whole section's inheritance
    for key in ("data.download", "train.device", "knn.backend", "classgraph.backend", "resources.graph.threads"):
        assert dict(keys)[key] is True
    assert dict(keys)["knn.k"] is False


def test_configuration_page_shows_defaults_and_types(gen, schema):
    page = gen["config_markdown"](schema)
    row = next(line for line in page.splitlines() if line.startswith("| `knn.metric` |"))
    assert "one of `l1`, `l2`" in row and '`"l1"`' in row
    assert "| `name` |" in page and "required" in next(line for line in page.splitlines() if line.startswith("| `name` |"))


def test_cli_page_holds_every_subcommand_help(gen):
    from latentgraph.cli import build_parser

    page = gen["cli_markdown"]()
    parser = build_parser()
    subs = gen["_subparsers"](parser)
    assert set(subs) >= {"knn", "compare", "classgraph", "graphstats", "extract"}
    for name, sub in subs.items():
        assert f"## `latentgraph {name}`" in page
        assert f"usage: latentgraph {name}" in page
        for action in sub._actions:
            for opt in action.option_strings:
                assert opt in page, f"{name} {opt} missing from the CLI page"


def test_every_module_has_an_api_page():
    documented = set()
    for page in (DOCS / "api").glob("*.md"):
        documented |= set(re.findall(r"^::: ([\w.]+)", page.read_text(), flags=re.M))
    missing = [m for m in _modules() if m not in documented]
    assert not missing, f"add '::: MODULE' lines to docs/api/<subpackage>.md for {missing}"


def test_readme_is_short_names_every_module_and_its_links_resolve():
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    for mod in _modules():
        if mod == "latentgraph":
            continue
        name = mod.rsplit(".", 1)[-1]
        is_package = (ROOT / Path(*mod.split("."))).is_dir()
        assert (f"{name}/" if is_package else f"{name}.py") in text, f"README's layout map lacks {mod}"
    for folder in ("rules/", "workflow_scripts/", "schemas/", "envs/", "profiles/", "report/", "benchmarks/",
                   "tests/", "docs/"):
        assert folder in text
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert any(link.startswith("docs/") for link in links)
    for link in links:
        if re.match(r"[a-z]+://", link) or link.startswith("#"):
            continue
        target = link.split("#")[0]
        assert (ROOT / target).exists(), f"README links to missing {target}"


def test_nav_names_existing_or_generated_pages():
    cfg = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    generated = {"reference/configuration.md", "reference/cli.md", "reference/measures.md"}

    def pages(nav):
        for item in nav:
            if isinstance(item, str):
                yield item
            else:
                for v in item.values():
                    yield from (pages(v) if isinstance(v, list) else [v])

    for page in pages(cfg["nav"]):
        assert page in generated or (DOCS / page).exists(), page


def test_mkdocs_build_strict(tmp_path):
    """The whole site with ``mkdocs build --strict``: broken links, anchors, unparsable docstrings fail.

    About 6 s on the 2-core development machine, so not marked slow.
    """
    for mod in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "mkdocs_gen_files"):
        pytest.importorskip(mod, reason="pip install -e '.[docs]'")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    site = tmp_path / "site"
    assert (site / "reference" / "configuration" / "index.html").exists()
    assert (site / "reference" / "cli" / "index.html").exists()
    api = (site / "api" / "graphs" / "index.html").read_text()
    assert "latentgraph.graphs.knn" in api and "knn_graph" in api
