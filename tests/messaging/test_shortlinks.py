"""Short links: base62 codes, one per (message, URL), resolved and counted; made one at a
time or for a whole claim at once (reused on a retry either way)."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from sqlmodel import Session, func, select

from journeykit.foundation.db import make_engine, upgrade
from journeykit.foundation.models import ShortLink
from journeykit.messaging.compose import shorten_sms_contents
from journeykit.messaging.shortlinks import (
    ALPHABET,
    ShortLinkError,
    record_click,
    resolve,
    shorten,
    shorten_many,
)

NOW = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
BATCH_BASE = "https://j.example"


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


def count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(ShortLink)).one())


def test_one_code_per_message_and_url_and_each_resolves(session: Session) -> None:
    wanted = [(f"m{i}", f"https://shop.example/p/{i % 3}") for i in range(50)]
    links = shorten_many(session, [*wanted, wanted[0]], base_url=BATCH_BASE, now=NOW)
    session.commit()
    assert set(links) == set(wanted) and count(session) == 50
    assert len(set(links.values())) == 50
    for (key, url), short in links.items():
        link = resolve(session, short.rsplit("/", 1)[1])
        assert link is not None and (link.message_key, link.url) == (key, url)


def test_a_retry_reuses_the_codes_single_and_batched_alike(session: Session) -> None:
    single = shorten(session, "https://a.example/x", message_key="m1", base_url=BATCH_BASE, now=NOW)
    first = shorten_many(
        session,
        [("m1", "https://a.example/x"), ("m2", "https://a.example/x")],
        base_url=BATCH_BASE,
        now=NOW,
    )
    again = shorten_many(session, [("m2", "https://a.example/x")], base_url=BATCH_BASE, now=NOW)
    assert first[("m1", "https://a.example/x")] == single
    assert again[("m2", "https://a.example/x")] == first[("m2", "https://a.example/x")]
    assert count(session) == 2


def test_a_non_http_url_is_refused_and_nothing_is_written(session: Session) -> None:
    with pytest.raises(ShortLinkError, match="only http"):
        shorten_many(
            session, [("m1", "https://ok.example"), ("m2", "ftp://x")], base_url=BATCH_BASE, now=NOW
        )
    assert count(session) == 0


def test_sms_contents_get_short_links_once(session: Session) -> None:
    contents = {
        "k1": {"body": "Back: https://shop.example/p/1?utm=sms. Reply 1 for more", "segments": 1},
        "k2": {"body": "No link here", "segments": 1},
        "k3": {"body": "x", "short_links": True},
    }
    changed = shorten_sms_contents(session, contents, base_url=BATCH_BASE, now=NOW)
    assert set(changed) == {"k1", "k2"}
    assert changed["k1"]["body"].startswith(f"Back: {BATCH_BASE}/l/")
    assert changed["k1"]["body"].endswith(". Reply 1 for more")
    assert changed["k1"]["long_body"] == contents["k1"]["body"]
    assert changed["k2"]["body"] == "No link here" and changed["k2"]["short_links"] is True
    assert shorten_sms_contents(session, changed, base_url=BATCH_BASE, now=NOW) == {}
