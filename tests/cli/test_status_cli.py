"""``journeys status``: enrollments per node and status with the next due time, the outbox
backlog, provider errors in the last hour."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Customer, OutboxMessage
from journeykit.reports.status import read_status
from journeykit.timing.clock import aware


def add_outbox(h, **fields) -> None:
    now = h.clock.now()
    with session_scope(h.engine) as session:
        customer = session.exec(select(Customer)).one()
        base = dict(
            journey="care",
            node_id="receipt",
            customer_id=customer.id,
            channel="sms",
            template="t/x",
            to_address="+14155550123",
            due_at=now - timedelta(minutes=5),
            created_at=now,
        )
        session.add(OutboxMessage(**{**base, **fields}))


def test_status_reads_nodes_backlog_and_recent_errors(waiting) -> None:
    h = waiting
    now = h.clock.now()
    add_outbox(h, key="q1", status="queued")
    add_outbox(h, key="q2", status="queued", due_at=now + timedelta(hours=2))
    add_outbox(h, key="f1", status="failed", error_code="21211", error="bad number",
               last_attempt_at=now - timedelta(minutes=10))  # fmt: skip
    add_outbox(h, key="f0", status="failed", error_code="30003", error="old",
               last_attempt_at=now - timedelta(hours=3))  # fmt: skip
    state = read_status(h.engine, now, "care")
    [node] = state.nodes
    assert (node.journey, node.node, node.counts) == ("care", "pause", {"waiting": 1})
    assert aware(node.next_due) == now + timedelta(days=3)
    [backlog] = [b for b in state.backlog if (b.channel, b.status) == ("sms", "queued")]
    assert (backlog.channel, backlog.count, backlog.overdue) == ("sms", 2, 1)
    assert [(e.channel, e.code, e.count) for e in state.errors] == [("sms", "21211", 1)]
    assert read_status(h.engine, now, "other").nodes == []


def test_status_command_prints_the_tables(cli, waiting) -> None:
    add_outbox(waiting, key="f1", status="failed", error_code="21211", error="bad number",
               last_attempt_at=waiting.clock.now())  # fmt: skip
    result = cli("status", "--database-url", waiting.url)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "Enrollments" in out and "care pause · 1 · · ·" in out
    assert "Outbox backlog" in out and "email queued 1 1 overdue" in out  # the receipt
    assert "Provider errors in the last hour" in out


def test_status_fits_80_columns_and_wraps_instead_of_cutting(waiting) -> None:
    from rich.console import Console

    from journeykit.cli.status import print_status
    from journeykit.reports.status import Backlog, NodeStatus, ProviderError, Status

    now = waiting.clock.now()
    long_error = "connection failed: [Errno 111] Connection refused by 127.0.0.1:8025 " * 2
    state = Status(
        nodes=[
            NodeStatus(
                "backorder_stock_arrived",
                "substitute_confirmation",
                {"waiting": 12345},
                now + timedelta(days=2, hours=23),
            ),
            NodeStatus("backorder_stock_arrived", "wait", {"failed": 3, "completed": 1234}),
        ],
        backlog=[Backlog("email", "queued", 1, now - timedelta(minutes=5), 1)],
        errors=[ProviderError("email", "[red]no code[/red]", 1, long_error)],
    )
    console = Console(width=80, record=True, highlight=False)
    print_status(console, state, now, None)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    assert "backorder_stock_arrived" in text and "  substitute_confirmation" in text
    assert "[red]no code[/red]" in text  # a stored string is text, never markup
    flat = " ".join(text.split())
    assert "Errno 111" in flat and "127.0.0.1:8025" in flat


def test_status_on_a_missing_database_is_one_clear_error(cli, tmp_path) -> None:
    result = cli("status", "--database-url", f"sqlite:///{tmp_path}/nothing.db")
    assert result.exit_code == 1
    assert "cannot read" in result.output and "journeys db upgrade" in result.output
