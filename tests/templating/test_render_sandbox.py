"""A marketer's template cannot reach Python internals: the Jinja environment is sandboxed
(and immutable), autoescaped for HTML, and strict about undefined names."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeykit.templating.render import TemplateRenderer, TemplateRenderError

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ product.__dict__ }}",
    "{{ product.title.__class__.__base__ }}",
    "{% set x = product.tags.append('owned') %}{{ product.tags }}",
    "{{ self._TemplateReference__context }}",
    "{{ request.application.__globals__ }}",
]


def renderer_with(tmp_path: Path, body: str) -> TemplateRenderer:
    (tmp_path / "promo").mkdir(parents=True, exist_ok=True)
    (tmp_path / "promo" / "hi.en.sms.txt").write_text(body)
    return TemplateRenderer(tmp_path)


@pytest.mark.parametrize("body", ESCAPES)
def test_template_cannot_reach_python_internals(tmp_path: Path, body: str) -> None:
    renderer = renderer_with(tmp_path, body)
    context = {"product": {"title": "Sofa", "tags": ["a"]}}
    with pytest.raises(TemplateRenderError):
        rendered = renderer.render_sms("promo/hi", "en", context)
        pytest.fail(f"rendered {rendered.body!r}")  # pragma: no cover
    assert context["product"]["tags"] == ["a"]


def test_missing_variable_fails_instead_of_rendering_blank(tmp_path: Path) -> None:
    renderer = renderer_with(tmp_path, "Hi {{ customer.first_nme }}")
    with pytest.raises(TemplateRenderError, match="first_nme"):
        renderer.render_sms("promo/hi", "en", {"customer": {"first_name": "Ana"}})


def test_html_is_autoescaped(tmp_path: Path) -> None:
    (tmp_path / "_layouts").mkdir()
    (tmp_path / "_layouts" / "email.html").write_text(
        "<html><body>{% block body %}{% endblock %}</body></html>"
    )
    (tmp_path / "promo").mkdir()
    (tmp_path / "promo" / "hi.en.email.html").write_text(
        '{% extends "_layouts/email.html" %}{% block subject %}Hi{% endblock %}'
        "{% block body %}<p>{{ name }}</p>{% endblock %}"
    )
    html = TemplateRenderer(tmp_path).render_email("promo/hi", "en", {"name": "<script>x"}).html
    assert "<script>x" not in html and "&lt;script&gt;x" in html
