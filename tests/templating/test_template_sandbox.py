"""The hardened template sandbox refuses resource bombs (memory, CPU, output) with a clear
error, before building anything big, and renders ordinary templates as before."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from journeykit.templating.render import TemplateRenderer, TemplateRenderError
from journeykit.templating.sandbox import (
    HardenedEnvironment,
    TemplateLimitError,
    TemplateLimits,
)

# (template, words the error must contain): the bombs of the brief and their cousins
BOMBS = [
    ("{{ 'a' * 10**9 }}", "repetition"),
    ("{{ 10**(10**10) }}", "number"),
    ("{% set n = 10**10 %}{{ n ** n }}", "number"),
    (
        "{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}"
        "{% endfor %}",
        "number",
    ),
    ("{{ 'x'|center(10**9) }}", "|center"),
    ("{{ 'x'|center(1000000000) }}", "|center"),  # a literal: folded at compile time otherwise
    ("{{ '{:>999999999}'.format(1) }}", "format width"),
    ("{{ '{:{w}}'.format(1, w=10**9) }}", "format width"),
    ("{{ '{:.999999999f}'.format(1.5) }}", "format width"),
    ("{{ 'x'.ljust(10**9) }}", "ljust"),
    ("{{ 'x'.rjust(10**9) }}", "rjust"),
    ("{{ 'x'.center(10**9) }}", "center"),
    ("{{ '1'.zfill(10**9) }}", "zfill"),
    ("{{ 'a\\tb'.expandtabs(10**9) }}", "expandtabs"),
    ("{{ ('a' * 999999).replace('a', 'bb') }}", "replace"),
    ("{{ 'ab'.replace('', 'x' * 999999) }}", "replace"),
    ("{{ 'ab'|indent(10**9) }}", "|indent"),
    ("{{ ('a\\n' * 400000)|indent(100) }}", "|indent"),
    ("{{ ('a' * 1000)|wordwrap(10**9) }}", "|wordwrap"),
    ("{{ ('a' * 999999)|wordwrap(1, wrapstring='xx') }}", "|wordwrap"),
    ("{{ 'x'|truncate(10**9) }}", "|truncate"),
    ("{{ '%999999999d' % 1 }}", "%-format"),
    ("{{ '%.*f' % (10**9, 1.5) }}", "%-format"),
    ("{{ '%999999999d'|format(1) }}", "%-format"),
    ("{% for i in range(10**5) %}{% for j in range(10**5) %}x{% endfor %}{% endfor %}", "range"),
    ("{{ range(10**20)|list }}", "range"),
    ("{{ [1] * 10**9 }}", "repetition"),
    ("{{ ([[1] * 100000] * 100000)|sum(start=[]) }}", "sum"),
    ("{{ (['a' * 999999] * 100000)|join }}", "joined text"),
    ("{{ ''.join(['a' * 999999] * 100000) }}", "joined text"),
    ("{{ ([['a' * 10] * 100000] * 100000)|map('join')|list|length }}", "add up to"),
    (
        "{% set ns = namespace(a='x') %}{% for i in range(40) %}{% set ns.a = ns.a ~ ns.a %}"
        "{% endfor %}",
        "joined string",
    ),
    (
        "{% set ns = namespace(a='x') %}{% for i in range(40) %}{% set ns.a = ns.a + ns.a %}"
        "{% endfor %}",
        "concatenation",
    ),
    (
        "{% set ns = namespace(l=[]) %}{% for i in range(10000) %}"
        "{% set ns.l = ns.l + ['x' * 999999 ~ i] %}{% endfor %}",
        "add up to",
    ),
    ("{% for i in range(10000) %}{{ 'x' * 1000 }}{% endfor %}", "rendered text"),
    ("{{ [1]|batch(10**9, 0)|list }}", "batch"),
    ("{{ [1]|slice(10**9)|list }}", "slice"),
    ("{{ (1).to_bytes(10**9, 'big') }}", "to_bytes"),
    ("{{ lipsum(10**6) }}", "lipsum"),
    ("{{ {'a': 1}|tojson(indent=10**9) }}", "tojson"),
    ("{{ ('x' * 999999).translate({120: 'yy'}) }}", "translate"),
]


def hardened(**limits: float) -> HardenedEnvironment:
    return HardenedEnvironment(undefined=StrictUndefined, limits=TemplateLimits(**limits))  # type: ignore[arg-type]


@pytest.mark.parametrize(("source", "words"), BOMBS)
def test_each_bomb_fails_fast_with_a_clear_error(source: str, words: str) -> None:
    with pytest.raises(TemplateLimitError) as refused:
        hardened().from_string(source).render()
    message = str(refused.value)
    assert words in message
    assert "limit" in message


def test_the_error_says_what_the_limit_is_and_what_to_do() -> None:
    with pytest.raises(TemplateLimitError) as refused:
        hardened().from_string("{{ 'a' * 10**9 }}").render()
    assert str(refused.value) == (
        "a repetition (*) would be 1,000,000,000 characters (the template limit is 1,000,000); "
        "a message never needs values this large: take the repetition or padding out"
    )


class StepClock:
    """A clock that moves ``step`` seconds each time it is read: a render's time budget runs
    out after a known number of checks, whatever the machine's speed."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


CPU_BOMBS = [
    "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "{% macro f(n) %}{% if n < 40 %}{{ f(n + 1) }}{{ f(n + 1) }}{% endif %}{% endmacro %}"
    "{{ f(0) }}",
    "{% for i in range(10000) %}{% for c in 'x' * 100000 %}{% endfor %}{% endfor %}",
]


