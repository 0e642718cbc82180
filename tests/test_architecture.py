"""The layering rules of docs/architecture.md, checked on the source (every import, also the ones
inside functions, except those under ``if TYPE_CHECKING:``)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vidsum"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> set[str]:
    """Every module name ``path`` imports (runtime imports only), resolved to vidsum modules
    where they are ones (``from vidsum.models import dmasum`` -> vidsum.models.dmasum)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


IMPORTS = {name: _imports(path) for name, path in MODULES.items()}


def _internal_graph() -> dict[str, set[str]]:
    """vidsum module -> the vidsum modules it imports. The package root ``vidsum`` (the lazy
    public facade, run before any submodule anyway) is left out: nothing may depend on it."""
    return {
        name: {m for m in deps if m in MODULES and m != "vidsum" and m != name}
        for name, deps in IMPORTS.items()
        if name != "vidsum"
    }


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for dep in graph.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_the_checker_sees_imports_inside_functions() -> None:
    # pipeline imports render and the models only inside summarize(): they must still count.
    assert {"vidsum.render", "vidsum.models", "vidsum.exports"} <= IMPORTS["vidsum.pipeline"]
    assert "h5py" in IMPORTS["vidsum.data"]


# docs/architecture.md, "Layers": a module imports only from its own layer or below.
LAYERS = {
    1: ("errors", "progress", "config", "io", "device"),
    2: ("data", "checkpoint", "weights", "video", "ffmpeg", "ffstream", "avstream"),
    3: ("features", "backbones", "segmentation", "selection", "models", "evaluation", "render", "exports", "executor"),
    4: ("pipeline", "collection", "train", "annotations", "extraction", "extraction_ray", "experiments", "experiment_figures"),
    5: ("cli", "__main__"),
}
LAYER_OF = {part: level for level, parts in LAYERS.items() for part in parts}


def test_every_module_has_a_layer_and_imports_only_downwards() -> None:
    graph = _internal_graph()
    unplaced = sorted(n for n in graph if n.split(".")[1] not in LAYER_OF)
    assert not unplaced, f"add these to docs/architecture.md's layers and to LAYERS: {unplaced}"
    upward = sorted(
        f"{a} -> {b}" for a, deps in graph.items() for b in deps if LAYER_OF[b.split(".")[1]] > LAYER_OF[a.split(".")[1]]
    )
    assert not upward


def test_no_import_cycles() -> None:
    graph = _internal_graph()
    cycles = sorted(name for name in graph if name in _reachable(graph, name))
    assert not cycles, f"modules on an import cycle: {cycles}"


def test_only_the_cli_imports_typer_and_rich() -> None:
    offenders = sorted(
        name
        for name, deps in IMPORTS.items()
        if not (name == "vidsum.cli" or name.startswith("vidsum.cli."))
        and any(d.split(".")[0] in ("typer", "rich") for d in deps)
    )
    assert not offenders


def test_only_data_imports_h5py() -> None:
    assert sorted(name for name, deps in IMPORTS.items() if any(d.split(".")[0] == "h5py" for d in deps)) == ["vidsum.data"]


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("vidsum.models")) + ["vidsum.evaluation"])
def test_models_and_evaluation_never_reach_video_or_render(name: str) -> None:
    reach = _reachable(_internal_graph(), name) | {m for m in IMPORTS[name] if m in MODULES}
    assert not reach & {"vidsum.video", "vidsum.render", "vidsum.ffmpeg"}, sorted(reach)


def test_the_facade_imports_only_the_configs_at_import_time() -> None:
    tree = ast.parse(MODULES["vidsum"].read_text(encoding="utf-8"))
    top = {
        node.module
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vidsum")
    }
    assert top == {"vidsum.config"}


def test_public_signatures_are_the_real_ones() -> None:
    import vidsum
    from vidsum import extraction, models, pipeline

    for facade, real in (
        (vidsum.summarize, pipeline.summarize),
        (vidsum.extract_features, extraction.extract_one),
        (vidsum.load_model, models.load_model),
    ):
        assert list(inspect.signature(facade).parameters) == list(inspect.signature(real).parameters)
    assert list(inspect.signature(vidsum.load_scorer).parameters) == ["checkpoint", "device"]


def test_every_family_file_is_registered() -> None:
    """A file in backbones/, models/ or exports/ that defines a SPEC is in its registry."""
    from vidsum.backbones import BACKBONES
    from vidsum.exports import EXPORTS
    from vidsum.extraction import EXECUTORS
    from vidsum.models import MODELS

    for registry, package in ((BACKBONES, "backbones"), (MODELS, "models"), (EXPORTS, "exports")):
        defining = {
            name
            for name, path in MODULES.items()
            if name.startswith(f"vidsum.{package}.") and "\nSPEC = " in path.read_text(encoding="utf-8")
        }
        assert defining, package
        assert defining == {_spec_module(spec) for spec in registry.values()}, package
        for key, spec in registry.items():
            assert spec.name == key
    assert "local" in EXECUTORS


def _spec_module(spec: object) -> str:
    """The module that defines a spec: ModelSpec says so; the others by their functions."""
    module = getattr(spec, "module", None)
    if isinstance(module, str):
        return module
    for attr in ("write", "load", "frame_features"):
        value = getattr(spec, attr, None)
        if value is not None:
            return value.__module__
    raise AssertionError(f"cannot tell which module defines {spec}")
