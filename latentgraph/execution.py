"""Canonical rule params and execution-only settings of the workflow config.

Snakemake reruns a job when its rule's ``params`` change as rendered (``repr``). The
workflow therefore takes params from :func:`result_config`: the validated config in
canonical form (mapping keys sorted at every level, numbers typed as the schema says)
without the *execution-only* keys, which the schema marks with ``x-execution-only: true``
(device, loader workers, inference batch sizes, search backends, resources): they change
where or how fast a job runs, never its result. Scripts read those through
:func:`execution_settings`.

Light on purpose (PyYAML only): every workflow script imports it, in every environment.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

#: The workflow's JSON schema (beside the package in the repository; the workflow imports its own copy).
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "config.schema.yaml"

@functools.lru_cache(maxsize=1)
def _cached_schema() -> dict[str, Any]:
    import yaml

    with open(SCHEMA_PATH) as fh:
        return yaml.safe_load(fh)


def _schema() -> dict[str, Any]:
    """The workflow's schema (a fresh copy)."""
    return copy.deepcopy(_cached_schema())


#: Schema keyword that marks a key (or a whole section) as execution-only: it changes where or
#: how fast a job runs, never its result, so it is no rerun trigger. Scripts read such keys
#: through :func:`execution_settings`, never through rule ``params``.
EXECUTION_KEYWORD = "x-execution-only"


def resolve_ref(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``node`` with its local ``$ref`` (``#/$defs/...``) merged in, the node's own keys winning.

    The one resolver of the workflow's schema: this module, the docs' configuration reference
    (``docs/gen_reference.py``) and ``tests/test_defaults.py`` walk the schema with it.

    Parameters
    ----------
    node : dict
        A schema node, with or without ``$ref``.
    schema : dict
        The whole schema, which ``$ref`` points into.

    Returns
    -------
    dict
        ``node`` itself when it has no ``$ref``, else a new merged dict (references resolved
        recursively).

    Raises
    ------
    ValueError
        For a ``$ref`` that is not local (``#/...``).
    """
    ref = node.get("$ref")
    if not ref:
        return node
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref are supported, got {ref!r}")
    target: Any = schema
    for part in ref[2:].split("/"):
        target = target[part]
    return {**resolve_ref(target, schema), **{k: v for k, v in node.items() if k != "$ref"}}


def execution_keys(schema: dict[str, Any] | None = None) -> list[str]:
    """Dotted paths of every execution-only key (or section) the schema marks with ``x-execution-only``.

    Parameters
    ----------
    schema : dict, optional
        The JSON schema; None: the workflow's (:data:`SCHEMA_PATH`).

    Returns
    -------
    list of str
        The paths, e.g. ``train.device``; a marked section's keys are not listed beside it.
    """
    schema = schema if schema is not None else _schema()
    keys: list[str] = []

    def walk(node: dict[str, Any], prefix: str) -> None:
        for name, sub in (node.get("properties") or {}).items():
            sub = resolve_ref(sub, schema)
            path = f"{prefix}{name}"
            if sub.get(EXECUTION_KEYWORD):
                keys.append(path)
            else:
                walk(sub, f"{path}.")

    walk(schema, "")
    return keys


def _normalise(value: Any, node: dict[str, Any], schema: dict[str, Any]) -> Any:
    node = resolve_ref(node, schema)
    types = node.get("type")
    types = set(types) if isinstance(types, list) else {types}
    if isinstance(value, dict):
        props = node.get("properties") or {}
        extra = node.get("additionalProperties")
        extra = extra if isinstance(extra, dict) else {}
        return {k: _normalise(value[k], props.get(k, extra), schema) for k in sorted(value)}
    if isinstance(value, list):
        items = node.get("items") if isinstance(node.get("items"), dict) else {}
        return [_normalise(v, items, schema) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        if "integer" in types and float(value).is_integer():
            return int(value)
        if "number" in types:
            return float(value)
    return value


def normalise_config(config: dict[str, Any], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The validated ``config`` in canonical form: keys sorted, numbers typed as the schema says.

    Mapping keys are sorted at every level and numbers typed as the schema says (``number``
    keys as floats, ``integer`` keys as ints). Snakemake compares a rule's ``params`` as rendered (``repr``), so key order and ``1`` vs
    ``1.0`` would otherwise be rerun triggers. List order is kept: it is meaningful
    (``stability.runs``, ``measures.extra`` order the tables' rows and columns).

    Parameters
    ----------
    config : dict
        The validated config.
    schema : dict, optional
        The JSON schema; None: the workflow's (:data:`SCHEMA_PATH`).

    Returns
    -------
    dict
        A new, canonical config.
    """
    schema = schema if schema is not None else _schema()
    return _normalise(config, schema, schema)


def result_config(config: dict[str, Any], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The canonical ``config`` without its execution-only keys: what rule ``params`` are taken from.

    Parameters
    ----------
    config : dict
        The validated config.
    schema : dict, optional
        The JSON schema; None: the workflow's (:data:`SCHEMA_PATH`).

    Returns
    -------
    dict
        :func:`normalise_config`'s result less the keys of :func:`execution_keys`.
    """
    schema = schema if schema is not None else _schema()
    out = normalise_config(config, schema)
    for path in execution_keys(schema):
        *parents, last = path.split(".")
        node: Any = out
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return out


def execution_settings(config: dict[str, Any], section: str) -> dict[str, Any]:
    """The execution-only keys of one config section (``train``, ``latents``, ``knn``, ...).

    The one documented way for a workflow script to read settings that change how a job
    runs but never its result (device, loader workers, batch sizes of inference, search
    backends): ``execution_settings(snakemake.config, "train")``. They are not in the rules'
    ``params``, so changing them reruns nothing.

    Parameters
    ----------
    config : dict
        The workflow config.
    section : str
        The section's name.

    Returns
    -------
    dict
        The section's execution-only keys (direct children only) that the config sets, with
        their values.
    """
    prefix = f"{section}."
    names = [p.removeprefix(prefix) for p in execution_keys() if p.startswith(prefix) and "." not in p[len(prefix):]]
    values = config.get(section) or {}
    return {name: values[name] for name in names if name in values}
