"""A template that tries to exhaust memory or CPU (``{{ 'a' * 10**9 }}``, nested loops, huge
paddings) fails fast with a clear error everywhere a template is used: the validator (for
the literal cases it can evaluate), ``journeys preview``, the renderer, and the send path
(that enrollment fails, the rest of its group is sent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from journeykit.authoring.preview import render_messages
from journeykit.authoring.sample import PreviewInput
from journeykit.foundation.models import Enrollment, OutboxMessage
from journeykit.foundation.settings import PROJECT_ROOT, Settings
from journeykit.language.loading import load_journey
from journeykit.templating.errors import TemplateRenderError
from journeykit.templating.render import TemplateRenderer
from tests.engine.conftest import PRODUCT, Harness, email, order_placed
from tests.hardening.shipped_templates import CONTEXT, EMAIL, SMS, inject, validate

BOMBS = [
    "{{ 'a' * 10**9 }}",
    "{{ 10**(10**10) }}",
    "{{ 'x'|center(10**9) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ 'x'.ljust(10**9) }}",
    "{{ 'ab'|indent(10**9) }}",
    "{{ ('a' * 1000)|wordwrap(10**9) }}",
    "{% for i in range(10**5) %}{% for j in range(10**5) %}x{% endfor %}{% endfor %}",
    "{{ (['a' * 999999] * 100000)|join }}",
    "{{ [0] * 10**9 }}",
]

RESTOCK = [PROJECT_ROOT / "journeys" / "restock.yaml"]


@pytest.mark.parametrize("payload", BOMBS)
@pytest.mark.parametrize("name", [SMS, EMAIL])
def test_the_renderer_refuses_each_bomb_at_its_line(
    templates: Path, name: str, payload: str
) -> None:
    line = inject(templates, name, payload)
    renderer = TemplateRenderer(templates)
    render = renderer.render_sms if name == SMS else renderer.render_email
    with pytest.raises(TemplateRenderError) as refused:
        render("restock/back_in_stock", "en", CONTEXT)
    message = str(refused.value)
    assert message.startswith(f"templates/{name}:{line}: TemplateLimitError: ")
    assert "template limit" in message and "Traceback" not in message


@pytest.mark.parametrize("payload", BOMBS)
def test_the_validator_catches_the_literal_ones(templates: Path, payload: str) -> None:
    line = inject(templates, SMS, payload)
    mine = [e for e in validate(RESTOCK, templates) if e.path.endswith(SMS)]
    assert mine, f"{payload} passed validation"
    assert all(e.line == line and "template limit" in e.message for e in mine)
    assert f"{SMS}:{line}:" in mine[0].format()


def test_the_validator_leaves_data_driven_loops_to_the_renderer(templates: Path) -> None:
    inject(templates, SMS, "{% for p in product.tags %}{{ p * 3 }}{% endfor %}")
    assert not [e for e in validate(RESTOCK, templates) if "template limit" in e.message]


def test_shipped_templates_hit_no_limit() -> None:
    errors = validate([PROJECT_ROOT / "journeys"], PROJECT_ROOT / "templates")
    assert not [e for e in errors if "template limit" in e.message]


def test_preview_reports_the_limit_on_the_message(templates: Path) -> None:
    line = inject(templates, EMAIL, "{{ 'x'.ljust(10**9) }}")
    journey = load_journey(PROJECT_ROOT / "journeys" / "restock.yaml")
    settings = Settings().with_changes({"templates.dir": templates})
    messages = render_messages(journey, settings, PreviewInput())
    failed = [m for m in messages if m.error]
    assert failed and all(m.channel == "email" for m in failed)
    assert f"{EMAIL}:{line}: TemplateLimitError: str.ljust()" in str(failed[0].error)


FLOW = """
name: receipt
trigger: {event: order.placed}
subject: order
category: transactional
nodes:
  - {id: receipt, type: send, channel: email, template: t/receipt, next: done}
  - {id: done, type: exit}
"""


def test_the_send_path_fails_that_enrollment_and_sends_the_rest(tmp_path: Path) -> None:
    bomb = "{% if customer.first_name == 'Mallory' %}{{ 'a' * 10**9 }}{% endif %}"
    h = Harness(tmp_path, [FLOW], {"t/receipt.en.email.html": email("Order", "Hi" + bomb)})
    try:
        h.emit(PRODUCT)
        h.emit(order_placed("1001", customer="C-1"))
        mallory = order_placed("1002", customer="C-2")
        mallory["customer"]["first_name"] = "Mallory"
        h.emit(mallory)
        report = h.sweep()
        assert len(report.errors) == 1 and "repetition (*)" in report.errors[0]
        with h.session() as s:
            by_status = {e.subject_key: (e.status, e.error) for e in s.exec(select(Enrollment))}
            sent = [r.enrollment_id for r in s.exec(select(OutboxMessage))]
        assert sorted(status for status, _ in by_status.values()) == ["completed", "failed"]
        failed = next(error for status, error in by_status.values() if status == "failed")
        assert "t/receipt.en.email.html" in failed and "template limit" in failed
        assert len(sent) == 1
    finally:
        h.engine.dispose()
