"""The package's layout: imports point only downward, and nobody imports another's privates."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "fairtrain"

# What each room may import of fairtrain (besides itself). Rooms are the first component
# under fairtrain/; the order reads bottom-up: the leaves, the NumPy cores, the Keras
# pieces, the plugin kit, the application.
ALLOWED: dict[str, set[str]] = {
    "_validation": set(),
    "_lazy": set(),
    "registry": set(),
    "groups": {"_validation"},
    "sampling": {"_validation", "groups"},
    "weighting": {"_validation", "groups", "registry", "sampling"},
    "metrics": {"_validation", "_lazy", "groups", "registry"},
    "datasets": {"_validation", "_lazy", "groups"},
    "data": {"_validation", "_lazy", "groups", "sampling"},
    "callbacks": {"_validation", "_lazy", "groups", "data", "metrics", "sampling",
                  "weighting"},
    "schedules": {"_validation", "_lazy", "groups", "data", "callbacks"},
    "testing": {"_validation", "_lazy", "groups", "registry", "sampling", "weighting",
                "metrics", "schedules"},
    "experiments": {"_validation", "_lazy", "groups", "registry", "sampling", "weighting",
                    "metrics", "datasets", "data", "callbacks", "schedules"},
    "cli": {"_validation", "_lazy", "registry", "groups", "metrics", "experiments"},
    "__init__": {"_lazy", "groups", "registry"},
}


def _room(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path):
    """(module, names) of every ``fairtrain`` import in ``path``, at any depth."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "fairtrain" or node.module.startswith("fairtrain."):
                yield node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("fairtrain."):
                    yield alias.name, []


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_only_downward(path):
    room = _room(path)
    assert room in ALLOWED, f"{room} is a new room: give it a place in ALLOWED"
    for module, names in _imports(path):
        parts = module.split(".")
        targets = [parts[1]] if len(parts) > 1 else names  # `from fairtrain import x`
        for target in targets:
            if target == room or target in {"__version__"}:
                continue
            assert target in ALLOWED[room], f"{room} imports {module} ({names})"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_private_name_is_imported_from_another_room(path):
    room = _room(path)
    for module, names in _imports(path):
        parts = module.split(".")
        other = len(parts) > 1 and parts[1] != room
        private = [n for n in names if n.startswith("_")]
        assert not (other and private), f"{path.name} imports {private} from {module}"


#: Issue 17: every function reads in one screen, its docstring included.
MAX_FUNCTION_LINES = 80
ROOT = SRC.parent.parent


def _long_functions(folder: Path, root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} "
                                 f"({length} lines)")
    return found


@pytest.mark.parametrize("folder", ["src/fairtrain", "examples", "benchmarks"])
def test_no_function_is_longer_than_a_screen(folder):
    assert _long_functions(ROOT / folder) == [], (
        f"split these into named steps (at most {MAX_FUNCTION_LINES} lines, docstring "
        "included)"
    )


def test_the_length_check_sees_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "m.py").write_text(f"def short():\n    pass\n\n\ndef long():\n{body}\n")
    assert _long_functions(tmp_path, tmp_path) == [
        f"m.py:5 long ({MAX_FUNCTION_LINES + 1} lines)"
    ]
