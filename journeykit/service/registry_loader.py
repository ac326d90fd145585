"""The project's one registry, built from configuration: ``[tool.journeykit]`` in
pyproject.toml names the Python modules whose actions, audiences and declared events it holds::

    [tool.journeykit]
    action_modules = ["journeykit.actions"]   # importable modules or packages (all submodules)
    flow_modules = ["flows/*.py"]              # files, globs relative to the project root

``journeys validate``, the simulator, the preview, the worker and the web app all get the
registry from ``project_registry()``, so an ``@action`` in ``flows/restock.py`` is known to
every one of them. Nothing is registered by importing a module: the loader reads what the
modules declare (``journeykit.engine.registry``)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from journeykit.engine.registry import Registry
from journeykit.foundation.settings import PROJECT_ROOT


class RegistryConfigError(ValueError):
    """``[tool.journeykit]`` is malformed, or a module it names cannot be loaded."""


class RegistryConfig(BaseModel):
    """``[tool.journeykit]``: where the registry's Python comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action_modules: tuple[str, ...] = Field(
        ("journeykit.actions",), description="importable modules or packages (all submodules)"
    )
    flow_modules: tuple[str, ...] = Field(
        ("flows/*.py",), description="Python files (globs) relative to the project root"
    )


def read_registry_config(pyproject: Path) -> RegistryConfig:
    """The ``[tool.journeykit]`` table of ``pyproject`` (defaults when absent)."""
    if not pyproject.is_file():
        return RegistryConfig()
    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        return RegistryConfig.model_validate(table.get("tool", {}).get("journeykit", {}))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise RegistryConfigError(f"{pyproject}: [tool.journeykit]: {exc}") from exc


def load_registry(config: RegistryConfig, root: Path) -> Registry:
    """Import the configured modules and register what they declare."""
    return Registry.from_modules(configured_modules(config, root))


@cache
def project_registry(root: Path = PROJECT_ROOT) -> Registry:
    """The registry of the project at ``root`` (its pyproject.toml), loaded once per process."""
    return load_registry(read_registry_config(root / "pyproject.toml"), root)


def configured_modules(config: RegistryConfig, root: Path) -> Iterator[ModuleType]:
    """The action modules, and the flow files that declare an action or an audience. A flow
    file that declares none is a Prefect entry point only: importing it would load Prefect
    (~190 MB, seconds) into every process that builds a runtime (engine, web, dispatchers)
    for nothing, so it is read, not imported."""
    for name in config.action_modules:
        yield from _package_modules(name)
    for pattern in config.flow_modules:
        for path in sorted(root.glob(pattern)):
            if path.suffix == ".py" and path.is_file() and declares_something(path):
                yield _file_module(path)


DECLARATIONS = frozenset({"action", "audience"})
# What a Prefect entry point imports: a file importing only from these declares nothing
ENTRY_POINT_IMPORTS = ("journeykit.orchestration", "prefect", "__future__")


def declares_something(path: Path) -> bool:
    """May the file declare an action or an audience? Yes when it calls ``action`` or
    ``audience`` (as a decorator or a call, by name or as an attribute, e.g.
    ``registry.action``), or imports from anywhere but Prefect and Journeykit's
    orchestration (it may re-export a declared function). A file that cannot be parsed is
    imported, so its error is reported where it is."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in DECLARATIONS:
                return True
        elif isinstance(node, ast.ImportFrom):
            if node.level or not _entry_point_import(node.module or ""):
                return True
        elif isinstance(node, ast.Import) and not all(
            _entry_point_import(alias.name) for alias in node.names
        ):
            return True
    return False


def _entry_point_import(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in ENTRY_POINT_IMPORTS)


def _package_modules(name: str) -> Iterator[ModuleType]:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise RegistryConfigError(f"action module {name!r} cannot be imported: {exc}") from exc
    yield module
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=f"{name}."):
        yield importlib.import_module(info.name)


def _file_module(path: Path) -> ModuleType:
    """Import a Python file once per process, as ``journeykit_flows_<stem>``."""
    name = f"journeykit_flows_{path.stem}"
    loaded = sys.modules.get(name)
    if loaded is not None and Path(getattr(loaded, "__file__", "")) == path.resolve():
        return loaded
    spec = importlib.util.spec_from_file_location(name, path.resolve())
    if spec is None or spec.loader is None:
        raise RegistryConfigError(f"flow module {path} cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[name]
        raise
    return module
