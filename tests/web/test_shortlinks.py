"""Short links: base62 codes, one per (message, URL), resolved and counted."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from sqlmodel import Session, select

from journeykit.channels.shortlinks import ALPHABET, ShortLinkError, record_click, resolve, shorten
from journeykit.db import make_engine, upgrade
from journeykit.models import ShortLink

NOW = pendulum.datetime(2026, 3, 2, 9, tz="UTC")


@pytest.fixture
def session(tmp_path: Path) -> Session:
    url = f"sqlite:///{tmp_path}/s.db"
    upgrade(url)
    return Session(make_engine(url))


def test_shorten_returns_a_base62_code_under_the_base_url(session: Session) -> None:
    short = shorten(
        session, "https://shop.example/p/sofa", message_key="m1", base_url="https://j.example/"
    )
    assert short.startswith("https://j.example/l/")
    code = short.rsplit("/", 1)[1]
    assert 5 <= len(code) <= 10 and all(ch in ALPHABET for ch in code)
    session.commit()
    link = resolve(session, code)
    assert link is not None and link.url == "https://shop.example/p/sofa"
    assert link.message_key == "m1"


def test_same_message_and_url_reuse_the_code_others_do_not(session: Session) -> None:
    base = "https://j.example"
    first = shorten(session, "https://a.example/x", message_key="m1", base_url=base, now=NOW)
    again = shorten(session, "https://a.example/x", message_key="m1", base_url=base, now=NOW)
    other_url = shorten(session, "https://a.example/y", message_key="m1", base_url=base, now=NOW)
    other_msg = shorten(session, "https://a.example/x", message_key="m2", base_url=base, now=NOW)
    assert first == again
    assert len({first, other_url, other_msg}) == 3
    assert len(session.exec(select(ShortLink)).all()) == 3


@pytest.mark.parametrize("url", ["", "javascript:alert(1)", "ftp://x.example/"])
def test_only_http_urls_are_shortened(session: Session, url: str) -> None:
    with pytest.raises(ShortLinkError):
        shorten(session, url, message_key=None, base_url="https://j.example")
    assert session.exec(select(ShortLink)).all() == []


@pytest.mark.parametrize("code", ["", "nope", "../../etc", "a" * 40, "ab-cd"])
def test_unknown_or_malformed_codes_resolve_to_none(session: Session, code: str) -> None:
    assert resolve(session, code) is None


def test_record_click_counts(session: Session) -> None:
    short = shorten(session, "https://a.example/x", message_key=None, base_url="http://b", now=NOW)
    link = resolve(session, short.rsplit("/", 1)[1])
    assert link is not None
    assert record_click(session, link, NOW) == 1
    assert record_click(session, link, NOW) == 2
    session.commit()
    again = resolve(session, short.rsplit("/", 1)[1])
    assert again is not None and again.clicks == 2 and again.last_clicked_at == NOW
