"""A template that climbs from its data into Python's objects is refused twice: by the
validator (an error at the template's file:line) and by the renderer's sandbox."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from journeykit.channels.render import TemplateRenderer
from journeykit.channels.render_errors import TemplateRenderError
from journeykit.engine.registry import known_action_names, known_audience_names
from journeykit.settings import PROJECT_ROOT
from journeykit.spec.check import validate_paths

SMS = "restock/back_in_stock.en.sms.txt"
EMAIL = "restock/back_in_stock.en.email.html"
ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__['os'] }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ customer|attr('__class__') }}",
    "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{% set c = ''.__class__ %}{{ c }}",
    "{{ namespace.__init__ }}",
    "{{ customer['__class__'] }}",
    "{{ customer.first_name.format.__self__ }}",
]
CONTEXT = {
    "customer": {"first_name": "Ana"},
    "store": {"name": "Shop"},
    "product": {"title": "Lamp"},
    "variant": {"cart_url": "https://shop.example/cart"},
}


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    root = tmp_path / "templates"
    shutil.copytree(PROJECT_ROOT / "templates", root)
    return root


def _inject(root: Path, name: str, payload: str) -> int:
    """Put ``payload`` into a shipped template where it is rendered (an email's subject
    block, an SMS's first line); returns that line."""
    path = root / name
    text = path.read_text(encoding="utf-8")
    if "{% block subject %}" in text:
        text = text.replace("{% block subject %}", "{% block subject %}" + payload, 1)
        path.write_text(text, encoding="utf-8")
        return text[: text.index(payload)].count("\n") + 1
    path.write_text(payload + "\n" + text, encoding="utf-8")
    return 1


@pytest.mark.parametrize("payload", ESCAPES)
def test_validator_rejects_reaching_python_internals(templates: Path, payload: str) -> None:
    line = _inject(templates, SMS, payload)
    errors = validate_paths(
        [PROJECT_ROOT / "journeys" / "restock.yaml"],
        templates_dir=templates,
        known_actions=known_action_names(),
        known_audiences=known_audience_names(),
    )
    mine = [e for e in errors if e.path.endswith(SMS)]
    assert mine, f"{payload} passed validation"
    assert all(e.line == line and "Python internals" in e.message for e in mine)
    assert all(f"{SMS}:{line}:" in e.format() for e in mine)


@pytest.mark.parametrize("payload", ESCAPES)
@pytest.mark.parametrize("name", [SMS, EMAIL])
def test_renderer_sandbox_refuses_them(templates: Path, payload: str, name: str) -> None:
    line = _inject(templates, name, payload)
    renderer = TemplateRenderer(templates)
    render = renderer.render_sms if name == SMS else renderer.render_email
    with pytest.raises(TemplateRenderError) as refused:
        render("restock/back_in_stock", "en", CONTEXT)
    assert f"{name}:{line}" in str(refused.value)
    assert "Traceback" not in str(refused.value)


def test_shipped_templates_pass_the_check() -> None:
    errors = validate_paths(
        [PROJECT_ROOT / "journeys"],
        templates_dir=PROJECT_ROOT / "templates",
        known_actions=known_action_names(),
        known_audiences=known_audience_names(),
    )
    assert not [e for e in errors if "Python internals" in e.message]
