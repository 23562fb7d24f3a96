"""One docstring style, numpydoc, throughout: every public function, class and method of the
package has a summary line and documents its parameters and what it returns (numpydoc's own
validator; the API pages render these sections)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import latentgraph

validate = pytest.importorskip("numpydoc.validate").validate  # in the [docs] extra, which CI installs

#: numpydoc's checks that must pass: GL08 no docstring, SS01 no summary, PR01 a parameter not
#: documented, PR02 a documented parameter that does not exist, PR07 a parameter without a
#: description, RT01 no Returns section in a function that returns something.
CHECKS = ("GL08", "SS01", "PR01", "PR02", "PR07", "RT01")


def public_objects() -> list[str]:
    """Dotted names of the package's public functions, classes and their public methods."""
    names = []
    for info in pkgutil.walk_packages(latentgraph.__path__, "latentgraph."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in sorted(vars(module).items()):
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                names.append(f"{info.name}.{name}")
            elif inspect.isclass(obj):
                names.append(f"{info.name}.{name}")
                names += [f"{info.name}.{name}.{m}" for m, member in sorted(vars(obj).items())
                          if not m.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))]
    return names


def test_the_walk_finds_the_api():
    names = public_objects()
    assert "latentgraph.graphs.knn.knn_table" in names and "latentgraph.io.Latents" in names
    assert len(names) > 200 and not any(n.rsplit(".", 1)[-1].startswith("_") for n in names)


def test_every_public_docstring_is_numpydoc():
    problems = []
    for name in public_objects():
        for code, message in validate(name)["errors"]:
            if code in CHECKS:
                problems.append(f"{name}: {code} {message}")
    assert not problems, f"{len(problems)} docstring problems:\n" + "\n".join(problems)
