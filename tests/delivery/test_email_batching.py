"""Personalised emails share SendGrid requests through substitutions, byte for byte."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from journeykit_rigs import fixtures as testing

from journeykit.delivery.providers.base import EmailMessage
from journeykit.delivery.providers.email_batching import (
    MAX_SUBSTITUTION_BYTES,
    SharedRequest,
    plan_requests,
)
from journeykit.delivery.providers.sendgrid import SendGridEmailSender
from journeykit.sandbox.server import SandboxServer

sandbox_server = testing.sandbox_server
sandbox = testing.sandbox

PAGE = (
    "<html><body><p>Hi {name},</p><p>The <b>Linen Shirt</b> you asked about is back.</p>"
    '<a href="https://jk.example/l/{code}">Buy it now</a>'
    '<p><a href="https://jk.example/u/{token}">Unsubscribe</a></p></body></html>'
)


def restock(i: int, name: str, *, categories: tuple[str, ...] = ("restock",)) -> EmailMessage:
    return EmailMessage(
        key=f"k{i}",
        to=f"c{i}@example.com",
        subject=f"{name}, it's back",
        html=PAGE.format(name=name, code=f"c{i:05d}", token=f"t{i * 7919:08x}"),
        text=f"Hi {name}, the Linen Shirt is back: https://jk.example/l/c{i:05d}",
        headers={"List-Unsubscribe": f"<https://jk.example/u/t{i}>"},
        categories=categories,
    )


def substituted(request: SharedRequest, n: int) -> tuple[str, str, str]:
    """What SendGrid makes of the n-th personalization: each tag replaced by its value."""

    def apply(text: str) -> str:
        for tag, value in request.substitutions[n].items():
            text = text.replace(tag, value)
        return text

    return apply(request.subject), apply(request.html), apply(request.text)


def check_plan(messages: list[EmailMessage], requests: list[SharedRequest]) -> None:
    seen = sorted(i for r in requests for i in r.indexes)
    assert seen == list(range(len(messages)))
    for request in requests:
        assert len(request.substitutions) == len(request.indexes)
        for n, i in enumerate(request.indexes):
            m = messages[i]
            assert substituted(request, n) == (m.subject, m.html, m.text)
            size = sum(
                len(k.encode()) + len(v.encode()) for k, v in request.substitutions[n].items()
            )
            assert size <= MAX_SUBSTITUTION_BYTES


def test_one_template_many_customers_is_one_request() -> None:
    names = ["Ada", "Grace Hopper", "민준", "O'Brien & Sons", "Zoë", "", "<b>x</b>"]
    messages = [restock(i, names[i % len(names)]) for i in range(300)]
    requests = plan_requests(messages, 1000)
    assert len(requests) == 1
    check_plan(messages, requests)


def test_batches_respect_the_personalization_limit() -> None:
    messages = [restock(i, f"Name{i}") for i in range(25)]
    requests = plan_requests(messages, 10)
    assert [len(r.indexes) for r in requests] == [10, 10, 5]
    check_plan(messages, requests)


def test_identical_content_needs_no_tags() -> None:
    same = [
        EmailMessage(key=f"k{i}", to=f"c{i}@example.com", subject="Sale", html="<p>x</p>", text="x")
        for i in range(4)
    ]
    [request] = plan_requests(same, 1000)
    assert request.substitutions == [{}] * 4 and request.html == "<p>x</p>"


def test_unrelated_content_and_other_categories_go_apart() -> None:
    a = restock(1, "Ada")
    other = EmailMessage(key="o", to="o@example.com", subject="Order", html="<p>1</p>", text="")
    b = restock(2, "Bea", categories=("review",))
    requests = plan_requests([a, other, b], 1000)
    assert sorted(r.indexes for r in requests) == [[0], [1], [2]]
    check_plan([a, other, b], requests)


def test_substitutions_over_sendgrids_limit_go_alone() -> None:
    big = [restock(i, "N" * (6_000 + i)) for i in range(3)]  # name in subject, html and text
    small = [restock(10 + i, f"M{i}") for i in range(3)]
    messages = [*big, *small]
    requests = plan_requests(messages, 1000)
    check_plan(messages, requests)
    assert [0] in [r.indexes for r in requests] and [3, 4, 5] in [r.indexes for r in requests]


values = st.text(alphabet=st.sampled_from("ab <>%&,.-_ 한\n"), max_size=20)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(values, values, values), min_size=1, max_size=12), st.integers(1, 5))
def test_any_values_are_rebuilt_exactly(rows: list[tuple[str, str, str]], max_batch: int) -> None:
    messages = [
        EmailMessage(
            key=f"k{i}",
            to=f"c{i}@example.com",
            subject=f"{a}, it's back",
            html=f"<p>Hi {a},</p><p>{b}</p><a href='/l/{c}'>go</a>",
            text=f"Hi {a}, {c}",
        )
        for i, (a, b, c) in enumerate(rows)
    ]
    requests = plan_requests(messages, max_batch)
    check_plan(messages, requests)
    assert all(len(r.indexes) <= max_batch for r in requests)


def make_sender(box: SandboxServer) -> SendGridEmailSender:
    return SendGridEmailSender(
        box.sendgrid_api_key, box.url, from_email="hello@journeykit.example", timeout_s=15
    )


def test_the_sandbox_stores_what_each_customer_was_rendered(sandbox: SandboxServer) -> None:
    messages = [restock(i, f"Customer {i}") for i in range(200)]
    calls: list[int] = []
    results = make_sender(sandbox).send_many(messages, before_request=lambda: calls.append(1))
    assert [r.outcome for r in results] == ["sent"] * 200 and len(calls) == 1
    stored = {m.custom_args["journeykit_key"]: m for m in sandbox.store.messages()}
    for m in messages:
        got = stored[m.key]
        assert (got.subject, got.html, got.text, got.headers) == (
            m.subject,
            m.html,
            m.text,
            m.headers,
        )
    own = json.loads(stored["k0"].raw)  # the request as it concerns this one recipient
    assert [p["custom_args"]["journeykit_key"] for p in own["personalizations"]] == ["k0"]
    assert own["personalizations"][0]["substitutions"]


def test_a_bad_address_fails_alone_and_the_rest_are_sent(sandbox: SandboxServer) -> None:
    messages = [restock(i, f"Customer {i}") for i in range(5)]
    bad = EmailMessage(**{**messages[2].__dict__, "to": "not-an-address"})
    messages[2] = bad
    calls: list[int] = []
    results = make_sender(sandbox).send_many(messages, before_request=lambda: calls.append(1))
    assert [r.outcome for r in results] == ["sent", "sent", "permanent", "sent", "sent"]
    assert results[2].error_code == "400" and "personalizations.2" in (results[2].error or "")
    assert len(calls) == 2  # the rejected request, then the four good ones again
    assert sorted(m.to for m in sandbox.store.messages()) == [
        f"c{i}@example.com" for i in (0, 1, 3, 4)
    ]
