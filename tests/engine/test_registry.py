"""The registry is built explicitly from modules: decorating a function only declares it;
names are unique; actions, audiences and flow modules declare the events they emit; the
project's registry comes from ``[tool.journeykit]`` and includes ``flows/*.py``."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from journeykit.engine.registry import Registry, RegistryError, action, audience, emits
from journeykit.language.checks import validate_paths
from journeykit.language.event_types import event_catalog
from journeykit.service.registry_loader import (
    RegistryConfig,
    RegistryConfigError,
    declares_something,
    load_registry,
    project_registry,
    read_registry_config,
)

ROOT = Path(__file__).parents[2]


def _module(name: str, **members: object) -> types.ModuleType:
    module = types.ModuleType(name)
    vars(module).update(members)
    return module


def test_declaring_registers_nothing_until_a_registry_reads_the_module() -> None:
    @action("ship_gift", emits=["gift.shipped"])
    def ship_gift(ctx: object) -> None:
        return None

    @audience()
    def vip_buyers(**kwargs: object) -> list[object]:
        return []

    assert "ship_gift" not in project_registry().action_names()
    registry = Registry.from_modules(
        [_module("gifts", ship_gift=ship_gift, vip_buyers=vip_buyers, EMITS=emits("gift.wrapped"))]
    )
    assert registry.get_action("ship_gift") is ship_gift
    assert registry.get_audience("vip_buyers") is vip_buyers  # the function's name by default
    assert registry.declared_events() == {"gift.shipped", "gift.wrapped"}
    with pytest.raises(RegistryError, match="no action named 'nope'"):
        registry.get_action("nope")


def test_one_name_two_functions_is_an_error_naming_both_modules() -> None:
    @action("same")
    def first(ctx: object) -> None:
        return None

    @action("same")
    def second(ctx: object) -> None:
        return None

    registry = Registry.from_modules([_module("a", first=first)])
    registry.add_module(_module("a_again", first=first))  # the same function: fine
    with pytest.raises(RegistryError, match="declared twice: in a and in b"):
        registry.add_module(_module("b", second=second))


def test_the_project_registry_holds_the_builtin_actions_and_their_events() -> None:
    registry = project_registry()
    assert {"cancel_order", "issue_store_credit", "restock_wave"} <= registry.action_names()
    assert {"restock_signups", "backorders_with_sku", "carts_with_sku"} <= (
        registry.audience_names()
    )
    assert "order.cancelled" in registry.declared_events()  # cancel_order emits it
    assert read_registry_config(ROOT / "pyproject.toml") == RegistryConfig(
        action_modules=("journeykit.actions",), flow_modules=("flows/*.py",)
    )


FLOW = """
from journeykit.engine.registry import action


@action("send_gift_card", emits=["gift_card.sent"])
def send_gift_card(ctx, amount=10):
    return {"gift_card": amount}
"""

JOURNEY = """\
name: gift
trigger: {event: order.placed}
subject: order
exit_when: [order.cancelled, gift_card.sent]
nodes:
  - {id: give, type: call, action: send_gift_card, next: wait}
  - id: wait
    type: wait_for
    outcomes:
      - {event: gift_card.sent, next: done}
    timeout: 1d
    on_timeout: done
  - {id: done, type: exit}
"""


def _project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.journeykit]\naction_modules = ["journeykit.actions"]\n'
        'flow_modules = ["flows/*.py"]\n'
    )
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "gift_flow_for_test.py").write_text(FLOW)
    (tmp_path / "journeys").mkdir()
    (tmp_path / "journeys" / "gift.yaml").write_text(JOURNEY)
    return tmp_path


def test_an_action_in_a_flow_module_is_known_to_validate(tmp_path: Path) -> None:
    project = _project(tmp_path)
    registry = load_registry(read_registry_config(project / "pyproject.toml"), project)
    assert "send_gift_card" in registry.action_names()
    found = validate_paths(
        [project / "journeys"],
        templates_dir=project,
        known_actions=registry.action_names(),
        known_audiences=registry.audience_names(),
        known_events=event_catalog(registry.declared_events()),
    )
    assert found == []
    # without the flow module, validate names both the action and the event
    found = validate_paths(
        [project / "journeys"],
        templates_dir=project,
        known_actions=project_registry().action_names(),
        known_audiences=project_registry().audience_names(),
    )
    messages = " | ".join(e.message for e in found)
    assert "'send_gift_card', which is not a registered action" in messages
    assert "names 'gift_card.sent', which is not a known event" in messages


def test_a_malformed_configuration_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.journeykit]\naction_module = ["x"]\n')
    with pytest.raises(RegistryConfigError, match=r"\[tool.journeykit\]"):
        read_registry_config(tmp_path / "pyproject.toml")
    config = RegistryConfig(action_modules=("journeykit.no_such_module",), flow_modules=())
    with pytest.raises(RegistryConfigError, match="cannot be imported"):
        load_registry(config, tmp_path)


def test_building_the_project_registry_does_not_load_prefect() -> None:
    """The shipped flows/*.py declare no action: they are Prefect entry points, read, not
    imported, so an engine, web or dispatcher process does not carry Prefect (~190 MB)."""
    code = (
        "import sys\n"
        "from journeykit.service.registry_loader import project_registry\n"
        "registry = project_registry()\n"
        "assert 'restock_wave' in registry.action_names(), registry.action_names()\n"
        "print('prefect' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False", done.stderr


def test_a_flow_file_is_imported_when_it_declares(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(
        "from journeykit.orchestration.flows import journey_flow\nf = journey_flow('a')\n"
    )
    (tmp_path / "called.py").write_text("from r import registry\nregistry.action('a')(print)\n")
    (tmp_path / "broken.py").write_text("def (:\n")
    (tmp_path / "reexport.py").write_text("from shop.actions import gift  # a declared action\n")
    (tmp_path / "relative.py").write_text("from .helpers import gift\n")
    (tmp_path / "entry.py").write_text(
        "from __future__ import annotations\nimport prefect\n"
        "from journeykit.orchestration.flows import journey_flow\nf = journey_flow('a')\n"
    )
    assert not declares_something(tmp_path / "entry.py")
    assert declares_something(tmp_path / "reexport.py")  # it may re-export a declaration
    assert declares_something(tmp_path / "relative.py")
    assert declares_something(tmp_path / "called.py")
    assert declares_something(tmp_path / "broken.py")  # imported, so its error is reported
    assert declares_something(tmp_path / "gift.py") is True  # unreadable: imported too
