"""Template rendering: naming and locale fallback, the layout, plain text, filters, the sandbox
and error reporting."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pendulum
import pytest

from journeykit.templating.render import TemplateRenderer, TemplateRenderError, locale_chain
from journeykit.templating.text_part import html_to_text, html_to_text_html2text

FIXTURES = Path(__file__).parent / "fixtures" / "templates"
LAYOUTS = Path(__file__).parents[2] / "templates" / "_layouts"


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> TemplateRenderer:
    """The fixture templates next to the real layout."""
    root = tmp_path_factory.mktemp("render") / "templates"
    shutil.copytree(FIXTURES, root)
    shutil.copytree(LAYOUTS, root / "_layouts")
    return TemplateRenderer(root)


def make_context(**overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "customer": {"first_name": "Ana & Bo", "timezone": "America/New_York"},
        "store": {
            "name": "Lumen Goods",
            "url": "https://lumen.example",
            "support_email": "help@lumen.example",
        },
        "order": {
            "number": "1042",
            "total_cents": 1250,
            "currency": "USD",
            "delay_reason": "a <supplier> shipment slipped",
            "delivery_from": pendulum.datetime(2026, 3, 3, 12, tz="UTC"),
            "delivery_to": date(2026, 3, 7),
            "ship_from": date(2026, 3, 1),
            "ship_to": date(2026, 3, 2),
            "url": "https://lumen.example/orders/1042",
        },
        "lines": [{"title": "Lamp", "quantity": 2}],
        "links": {
            "expedite": "https://jk.example/a/1",
            "credit": "https://jk.example/a/2",
            "cancel": "https://jk.example/a/3",
        },
        "offer": {"expires_at": pendulum.datetime(2026, 3, 5, 3, tz="UTC")},
        "unsubscribe_url": "https://jk.example/u/abc",
        "preferences_url": "https://jk.example/preferences/abc",
        "locale": "en-US",
    }
    context.update(overrides)
    return context


# --- naming and locale fallback -------------------------------------------------------------


def test_locale_chain() -> None:
    assert locale_chain("ko-KR") == ["ko-KR", "ko", "en"]
    assert locale_chain("pt_BR") == ["pt-BR", "pt", "en"]
    assert locale_chain("en") == ["en"]
    assert locale_chain(None) == ["en"]


def test_template_paths(renderer: TemplateRenderer) -> None:
    root = renderer.templates_dir
    name = "delay_apology/apology"
    assert renderer.template_path(name, "email", "ko-KR") == root / f"{name}.ko.email.html"
    assert renderer.template_path(name, "email", "fr") == root / f"{name}.en.email.html"
    assert renderer.template_path(name, "sms", "ja-JP") == root / f"{name}.ja.sms.txt"
    assert renderer.template_path(name, "sms", "ko") == root / f"{name}.en.sms.txt"
    assert renderer.template_path(name, "text", "en") is None
    assert renderer.template_path("receipt/thanks", "text", "en") is not None
    assert renderer.template_path("nothing/here", "email", "en") is None


@pytest.mark.parametrize("name", ["../secrets", "/etc/passwd", "_layouts/email", "a/../b", ""])
def test_bad_names_are_refused(renderer: TemplateRenderer, name: str) -> None:
    with pytest.raises(TemplateRenderError, match="bad template name"):
        renderer.render_sms(name, "en", make_context())


def test_missing_template_names_what_was_looked_for(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateRenderError, match=r"nothing/here\.ko\.sms\.txt.*\.en\.sms\.txt"):
        renderer.render_sms("nothing/here", "ko", make_context())


# --- email ----------------------------------------------------------------------------------


def test_email_parts(renderer: TemplateRenderer) -> None:
    email = renderer.render_email("delay_apology/apology", "en-US", make_context())
    assert email.locale == "en"
    assert email.subject == "Your order 1042 is running late — we're sorry"
    assert email.preheader == "New expected delivery: Mar 3\u2009–\u20097, 2026"
    assert '<html lang="en-US">' in email.html
    assert "<title>Your order 1042 is running late" in email.html
    assert "Ana &amp; Bo" in email.html and "a &lt;supplier&gt; shipment" in email.html
    assert "$12.50" in email.html


def test_subject_is_plain_text(renderer: TemplateRenderer) -> None:
    context = make_context(order={**make_context()["order"], "number": "A&B <1>"})
    email = renderer.render_email("delay_apology/apology", "en", context)
    assert email.subject == "Your order A&B <1> is running late — we're sorry"


def test_layout_css_is_inlined_and_media_queries_kept(renderer: TemplateRenderer) -> None:
    html = renderer.render_email("delay_apology/apology", "en", make_context()).html
    button = html.split('class="button"', 1)[1].split(">", 1)[0]
    assert "background-color: #111827" in button and "display: inline-block" in button
    assert 'class="preheader"' in html and "display: none" in html.split('class="preheader"')[1]
    assert "@media only screen and (max-width: 620px)" in html
    assert ".header a {" not in html  # plain rules left the <style> block
    assert 'role="presentation"' in html and 'width="600"' in html


def test_footer_links(renderer: TemplateRenderer) -> None:
    html = renderer.render_email("delay_apology/apology", "en", make_context()).html
    assert 'href="mailto:help@lumen.example"' in html
    assert 'href="https://jk.example/u/abc"' in html and ">Unsubscribe</a>" in html
    assert 'href="https://jk.example/preferences/abc"' in html
    transactional = make_context(unsubscribe_url="", preferences_url="")
    html = renderer.render_email("delay_apology/apology", "en", transactional).html
    assert "Unsubscribe" not in html and "preferences" not in html
    undefined = make_context()
    del undefined["unsubscribe_url"], undefined["preferences_url"]
    html = renderer.render_email("delay_apology/apology", "en", undefined).html
    assert "Unsubscribe" not in html


def test_generated_plain_text(renderer: TemplateRenderer) -> None:
    text = renderer.render_email("delay_apology/apology", "en", make_context()).text
    assert "We're sorry, Ana & Bo" in text
    assert "Keep it, free express shipping (https://jk.example/a/1)\n" in text
    assert "Take store credit (https://jk.example/a/2)" in text
    assert "Unsubscribe (https://jk.example/u/abc)" in text
    assert "help@lumen.example" in text
    assert "- Lamp × 2" in text
    for noise in ("**", "__", "# ", "](", "\\", "New expected delivery: Mar 3\u2009–\u20097, 2026͏"):
        assert noise not in text
    assert text.count("New expected delivery") == 1  # the hidden preheader is left out
    assert "Your order 1042 is running late" not in text  # <title> is left out


def test_plain_text_override(renderer: TemplateRenderer) -> None:
    email = renderer.render_email("receipt/thanks", "en", make_context())
    assert email.text == (
        "Thanks, Ana & Bo!\n\nWe'll ship between Mar 1\u2009–\u20092, 2026.\n"
        "Order: https://lumen.example/orders/1042"
    )
    assert email.preheader == ""  # block not filled


def test_korean_email_formats_in_korean(renderer: TemplateRenderer) -> None:
    order = {**make_context()["order"], "currency": "KRW", "total_cents": 12500}
    email = renderer.render_email("delay_apology/apology", "ko-KR", make_context(order=order))
    assert email.locale == "ko"
    assert '<html lang="ko-KR">' in email.html
    assert "₩12,500" in email.html and "2026년 3월 3일~7일" in email.html
    assert "수신 거부" in email.html and "문의 사항" in email.html


def test_fallback_template_formats_in_its_own_locale(renderer: TemplateRenderer) -> None:
    email = renderer.render_email("delay_apology/apology", "fr-FR", make_context(locale="fr"))
    assert email.locale == "en" and '<html lang="en">' in email.html
    assert "Mar 3\u2009–\u20097, 2026" in email.text


def test_regional_locale_formats_with_its_region(renderer: TemplateRenderer) -> None:
    email = renderer.render_email("delay_apology/apology", "en-GB", make_context())
    assert email.locale == "en"
    assert "3–7 Mar 2026" in email.preheader
    assert "US$12.50" in email.html


# --- SMS ------------------------------------------------------------------------------------


def test_sms_body_and_segments(renderer: TemplateRenderer) -> None:
    sms = renderer.render_sms("delay_apology/apology", "en-US", make_context())
    assert sms.locale == "en"
    assert sms.body.startswith("Lumen Goods: sorry Ana & Bo, order 1042 is late.")
    assert "Mar 3 - 7, 2026" in sms.body  # babel's thin spaces and en dash made GSM-7
    assert not sms.body.endswith("\n")
    assert sms.segments.encoding == "GSM-7" and sms.segments.segments == 1


def test_japanese_sms_is_ucs2(renderer: TemplateRenderer) -> None:
    sms = renderer.render_sms("delay_apology/apology", "ja-JP", make_context())
    assert sms.locale == "ja"
    assert "2026年3月3日～7日" in sms.body
    assert sms.segments.encoding == "UCS-2" and sms.segments.units == len(sms.body)


def test_sms_is_not_html_escaped(renderer: TemplateRenderer) -> None:
    sms = renderer.render_sms("delay_apology/apology", "en", make_context())
    assert "Ana & Bo" in sms.body and "&amp;" not in sms.body


# --- errors and the sandbox -----------------------------------------------------------------


def test_missing_variable_names_file_line_and_variable(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateRenderError) as caught:
        renderer.render_email("broken/missing_var", "en", make_context())
    error = caught.value
    assert error.line == 5
    assert error.template_file and error.template_file.endswith("missing_var.en.email.html")
    assert "'totl' is undefined" in error.message
    assert "templates/broken/missing_var.en.email.html:5:" in str(error)
    assert "{{ totl }}" in str(error)


def test_missing_attribute_in_sms(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateRenderError, match=r"missing_attr\.en\.sms\.txt:2: .*totl"):
        renderer.render_sms("broken/missing_attr", "en", make_context())


def test_missing_variable_in_the_layout(renderer: TemplateRenderer) -> None:
    context = make_context()
    del context["store"]
    with pytest.raises(TemplateRenderError) as caught:
        renderer.render_email("delay_apology/apology", "en", context)
    assert "'store' is undefined" in caught.value.message
    assert caught.value.template_file and caught.value.template_file.endswith("email.html")
    assert caught.value.line is not None


@pytest.mark.parametrize("name", ["class_mro", "cycler_globals", "format_globals", "mutate"])
def test_sandbox_blocks_python_internals(renderer: TemplateRenderer, name: str) -> None:
    with pytest.raises(TemplateRenderError, match="sandbox") as caught:
        renderer.render_sms(f"broken/{name}", "en", make_context())
    assert caught.value.line == 1


def test_syntax_error_has_a_line(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateRenderError, match="syntax error") as caught:
        renderer.render_sms("broken/syntax", "en", make_context())
    assert caught.value.line == 3


def test_empty_subject_is_an_error(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateRenderError, match="empty subject"):
        renderer.render_email("broken/empty_subject", "en", make_context())


def test_filter_misuse_points_at_the_line(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateRenderError, match=r"bad_filter_arg\.en\.sms\.txt:2: TypeError"):
        renderer.render_sms("broken/bad_filter_arg", "en", make_context())


def test_compiled_templates_are_cached(renderer: TemplateRenderer) -> None:
    renderer.render_email("delay_apology/apology", "en", make_context())
    first = renderer.env.get_template("delay_apology/apology.en.email.html")
    renderer.render_email("delay_apology/apology", "en", make_context())
    assert renderer.env.get_template("delay_apology/apology.en.email.html") is first


# --- filters --------------------------------------------------------------------------------


def fmt(
    renderer: TemplateRenderer, source: str, locale: str = "en", tz: str = "UTC", **values: Any
) -> str:
    context = {"locale": locale, "customer": {"timezone": tz}, **values}
    return renderer.env.from_string(source).render(context).replace("\u202f", " ")


@pytest.mark.parametrize(
    ("cents", "currency", "locale", "expected"),
    [
        (1250, "USD", "en", "$12.50"),
        (1250, "usd", "en-US", "$12.50"),
        (12500, "KRW", "ko-KR", "₩12,500"),
        (1250, "JPY", "ja-JP", "￥1,250"),
        (1250, "EUR", "de-DE", "12,50\xa0€"),
        (0, "USD", "en", "$0.00"),
        (-500, "USD", "en", "-$5.00"),
        (123456789, "USD", "en", "$1,234,567.89"),
    ],
)
def test_money(
    renderer: TemplateRenderer, cents: int, currency: str, locale: str, expected: str
) -> None:
    assert fmt(renderer, "{{ c | money(cur) }}", locale, c=cents, cur=currency) == expected


def test_money_rejects_non_integers(renderer: TemplateRenderer) -> None:
    with pytest.raises(TypeError, match="minor units"):
        fmt(renderer, "{{ c | money('USD') }}", c="12.50")


def test_date_uses_the_customer_zone(renderer: TemplateRenderer) -> None:
    late_evening = pendulum.datetime(2026, 3, 4, 3, tz="UTC")  # Mar 3, 22:00 in New York
    assert fmt(renderer, "{{ d | date }}", tz="America/New_York", d=late_evening) == "Mar 3, 2026"
    assert fmt(renderer, "{{ d | date }}", tz="Asia/Seoul", d=late_evening) == "Mar 4, 2026"
    assert fmt(renderer, "{{ d | date }}", "ko", "Asia/Seoul", d=late_evening) == "2026. 3. 4."
    assert fmt(renderer, "{{ d | date('long') }}", "ja", d=date(2026, 3, 3)) == "2026年3月3日"
    assert fmt(renderer, "{{ d | date }}", tz="Pacific/Honolulu", d=date(2026, 3, 3)) == (
        "Mar 3, 2026"  # a calendar day is not shifted
    )
    assert fmt(renderer, "{{ d | date }}", d="2026-03-03T12:00:00Z") == "Mar 3, 2026"


def test_datetime(renderer: TemplateRenderer) -> None:
    moment = pendulum.datetime(2026, 3, 4, 3, tz="UTC")
    ny = fmt(renderer, "{{ d | datetime }}", tz="America/New_York", d=moment)
    assert ny == "Mar 3, 2026, 10:00 PM"
    assert (
        fmt(renderer, "{{ d | datetime }}", "ko", "Asia/Seoul", d=moment)
        == "2026. 3. 4. 오후 12:00"
    )
    assert fmt(renderer, "{{ d | datetime('short') }}", "en-GB", "Europe/London", d=moment) == (
        "04/03/2026, 03:00"
    )
    naive = pendulum.naive(2026, 3, 4, 3)  # naive means UTC
    assert fmt(renderer, "{{ d | datetime }}", tz="America/New_York", d=naive) == ny


@pytest.mark.parametrize(
    ("locale", "start", "end", "expected"),
    [
        ("en", date(2026, 3, 3), date(2026, 3, 7), "Mar 3 – 7, 2026"),
        ("en", date(2026, 3, 30), date(2026, 4, 2), "Mar 30 – Apr 2, 2026"),
        ("en", date(2026, 12, 30), date(2027, 1, 2), "Dec 30, 2026 – Jan 2, 2027"),
        ("en", date(2026, 3, 3), date(2026, 3, 3), "Mar 3, 2026"),
        ("en", date(2026, 3, 7), date(2026, 3, 3), "Mar 3 – 7, 2026"),  # ends swapped
        ("ko", date(2026, 3, 3), date(2026, 3, 7), "2026년 3월 3일~7일"),
        ("ja", date(2026, 3, 3), date(2026, 3, 7), "2026年3月3日～7日"),
        ("en-GB", date(2026, 3, 3), date(2026, 3, 7), "3–7 Mar 2026"),
    ],
)
def test_daterange(
    renderer: TemplateRenderer, locale: str, start: date, end: date, expected: str
) -> None:
    result = fmt(renderer, "{{ a | daterange(b) }}", locale, a=start, b=end)
    assert result.replace("\u2009", " ") == expected


def test_daterange_is_calendar_days_in_the_store_zone(renderer: TemplateRenderer) -> None:
    start = pendulum.datetime(2026, 3, 3, 2, tz="UTC")  # Mar 2 evening in New York
    end = pendulum.datetime(2026, 3, 7, 2, tz="UTC")
    template = "{{ a | daterange(b) }}"
    # the reader's zone does not move a ship window: the store's zone does
    result = fmt(renderer, template, tz="America/New_York", a=start, b=end)
    assert result.replace("\u2009", " ") == "Mar 3 – 7, 2026"
    in_ny = renderer.env.from_string(template).render(
        {"locale": "en", "store": {"timezone": "America/New_York"}, "a": start, "b": end}
    )
    assert in_ny.replace("\u2009", " ") == "Mar 2 – 6, 2026"


def test_weekday(renderer: TemplateRenderer) -> None:
    tuesday = date(2026, 3, 3)
    assert fmt(renderer, "{{ d | weekday }}", d=tuesday) == "Tuesday"
    assert fmt(renderer, "{{ d | weekday('abbreviated') }}", d=tuesday) == "Tue"
    assert fmt(renderer, "{{ d | weekday }}", "ko", d=tuesday) == "화요일"
    assert fmt(renderer, "{{ d | weekday }}", "ja", d=tuesday) == "火曜日"
    monday_night_utc = pendulum.datetime(2026, 3, 3, 2, tz="UTC")
    assert fmt(renderer, "{{ d | weekday }}", tz="America/New_York", d=monday_night_utc) == "Monday"


def test_unknown_locale_and_zone_fall_back(renderer: TemplateRenderer) -> None:
    assert fmt(renderer, "{{ c | money('USD') }}", "xx-YY", "Not/AZone", c=100) == "$1.00"


# --- plain text converters ------------------------------------------------------------------

SAMPLE = """<html><head><title>T</title><style>p{color:red}</style></head><body>
<!--jk:text-skip--><div class="preheader">hidden preview</div><!--/jk:text-skip-->
<table role="presentation"><tr><td><h1>Hello &amp; welcome</h1>
<p>Line <strong>one</strong><br>line two &lt;ok&gt;</p>
<ul><li>First</li><li>Second <em>item</em></li></ul>
<p><a class="button" href="https://x.example/a?b=1&amp;c=2">Buy now</a>
<a href="https://x.example/plain">https://x.example/plain</a>
<a href="mailto:help@x.example">help@x.example</a></p>
<!-- a comment --></td></tr></table></body></html>"""


@pytest.mark.parametrize("convert", [html_to_text, html_to_text_html2text])
def test_converters(convert: Callable[[str], str]) -> None:
    text = convert(SAMPLE)
    assert text.startswith("Hello & welcome\n\nLine one\nline two <ok>\n")
    assert "- First\n" in text and "- Second item\n" in text
    assert "\nBuy now (https://x.example/a?b=1&c=2)\n" in text
    assert "https://x.example/plain" in text and "(https://x.example/plain)" not in text
    assert "help@x.example" in text and "mailto:" not in text
    for absent in ("hidden preview", "color:red", "a comment", "**", "_item_", "#", "\n\n\n"):
        assert absent not in text


def test_converters_agree_on_the_words(renderer: TemplateRenderer) -> None:
    page = renderer.env.get_template("delay_apology/apology.en.email.html").render(
        make_context(locale="en")
    )
    fast, reference = html_to_text(page), html_to_text_html2text(page)
    assert fast.split() == reference.split()


def test_html2text_converter_can_be_chosen(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "templates")
    shutil.copytree(LAYOUTS, tmp_path / "templates" / "_layouts")
    slow = TemplateRenderer(tmp_path / "templates", text_from_html=html_to_text_html2text)
    email = slow.render_email("delay_apology/apology", "en", make_context())
    assert "Take store credit (https://jk.example/a/2)" in email.text


def test_table_rows_become_lines() -> None:
    page = (
        "<p>Your order</p><table><tr><td>2 &times; Lamp</td><td>$24.00</td></tr>\n"
        "<tr><td>1 &times; Shade</td><td>$5.00</td></tr></table><p>Thanks</p>"
    )
    assert html_to_text(page) == "Your order\n\n2 × Lamp $24.00\n1 × Shade $5.00\n\nThanks\n"


def test_new_locale_file_is_seen_after_clear_cache(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "templates")
    shutil.copytree(LAYOUTS, tmp_path / "templates" / "_layouts")
    fresh = TemplateRenderer(tmp_path / "templates")
    assert fresh.render_sms("delay_apology/apology", "de", make_context()).locale == "en"
    (tmp_path / "templates" / "delay_apology" / "apology.de.sms.txt").write_text(
        "{{ store.name }}: Bestellung {{ order.number }} verspätet sich.\n", encoding="utf-8"
    )
    fresh.clear_cache()
    sms = fresh.render_sms("delay_apology/apology", "de-DE", make_context())
    assert (sms.locale, sms.body) == ("de", "Lumen Goods: Bestellung 1042 verspätet sich.")


@pytest.mark.parametrize("reload_check_seconds", [0.0, 3600.0])
def test_edited_template_is_reloaded_once_checked(
    tmp_path: Path, reload_check_seconds: float
) -> None:
    """Jinja's stat on every render (0) or at most once per ``reload_check_seconds``."""
    shutil.copytree(FIXTURES, tmp_path / "templates")
    shutil.copytree(LAYOUTS, tmp_path / "templates" / "_layouts")
    renderer = TemplateRenderer(tmp_path / "templates", reload_check_seconds=reload_check_seconds)
    first = renderer.render_sms("delay_apology/apology", "en", make_context()).body
    path = renderer.template_path("delay_apology/apology", "sms", "en")
    assert path is not None
    path.write_text("Edited {{ order.number }}\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 10))  # a later mtime, whatever the clock
    again = renderer.render_sms("delay_apology/apology", "en", make_context()).body
    assert again == ("Edited 1042" if reload_check_seconds == 0 else first)
