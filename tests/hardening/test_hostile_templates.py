"""A template that climbs from its data into Python's objects is refused twice: by the
validator (an error at the template's file:line) and by the renderer's sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeykit.foundation.settings import PROJECT_ROOT
from journeykit.templating.errors import TemplateRenderError
from journeykit.templating.render import TemplateRenderer
from tests.hardening.shipped_templates import CONTEXT, EMAIL, SMS, inject, validate

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


@pytest.mark.parametrize("payload", ESCAPES)
def test_validator_rejects_reaching_python_internals(templates: Path, payload: str) -> None:
    line = inject(templates, SMS, payload)
    errors = validate([PROJECT_ROOT / "journeys" / "restock.yaml"], templates)
    mine = [e for e in errors if e.path.endswith(SMS)]
    assert mine, f"{payload} passed validation"
    assert all(e.line == line and "Python internals" in e.message for e in mine)
    assert all(f"{SMS}:{line}:" in e.format() for e in mine)


@pytest.mark.parametrize("payload", ESCAPES)
@pytest.mark.parametrize("name", [SMS, EMAIL])
def test_renderer_sandbox_refuses_them(templates: Path, payload: str, name: str) -> None:
    line = inject(templates, name, payload)
    renderer = TemplateRenderer(templates)
    render = renderer.render_sms if name == SMS else renderer.render_email
    with pytest.raises(TemplateRenderError) as refused:
        render("restock/back_in_stock", "en", CONTEXT)
    assert f"{name}:{line}" in str(refused.value)
    assert "Traceback" not in str(refused.value)


def test_shipped_templates_pass_the_check() -> None:
    errors = validate([PROJECT_ROOT / "journeys"], PROJECT_ROOT / "templates")
    assert not [e for e in errors if "Python internals" in e.message]