@pytest.mark.parametrize("source", CPU_BOMBS)
def test_a_render_over_its_time_budget_stops(source: str) -> None:
    env = HardenedEnvironment(limits=TemplateLimits(seconds=2.0), clock=StepClock(0.001))
    with pytest.raises(TemplateLimitError, match=r"took longer than the template limit of 2 s"):
        env.from_string(source).render()


def test_the_time_budget_is_per_render_not_per_environment() -> None:
    clock = StepClock(0.0005)
    env = HardenedEnvironment(limits=TemplateLimits(seconds=2.0), clock=clock)
    template = env.from_string("{% for i in range(1000) %}{{ i }}{% endfor %}")
    for _ in range(5):  # 5 x ~2,000 checks of 0.5 ms: five budgets' worth, each within one
        assert template.render().endswith("999")


def test_range_is_capped_at_ten_thousand() -> None:
    env = hardened()
    assert env.from_string("{{ range(10000)|list|length }}").render() == "10000"
    with pytest.raises(TemplateLimitError, match="range"):
        env.from_string("{{ range(10001)|list|length }}").render()


def test_the_sms_output_limit_is_smaller(tmp_path: Path) -> None:
    (tmp_path / "promo").mkdir()
    body = "{% for i in range(300) %}{{ 'x' * 100 }}{% endfor %}"
    (tmp_path / "promo" / "hi.en.sms.txt").write_text(body)
    renderer = TemplateRenderer(tmp_path, limits=TemplateLimits(max_sms=20_000))
    with pytest.raises(TemplateRenderError, match="longer than the template limit of 20,000"):
        renderer.render_sms("promo/hi", "en", {})


ORDINARY = [
    ("{{ 'ab' * 3 }}|{{ 2 ** 10 }}|{{ 7 % 3 }}|{{ 'a' + 'b' }}|{{ [1] + [2] }}", {}),
    ("{{ '%05.1f' % 3.14159 }}|{{ '%s and %s' % ('a', 'b') }}|{{ '%d%%'|format(5) }}", {}),
    ("{{ '{:>6}'.format('x') }}|{{ '{name}!'.format_map({'name': 'Ana'}) }}", {}),
    ("{{ 'x'.ljust(3, '.') }}|{{ '7'.zfill(3) }}|{{ 'a-b'.replace('-', '+') }}", {}),
    ("{{ 'hi'|center(6) }}|{{ 'a\nb'|indent(2) }}|{{ 'a b c'|wordwrap(3) }}", {}),
    ("{{ 'long text here'|truncate(9, leeway=0) }}|{{ items|join(', ') }}", {"items": [1, 2]}),
    (
        "{% for x in items if x > 1 %}{{ loop.index }}{{ x }}{% else %}-{% endfor %}",
        {"items": [1, 3]},
    ),
    ("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"a": 1, "b": 2}}),
    (
        "{{ items|map('upper')|join }}|{{ items|batch(2)|list }}|{{ items|map('length')|sum }}",
        {"items": ["a", "b", "c"]},
    ),
    ("{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(1) ~ m(2) }}", {}),
    ("{{ lipsum(1, false, 5, 9)|length > 0 }}", {}),
    (
        "{{ (a ~ b)|length }}|{{ ''.join(['x', 'y']) }}|{{ {'a': [1]}|tojson(2) }}",
        {"a": "12", "b": "3"},
    ),
    ("{% for i in range(3) recursive %}{{ i }}{% endfor %}|{{ range(2, 9, 3)|list }}", {}),
]


@pytest.mark.parametrize(("source", "context"), ORDINARY)
def test_ordinary_templates_render_as_in_the_plain_sandbox(source: str, context: dict) -> None:
    plain = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    expected = plain.from_string(source).render(context)
    assert hardened().from_string(source).render(context) == expected


def test_autoescaping_still_applies_to_format_and_joins() -> None:
    env = HardenedEnvironment(autoescape=True, limits=TemplateLimits())
    rendered = env.from_string(
        "{{ fmt.format(x) }}|{{ x ~ '!' }}|{{ [x, x]|join(sep) }}|{{ '%s'|format(x) }}"
    ).render(fmt=Markup("<b>{}</b>"), x="<i>", sep=Markup("<br>"))
    assert rendered == "<b>&lt;i&gt;</b>|&lt;i&gt;!|&lt;i&gt;<br>&lt;i&gt;|&lt;i&gt;"


def test_journey_expressions_are_limited_too() -> None:
    from journeykit.templating.expressions import holds

    assert holds("order.total > 5000", {"order": {"total": 6000}})
    with pytest.raises(TemplateLimitError):
        holds("('a' * 10**9)|length > 1", {})


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(max_size=30),
    width=st.integers(min_value=-5, max_value=3_000_000),
    count=st.integers(min_value=-3, max_value=3_000_000),
    filter_=st.sampled_from(["center", "indent", "truncate", "wordwrap"]),
)
def test_hypothesis_sizes_either_render_within_limits_or_refuse(
    text: str, width: int, count: int, filter_: str
) -> None:
    """Any width or repeat count: the result fits the limits, or a TemplateLimitError (or
    the ordinary error Python raises for a bad argument) comes before anything is built."""
    env = hardened(max_string=1_000_000)
    sources: list[Callable[[], str]] = [
        lambda: env.from_string("{{ t * n }}").render(t=text, n=count),
        lambda: env.from_string("{{ t.ljust(n) }}").render(t=text, n=count),
        lambda: env.from_string("{{ t|" + filter_ + "(n) }}").render(t=text, n=width),
        lambda: env.from_string("{{ '{:>" + str(abs(width)) + "}'.format(t) }}").render(t=text),
    ]
    for render in sources:
        try:
            out = render()
        except TemplateLimitError:
            continue
        except (ValueError, TypeError, OverflowError, AssertionError):
            continue  # Jinja's or Python's own refusal of a bad argument
        assert len(out) <= 1_000_000
