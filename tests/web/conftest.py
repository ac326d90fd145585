"""A web app on a real SQLite file (migrated), the real journeys and templates, a virtual
clock, and keys/secrets for every signature the providers use."""

from __future__ import annotations

import atexit
import base64
import re
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pendulum
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from journeykit.engine.advance import advance, claim_due
from journeykit.engine.ingest import ingest_event
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import Enrollment, OutboxMessage
from journeykit.foundation.settings import Settings
from journeykit.service.runtime_factory import build_runtime
from journeykit.timing.clock import VirtualClock
from journeykit.web.app import create_app

API_KEY = "test-api-key"
TWILIO_TOKEN = "twilio-test-token"
SHOPIFY_SECRET = "shopify-test-secret"
PUBLIC = "http://testserver"
START = pendulum.datetime(2026, 3, 2, 15, tz="UTC")  # Monday, 10:00 in New York


_TEMPLATE: list[Path] = []


def migrated_template() -> Path:
    """A database migrated once per test process; each test gets a copy (fast, and every
    test still runs on a real, fully migrated SQLite file)."""
    if not _TEMPLATE:
        directory = Path(tempfile.mkdtemp(prefix="jk-web-template-"))
        upgrade(f"sqlite:///{directory}/template.db")
        with closing(sqlite3.connect(directory / "template.db")) as connection:
            connection.execute("PRAGMA journal_mode=DELETE")  # fold the WAL into the file
        atexit.register(shutil.rmtree, directory, True)
        _TEMPLATE.append(directory / "template.db")
    return _TEMPLATE[0]


class Web:
    def __init__(self, tmp_path: Path, public: str = PUBLIC) -> None:
        url = f"sqlite:///{tmp_path}/web.db"
        shutil.copyfile(migrated_template(), tmp_path / "web.db")
        self.engine = make_engine(url)
        self.clock = VirtualClock(START)
        self.sendgrid_key = ec.generate_private_key(ec.SECP256R1())
        der = self.sendgrid_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.settings = Settings().with_changes(
            {
                "database.url": url,
                "web.public_base_url": public,
                "web.api_key": API_KEY,
                "web.signing_secret": "web-test-secret",
                "providers.twilio.auth_token": TWILIO_TOKEN,
                "providers.shopify.webhook_secret": SHOPIFY_SECRET,
                "providers.sendgrid.webhook_public_key": base64.b64encode(der).decode(),
                "web.review_photos_dir": tmp_path / "photos",
                "web.review_photo_max_bytes": 200_000,
                "web.max_body_bytes": 400_000,
            }
        )
        self.runtime = build_runtime(
            self.settings, engine=self.engine, clock=self.clock, owner="web-test"
        )
        self.emitted: list[tuple[dict[str, Any], str]] = []
        self.app = create_app(self.settings, self.runtime)

    def client(self) -> TestClient:
        return TestClient(self.app, base_url=PUBLIC)

    def emit(self, payload: dict[str, Any], key: str) -> None:
        with session_scope(self.engine) as session:
            ingest_event(
                session,
                book=self.runtime.book,
                now=self.clock.now(),
                payload=payload,
                key=key,
                registry=self.runtime.registry,
            )
        self.sweep()

    def sweep(self) -> None:
        advance(self.runtime, claim_due(self.runtime, limit=1000))

    def session(self) -> Session:
        return Session(self.engine)

    def enrollment(self, journey: str) -> Enrollment:
        with self.session() as session:
            return session.exec(select(Enrollment).where(Enrollment.journey == journey)).one()

    def outbox(self, node_id: str) -> OutboxMessage:
        with self.session() as session:
            return session.exec(select(OutboxMessage).where(OutboxMessage.node_id == node_id)).one()

    def links(self, node_id: str) -> dict[str, str]:
        """The action links in a sent email, by action (as paths on this server)."""
        html = self.outbox(node_id).content["html"]
        found: dict[str, str] = {}
        for path in re.findall(
            r'href="' + re.escape(self.settings.web.public_base_url) + r'(/a/[^"]+)"', html
        ):
            from journeykit.messaging.signed_links import read_action

            claim = read_action(
                self.settings.web.signing_secret.get_secret_value(), path[3:], now=self.clock.now()
            )
            found[claim.action] = path
        return found


def product(sku: str = "SOFA-1", title: str = "Sofa", **extra: Any) -> dict[str, Any]:
    return {
        "type": "product.upserted",
        "product": {
            "sku": sku,
            "handle": sku.lower(),
            "title": title,
            "price_cents": 50000,
            "inventory": 0,
            "url": f"https://shop.example/p/{sku.lower()}",
            **extra,
        },
    }


def order_placed(
    number: str = "1001",
    customer: str = "C-1",
    locale: str = "en",
    skus: tuple[str, ...] = ("SOFA-1",),
) -> dict[str, Any]:
    return {
        "type": "order.placed",
        "customer": {
            "id": customer,
            "email": f"{customer.lower()}@example.com",
            "phone": "+14155550123",
            "timezone": "America/New_York",
            "first_name": "Ana",
            "locale": locale,
            "consent": {"email": True, "sms": True},
        },
        "order": {
            "number": number,
            "lines": [{"sku": s, "quantity": 1} for s in skus],
            "total_cents": 50000,
        },
    }


def delayed(number: str = "1001") -> dict[str, Any]:
    return {
        "type": "order.delayed",
        "order_number": number,
        "reason": "a late container",
        "ship_from": "2026-03-20T00:00:00Z",
        "ship_to": "2026-03-25T00:00:00Z",
        "fix": "we added a second supplier",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, tmp_path: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.web = Web(tmp_path, public=self.url)
        config = uvicorn.Config(self.web.app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.web.engine.dispose()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """The app served by a real uvicorn on a free port (its public URL)."""
    with LiveServer(tmp_path) as server:
        yield server


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    harness = Web(tmp_path)
    yield harness
    harness.engine.dispose()


@pytest.fixture
def delay_web(web: Web) -> Web:
    """An order whose delay apology is waiting for the customer's choice."""
    web.emit(product(), "p1")
    web.emit(order_placed(), "o1")
    web.emit(delayed(), "d1")
    assert web.enrollment("delay_apology").node_id == "wait_choice"
    return web


@pytest.fixture
def review_web(web: Web) -> Web:
    """A delivered order whose review ask has gone out and waits for an answer."""
    web.emit(product(), "p1")
    web.emit(product("LAMP-1", "Lamp"), "p2")
    web.emit(product("RUG-1", "Rug"), "p3")
    web.emit(order_placed(skus=("SOFA-1", "LAMP-1")), "o1")
    web.emit({"type": "order.delivered", "order_number": "1001"}, "dl")
    web.clock.advance(pendulum.duration(days=15))
    web.sweep()
    web.clock.advance(pendulum.duration(days=1))
    web.sweep()
    assert web.enrollment("review_request").node_id == "wait_answer"
    return web
