"""Emails and SMS rendered from shapes (``reuse_shape``) are byte for byte the direct render:
for every shipped template the test contexts can render, with names that fill a slot and
names that must be rendered directly; and a template that does more with a recipient's
value than print or test it gets no plan (``templating/slots.py``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from journeykit.templating.render import TemplateRenderer
from journeykit.templating.slots import slot_plan, slot_value
from tests.templating.test_render import make_context

TEMPLATES = Path(__file__).parents[2] / "templates"
NAMES = [
    "Ana",
    "Ana & Bo",
    "",
    "민준",
    "Zoë  x",
    "Bob Smith",
    "#1",
    "mailto:a@b.c",
    "amp",
    "O'Neil",
]
LOCALES = ["en", "ko", "ja-JP", "en-GB"]


def _context(first_name: str, n: int) -> dict[str, Any]:
    context = make_context(customer={"first_name": first_name, "timezone": "UTC"})
    context["unsubscribe_url"] = f"https://jk.example/u/tok{n}"
    context["preferences_url"] = f"https://jk.example/preferences/tok{n}"
    context["links"] = {k: f"{v}?n={n}" for k, v in context["links"].items()}
    context.setdefault("product", {"title": "Lamp – “Oak”", "image_url": "https://x/i.png"})
    context.setdefault(
        "variant",
        {"title": "Red", "url": "https://x/v", "cart_url": "https://x/c"}
        | {"price_cents": 1200, "currency": "USD", "inventory": 3},
    )
    return context


def _rendered(render: Any, name: str, locale: str, context: dict[str, Any], **kw: Any) -> Any:
    try:
        return render(name, locale, context, **kw)
    except Exception as exc:  # the same error both ways
        return type(exc), str(exc)


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_every_shipped_template_renders_the_same_from_its_shape(channel: str) -> None:
    direct, shaped = TemplateRenderer(TEMPLATES), TemplateRenderer(TEMPLATES)
    suffix = "email.html" if channel == "email" else "sms.txt"
    names = sorted(
        {str(p.relative_to(TEMPLATES)).split(".")[0] for p in TEMPLATES.glob(f"*/*.{suffix}")}
    )
    rendered = 0
    for name in names:
        for locale in LOCALES:
            for n, first_name in enumerate(NAMES):
                context = _context(first_name, n)
                if channel == "email":
                    want = _rendered(direct.render_email, name, locale, context)
                    got = _rendered(shaped.render_email, name, locale, context, reuse_shape=True)
                else:
                    want = _rendered(direct.render_sms, name, locale, context)
                    got = _rendered(shaped.render_sms, name, locale, context, reuse_shape=True)
                assert got == want, (name, locale, first_name)
                rendered += not isinstance(want, tuple)
    assert rendered >= 100
    reused = [p for p in shaped._plans.values() if p.plan is not None and p.fills > p.shapes]
    assert len(reused) >= 3  # shapes were made and filled more than once


def _plan_of(tmp_path: Path, source: str) -> Any:
    (tmp_path / "t").mkdir(exist_ok=True)
    (tmp_path / "t" / "x.en.email.html").write_text(source)
    return slot_plan(TemplateRenderer(tmp_path / "t").env, "x.en.email.html")


@pytest.mark.parametrize(
    "source",
    [
        "{{ customer.first_name | upper }}",
        "{% if customer.first_name == 'Ana' %}hi{% endif %}",
        "{% set n = customer.first_name %}{{ n }}",
        "{% set n %}{{ customer.first_name }}{% endset %}{{ n | upper }}",
        "{{ customer }}",
        "{{ customer['first_name'] }}",
        "{{ customer.items() }}",
        "{{ links.buy.upper() }}",
        "{% for c in customer %}{{ c }}{% endfor %}",
        "{% include 'other.html' %}{{ customer.first_name }}",
        "{{ unsubscribe_url | length }}",
        "{% macro m(customer) %}{{ customer }}{% endmacro %}{{ m(1) }}",
    ],
)
def test_a_value_used_beyond_printing_or_testing_gets_no_plan(tmp_path: Path, source: str) -> None:
    assert _plan_of(tmp_path, source) is None


def test_printed_and_tested_values_are_slots(tmp_path: Path) -> None:
    source = (
        "{{ 'Hi, ' ~ customer.first_name if customer.first_name else 'Hi' }} {{ product.title }}"
        "{% if unsubscribe_url is defined and unsubscribe_url %}{{ unsubscribe_url }}{% endif %}"
        "{{ links.buy }}"
    )
    plan = _plan_of(tmp_path, source)
    assert plan is not None
    assert set(plan.slots) == {
        ("customer", "first_name"),
        ("unsubscribe_url", None),
        ("links", "buy"),
    }
    assert plan.keyed == ("product",)


@pytest.mark.parametrize(
    ("value", "fills"),
    [
        ("Ana", True),
        ("Ann Lee", True),
        ("민준", True),
        ("https://jk.example/u/a.b-c_d", True),
        ("", False),
        ("Ana & Bo", False),
        ("Ann  Lee", False),
        (" Ann", False),
        ("<b>", False),
        ("O'Neil", False),
        ("a;b", False),
        ("#top", False),
        ("MAILTO:a@b.c", False),
        ("a\u00a0b", False),
        ("x" * 5000, False),
    ],
)
def test_only_plain_values_fill_a_slot(value: str, fills: bool) -> None:
    got = slot_value({"customer": {"first_name": value}}, ("customer", "first_name"))
    assert (got == value) is fills


def test_a_slot_after_an_open_entity_is_rendered_directly(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "x.en.email.html").write_text(
        "{% block subject %}S{% endblock %}<p>&{{ customer.first_name }};</p>"
    )
    shaped, direct = TemplateRenderer(tmp_path / "t"), TemplateRenderer(tmp_path / "t")
    for n in range(4):
        context = {"customer": {"first_name": "amp"}, "n": n}
        want = direct.render_email("x", "en", context)
        assert shaped.render_email("x", "en", context, reuse_shape=True) == want
    assert not shaped._shapes


@pytest.mark.parametrize(
    "body",
    [
        '<a href="https://shop.example">{{ customer.first_name }}</a>',  # label = target
        '<a href="{{ customer.first_name }}">https://shop.example</a>',
        '<a class="{{ customer.first_name }}" href="https://x.example">Go</a>',  # a button
        '<p style="color: {{ customer.first_name }}">Hi</p>',  # read by CSS inlining
        "<style>.{{ customer.first_name }} { color: red; }</style><p class=big>Hi</p>",
    ],
)
def test_a_value_that_changes_how_a_link_or_style_reads_is_rendered_directly(
    tmp_path: Path, body: str
) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "x.en.email.html").write_text(
        f"{{% block subject %}}S{{% endblock %}}<html><body>{body}</body></html>"
    )
    shaped, direct = TemplateRenderer(tmp_path / "t"), TemplateRenderer(tmp_path / "t")
    names = ["Ana", "Bo", "Cy", "https://shop.example", "button", "big", "red", "Dee"]
    for n, name in enumerate(names):
        context = {"customer": {"first_name": name}, "n": n}
        want = direct.render_email("x", "en", context)
        assert shaped.render_email("x", "en", context, reuse_shape=True) == want, name


def test_an_edited_layout_is_picked_up_by_shaped_renders(tmp_path: Path) -> None:
    """A shape holds its layout too: when only the layout file changes, the next shaped
    render uses the new one, as a direct render does."""
    root = tmp_path / "t"
    (root / "_layouts").mkdir(parents=True)
    layout = root / "_layouts" / "base.html"
    layout.write_text("<html><body>old {% block body %}{% endblock %}</body></html>")
    (root / "x.en.email.html").write_text(
        '{% extends "_layouts/base.html" %}{% block subject %}S{% endblock %}'
        "{% block body %}Hi {{ customer.first_name }}{% endblock %}"
    )
    shaped = TemplateRenderer(root)  # checks files on every render (the preview's way)
    for name in ["Ana", "Bo", "Cy"]:
        html = shaped.render_email("x", "en", {"customer": {"first_name": name}}, reuse_shape=True)
        assert f"old Hi {name}" in html.html.replace("\n", "")
    layout.write_text("<html><body>new {% block body %}{% endblock %}</body></html>")
    os.utime(layout, (layout.stat().st_atime + 5, layout.stat().st_mtime + 5))
    context = {"customer": {"first_name": "Dee"}}
    html = shaped.render_email("x", "en", context, reuse_shape=True).html
    assert html == TemplateRenderer(root).render_email("x", "en", context).html
    assert "new Hi Dee" in html.replace("\n", "")
