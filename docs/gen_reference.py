"""Generate the reference pages that must never drift from the code, at every docs build.

Run by the mkdocs-gen-files plugin (``mkdocs.yml``, ``plugins: gen-files``); the pages exist only
in the build, never in ``docs/``:

- ``reference/configuration.md`` from ``schemas/config.schema.yaml``: every key with its type
  (and constraints), default, description and whether it is execution-only (the schema's
  ``x-execution-only`` keyword, inherited by the keys of a section that carries it);
- ``reference/cli.md`` from the argparse parser, ``latentgraph.cli.build_parser()``: the
  ``format_help()`` of the program and of each subcommand;
- ``reference/measures.md`` from the measure registry, ``latentgraph.compare.registry``: name,
  needs, range, direction, invariances, citation, definition and ReSi counterpart of each.

The ``*_markdown`` functions are plain functions of their input, so ``tests/test_docs.py``
checks them without building the site.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "config.schema.yaml"
HELP_COLUMNS = 100  # argparse wraps to $COLUMNS: fixed, so the page does not depend on the terminal

if str(ROOT) not in sys.path:  # this checkout's latentgraph, as the workflow uses it
    sys.path.insert(0, str(ROOT))
from latentgraph.execution import resolve_ref  # noqa: E402 - the one resolver of the schema's $ref

# ---------------------------------------------------------------------------------------- config


def _constraints(node: dict[str, Any]) -> list[str]:
    out = []
    for key, sym in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")):
        if key in node:
            out.append(f"{sym} {node[key]}")
    if "minItems" in node:
        out.append(f"at least {node['minItems']} items")
    if "maxItems" in node:
        out.append(f"at most {node['maxItems']} items")
    if node.get("uniqueItems"):
        out.append("unique items")
    if "pattern" in node:
        out.append(f"matching `{node['pattern']}`")
    return out


def type_text(node: dict[str, Any], root: dict[str, Any]) -> str:
    """A short human-readable type of a schema node: ``integer ≥ 1``, ``one of `l1`, `l2```, ..."""
    node = resolve_ref(node, root)
    if "enum" in node:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" if not isinstance(v, str) else f"`{v}`"
                                     for v in node["enum"])
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    for combo in ("oneOf", "anyOf"):
        if combo in node:
            return " or ".join(type_text(n, root) for n in node[combo])
    types = node.get("type", "any")
    types = [types] if isinstance(types, str) else list(types)
    parts = []
    for t in types:
        if t == "array" and "items" in node:
            parts.append(f"array of ({type_text(node['items'], root)})")
        elif t == "object" and isinstance(node.get("additionalProperties"), dict) and not node.get("properties"):
            parts.append(f"mapping of names to ({type_text(node['additionalProperties'], root)})")
        else:
            parts.append(t)
    text = " or ".join(parts)
    cons = _constraints(node)
    return text + (", " + ", ".join(cons) if cons else "")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*").replace("_", "\\_")


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line; outside code spans no raw HTML, no emphasis, no cell breaks."""
    parts = " ".join(str(text).split()).split("`")
    if len(parts) % 2 == 0:  # an unmatched backtick: treat it all as text
        parts = ["\\`".join(parts)]
    # pipes inside a code span do not split the cell (Python-Markdown's tables); outside they must be escaped
    return "`".join(p if i % 2 else _escape(p).replace("|", "\\|") for i, p in enumerate(parts))


def _default_text(node: dict[str, Any]) -> str:
    if "default" not in node:
        return "required" if node.get("_required") else "–"
    value = node["default"]
    return "`" + json.dumps(value, ensure_ascii=False) + "`"


