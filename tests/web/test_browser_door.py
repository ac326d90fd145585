"""In a real browser (issue 16): a form sent back with errors is a GET page (post, redirect,
get), so reload and Back work instead of the browser's ERR_CACHE_MISS / resubmit prompt; the
pages run under the Content-Security-Policy without violations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
import pytest
from sqlmodel import select

from journeykit.foundation.models import Review
from tests.web.conftest import LiveServer, order_placed, product
from tests.web.test_browser import assert_accessible, browser, page_for  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("locale", "error"), [("en", "must be a JPEG"), ("ko", "이미지여야")])
def test_review_errors_survive_reload_and_back(
    browser: Any,  # noqa: F811
    live: LiveServer,
    tmp_path: Path,
    locale: str,
    error: str,
) -> None:
    web = live.web
    web.emit(product(), "p")
    web.emit(order_placed(locale=locale), "o")
    web.emit({"type": "order.delivered", "order_number": "1001"}, "dl")
    web.clock.advance(pendulum.duration(days=15))
    web.sweep()
    web.clock.advance(pendulum.duration(days=1))
    web.sweep()
    page = page_for(browser, locale)
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    link = live.url + web.links("ask")["review"]
    page.goto(link)
    not_a_photo = tmp_path / "sofa.png"
    not_a_photo.write_bytes(b"GIF89a" + b"0" * 64)
    page.locator("label[for=rating-4]").click()
    page.locator("#body").fill("Typed before the error")
    page.locator("#photo").set_input_files(str(not_a_photo))
    with page.expect_navigation():
        page.locator("#submit-review").click()  # the server refuses the photo
    assert error in page.locator("#errors").inner_text()
    assert page.url == link, "the errors are shown on a GET of the form's own address"
    assert page.locator("#body").input_value() == "Typed before the error"
    assert_accessible(page, locale)
    response = page.reload()
    assert response is not None and response.status == 200  # no resubmission, no cache miss
    assert page.locator("#submit-review").count() == 1
    page.go_back(wait_until="load")
    assert page.locator("#submit-review").count() == 1
    with web.session() as session:
        assert session.exec(select(Review)).all() == []
    assert violations == []
    page.context.close()
