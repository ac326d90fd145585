"""Short links for a whole claim at once: one per (message, URL), reused on a retry."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from sqlmodel import Session, func, select

from journeykit.channels.compose import shorten_sms_contents
from journeykit.channels.shortlinks import ShortLinkError, resolve, shorten, shorten_many
from journeykit.db import make_engine, upgrade
from journeykit.models import ShortLink

NOW = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
BASE = "https://j.example"


@pytest.fixture
def session(tmp_path: Path) -> Session:
    url = f"sqlite:///{tmp_path}/s.db"
    upgrade(url)
    return Session(make_engine(url))


def count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(ShortLink)).one())


def test_one_code_per_message_and_url_and_each_resolves(session: Session) -> None:
    wanted = [(f"m{i}", f"https://shop.example/p/{i % 3}") for i in range(50)]
    links = shorten_many(session, [*wanted, wanted[0]], base_url=BASE, now=NOW)
    session.commit()
    assert set(links) == set(wanted) and count(session) == 50
    assert len(set(links.values())) == 50
    for (key, url), short in links.items():
        link = resolve(session, short.rsplit("/", 1)[1])
        assert link is not None and (link.message_key, link.url) == (key, url)


def test_a_retry_reuses_the_codes_single_and_batched_alike(session: Session) -> None:
    single = shorten(session, "https://a.example/x", message_key="m1", base_url=BASE, now=NOW)
    first = shorten_many(
        session,
        [("m1", "https://a.example/x"), ("m2", "https://a.example/x")],
        base_url=BASE,
        now=NOW,
    )
    again = shorten_many(session, [("m2", "https://a.example/x")], base_url=BASE, now=NOW)
    assert first[("m1", "https://a.example/x")] == single
    assert again[("m2", "https://a.example/x")] == first[("m2", "https://a.example/x")]
    assert count(session) == 2


def test_a_non_http_url_is_refused_and_nothing_is_written(session: Session) -> None:
    with pytest.raises(ShortLinkError, match="only http"):
        shorten_many(
            session, [("m1", "https://ok.example"), ("m2", "ftp://x")], base_url=BASE, now=NOW
        )
    assert count(session) == 0


def test_sms_contents_get_short_links_once(session: Session) -> None:
    contents = {
        "k1": {"body": "Back: https://shop.example/p/1?utm=sms. Reply 1 for more", "segments": 1},
        "k2": {"body": "No link here", "segments": 1},
        "k3": {"body": "x", "short_links": True},
    }
    changed = shorten_sms_contents(session, contents, base_url=BASE, now=NOW)
    assert set(changed) == {"k1", "k2"}
    assert changed["k1"]["body"].startswith(f"Back: {BASE}/l/")
    assert changed["k1"]["body"].endswith(". Reply 1 for more")
    assert changed["k1"]["long_body"] == contents["k1"]["body"]
    assert changed["k2"]["body"] == "No link here" and changed["k2"]["short_links"] is True
    assert shorten_sms_contents(session, changed, base_url=BASE, now=NOW) == {}