def schema_rows(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every key of the schema, depth first in schema order: dotted key, type, default, description, execution-only."""

    def walk(node: dict[str, Any], prefix: str, inherited: bool) -> Iterator[dict[str, Any]]:
        required = set(node.get("required", []))
        for name, child in node.get("properties", {}).items():
            child = resolve_ref(child, schema)
            key = f"{prefix}{name}"
            exec_only = inherited or bool(child.get("x-execution-only"))
            yield {
                "key": key,
                "type": type_text(child, schema),
                "default": _default_text({**child, "_required": name in required}),
                "description": child.get("description", ""),
                "execution_only": exec_only,
                "section": "properties" in child,
            }
            if "properties" in child:
                yield from walk(child, key + ".", exec_only)

    yield from walk(schema, "", bool(schema.get("x-execution-only")))


def config_markdown(schema: dict[str, Any]) -> str:
    """The configuration reference page of a JSON schema (as loaded from YAML)."""
    rows = list(schema_rows(schema))
    lines = [
        "# Configuration reference",
        "",
        "<!-- generated by docs/gen_reference.py from schemas/config.schema.yaml: edit the schema, not this page -->",
        "",
        "Generated at every docs build from `schemas/config.schema.yaml`, the schema the workflow",
        "validates each config against before anything runs (an unknown key or a bad value stops",
        "the run with a message naming the key). Keys left out of a config take the defaults below.",
        "",
        _cell(schema.get("description", "")),
        "",
        "**Execution-only** keys (marked ✓) change where or how fast a job runs, never its result:",
        "they are left out of the rules' params and so never make Snakemake rerun a job. A section",
        "marked execution-only passes the mark to all its keys. See",
        "[Running the workflow](../workflow.md#caching) for how the other keys become rerun triggers.",
        "",
    ]
    sections: dict[str, list[dict[str, Any]]] = {}
    top = []
    for row in rows:
        head = row["key"].split(".")[0]
        if "." not in row["key"] and not row["section"]:
            top.append(row)
        else:
            sections.setdefault(head, []).append(row)
    header = ["| key | type | default | execution-only | description |", "|---|---|---|---|---|"]

    def table(rs: list[dict[str, Any]]) -> list[str]:
        out = list(header)
        for r in rs:
            out.append(
                f"| `{r['key']}` | {_cell(r['type'])} | {r['default']} "
                f"| {'✓' if r['execution_only'] else ''} | {_cell(r['description'])} |"
            )
        return out

    if top:
        lines += ["## Top-level keys", "", *table(top), ""]
    for head, rs in sections.items():
        lines += [f"## `{head}`", ""]
        first = rs[0]
        if first["key"] == head and first["description"]:
            lines += [_cell(first["description"]), ""]
        body = [r for r in rs if r["key"] != head]
        if first["key"] == head and first["execution_only"]:
            lines += ["The whole section is execution-only.", ""]
        lines += [*table(body), ""]
    n_exec = sum(r["execution_only"] and not r["section"] for r in rows)
    n_keys = sum(not r["section"] for r in rows)
    lines += [f"{n_keys} keys, {n_exec} of them execution-only.", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- cli


def _subparsers(parser: Any) -> dict[str, Any]:
    import argparse

    for action in parser._actions:  # argparse keeps them there; no public accessor exists
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli_markdown() -> str:
    """The command-line reference page: ``format_help()`` of ``latentgraph`` and of each subcommand."""
    from latentgraph.cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(HELP_COLUMNS)
    try:
        parser = build_parser()
        subs = _subparsers(parser)
        lines = [
            "# Command-line reference",
            "",
            "<!-- generated by docs/gen_reference.py from latentgraph.cli.build_parser(): edit the parser, not this page -->",
            "",
            "Generated at every docs build from the argparse parser (`latentgraph.cli.build_parser()`):",
            "what `latentgraph --help` and `latentgraph COMMAND --help` print. Errors in the input are",
            "reported in one line and exit with status 2; output paths are checked before any work and",
            "written atomically. Worked examples: [the tutorial](../tutorial.md) and the",
            "[measures page](../experiments/measures.md).",
            "",
            "## `latentgraph`",
            "",
            "```text",
            parser.format_help().rstrip(),
            "```",
            "",
        ]
        for name, sub in subs.items():
            lines += [f"## `latentgraph {name}`", "", "```text", sub.format_help().rstrip(), "```", ""]
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(lines)


# -------------------------------------------------------------------------------------- measures


def measures_markdown() -> str:
    """The measures reference page: every measure of ``latentgraph.compare.registry`` as a table."""
    from latentgraph.compare.registry import TRANSFORMS, table_rows

    rows = table_rows()
    lines = [
        "# Measures reference",
        "",
        "<!-- generated by docs/gen_reference.py from latentgraph.compare.registry: edit the registry, not this page -->",
        "",
        "Generated at every docs build from the measure registry (`latentgraph.compare.registry.REGISTRY`),",
        "the one list that `latentgraph compare --measure`, `latentgraph measures`, the config key",
        "`measures.extra` and the stability and layer tables read. Definitions, choices and measured",
        "values: [More measures](../experiments/measures.md).",
        "",
        "**Invariances** (as ReSi declares them): a measure is invariant to a transform T when",
        "m(T(X), Y) = m(X, Y) for all X, Y. `permutation`: the same reordering of the samples of both;",
        "`orthogonal`: X → XQ; `isotropic_scaling`: X → aX; `translation`: X → X + 1bᵀ;",
        "`invertible_linear`: X → XA. Graph measures are declared for kNN graphs built with the",
        "Euclidean (`l2`) metric; with `l1` (the thesis's choice) they are not rotation-invariant.",
        "Each declaration is checked by `tests/compare/test_registry.py`, including a counter-example",
        "for every transform not listed. **needs**: `graphs` runs on kNN graph files or latents,",
        "`latents` only on latents. **per k**: one value per neighbour count (else one per pair,",
        "repeated on each row).",
        "",
        "| measure | needs | range | more similar | per k | invariances | reference |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| `{r['name']}` ({_cell(r['title'])}) | {r['needs']} | {_cell(r['range'])} | {r['similar']} "
                     f"| {r['per_k']} | {_cell(r['invariances'])} | {_cell(r['cite'])} |")
    lines += ["", "## Definitions and ReSi counterparts", "",
              "| measure | definition | ReSi (mklabunde/resi, `repsim/measures/`) |", "|---|---|---|"]
    for r in rows:
        lines.append(f"| `{r['name']}` | {_cell(r['definition'])} | {_cell(r['resi'])} |")
    lines += ["", f"{len(rows)} measures; transforms: {', '.join(TRANSFORMS)}.", ""]
    return "\n".join(lines)


def main() -> None:
    import mkdocs_gen_files

    schema = yaml.safe_load(SCHEMA.read_text())
    with mkdocs_gen_files.open("reference/configuration.md", "w") as fh:
        fh.write(config_markdown(schema))
    mkdocs_gen_files.set_edit_path("reference/configuration.md", "../schemas/config.schema.yaml")
    with mkdocs_gen_files.open("reference/cli.md", "w") as fh:
        fh.write(cli_markdown())
    mkdocs_gen_files.set_edit_path("reference/cli.md", "../latentgraph/cli.py")
    with mkdocs_gen_files.open("reference/measures.md", "w") as fh:
        fh.write(measures_markdown())
    mkdocs_gen_files.set_edit_path("reference/measures.md", "../latentgraph/compare/registry.py")


if __name__ in {"__main__", "<run_path>"}:
    main()
