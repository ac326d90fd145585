"""The reports as rich tables for the terminal."""

from __future__ import annotations

from datetime import datetime

from rich.table import Table
from rich.text import Text

from journeykit.reports.backorder import BackorderReport, Cohort
from journeykit.reports.demand import DemandReport
from journeykit.reports.funnel import FunnelReport
from journeykit.reports.journey_report import JourneyReport
from journeykit.templating.filters import babel_locale


def _money(cents: int, currency: str) -> str:
    from babel.numbers import format_currency

    if "," in currency:  # several currencies: amounts are shown as plain numbers
        return f"{cents / 100:,.2f}"
    return format_currency(cents / 100, currency, locale=babel_locale("en"))


def demand_table(report: DemandReport, now: datetime) -> Table:
    table = Table(
        title="Out-of-stock demand (R4): restock these first",
        caption=(
            f"{report.shoppers} shoppers waiting · {report.signups} sign-ups "
            f"(email {report.email}, SMS {report.sms}) · {report.variants} variants"
        ),
    )
    table.add_column("#", justify="right")
    table.add_column("SKU")
    table.add_column("Product")
    table.add_column("In stock", justify="right")
    table.add_column("Shoppers waiting", justify="right")
    table.add_column("Email", justify="right")
    table.add_column("SMS", justify="right")
    table.add_column("Oldest sign-up")
    table.add_column("Longest wait", justify="right")
    for rank, row in enumerate(report.rows, 1):
        days = max(0, (now - row.oldest).days)
        table.add_row(
            str(rank),
            Text(row.sku),
            Text(f"{row.product} {row.variant}".strip()),
            str(max(0, row.inventory)),
            str(row.shoppers),
            str(row.email),
            str(row.sms),
            f"{row.oldest:%Y-%m-%d}",
            f"{days} d",
        )
    return table


def backorder_table(report: BackorderReport) -> Table:
    table = Table(
        title="Backorder buyers vs other customers (B6)",
        caption=f"{report.backorders} orders placed on backorder · currency {report.currency}",
    )
    table.add_column("Cohort")
    table.add_column("Customers", justify="right")
    table.add_column("Orders", justify="right")
    table.add_column("Orders / customer", justify="right")
    table.add_column("Repeat rate", justify="right")
    table.add_column("Lifetime value", justify="right")

    def row(c: Cohort) -> None:
        table.add_row(
            c.name,
            str(c.customers),
            str(c.orders),
            f"{c.orders_per_customer:.2f}",
            f"{c.repeat_rate:.0%}",
            _money(c.lifetime_value_cents, report.currency),
        )

    row(report.backorder)
    row(report.others)
    return table


def funnel_table(report: FunnelReport) -> Table:
    table = Table(
        title=f"Journey funnel: {report.journey}",
        caption=f"{report.enrollments} enrollments · {report.converted} converted",
    )
    names = ("Node", "Type", "Entered", "Waited", "Sent", "Suppressed", "Withdrawn", "Clicked")
    for name in (*names, "Acted"):
        table.add_column(name, justify="left" if name in ("Node", "Type") else "right")
    table.add_column("Converted", justify="right")
    for n in report.nodes:
        counts = (
            n.entered, n.waited, n.sent, n.suppressed, n.withdrawn, n.clicked, n.acted, n.converted
        )  # fmt: skip
        table.add_row(n.node, n.type, *[str(c) if c else "·" for c in counts])
    return table


def variants_table(report: FunnelReport) -> Table:
    table = Table(title=f"A/B variants: {report.journey}")
    for name in ("Split", "Variant", "Enrollments", "Sent", "Converted", "Rate"):
        table.add_column(name, justify="left" if name in ("Split", "Variant") else "right")
    for v in report.variants:
        table.add_row(
            v.split,
            v.variant,
            str(v.enrollments),
            str(v.sent),
            str(v.converted),
            f"{v.conversion_rate:.0%}",
        )
    return table


def _amounts(cents: dict[str, int]) -> str:
    return " + ".join(_money(c, cur) for cur, c in sorted(cents.items())) or "0"


def earned_table(report: JourneyReport) -> Table:
    earned = report.earned
    cancelled = sum(not o.kept for o in report.attributed)
    table = Table(
        title=f"What {report.journey} earned (attributed orders)",
        caption=(
            f"{earned.orders} orders · {_amounts(earned.cents)} · {cancelled} cancelled "
            f"(not counted) · {report.rates.sent} messages sent, clicked "
            f"{report.rates.rate('clicked'):.1%}, opened {report.rates.rate('opened'):.1%} "
            "(estimate)"
        ),
    )
    table.add_column("Node")
    table.add_column("Orders", justify="right")
    table.add_column("Revenue", justify="right")
    for node, money in report.earned_by("node").items():
        table.add_row(node, str(money.orders), _amounts(money.cents))
    return table


def verdicts_table(report: JourneyReport) -> Table:
    table = Table(title=f"A/B verdicts: {report.journey}")
    for name in ("Split", "Arm", "Customers", "Converted", "Rate", "Interval"):
        table.add_column(name, justify="left" if name in ("Split", "Arm") else "right")
    for verdict in report.verdicts:
        for arm in verdict.arms:
            table.add_row(
                verdict.split,
                arm.name,
                str(arm.customers),
                str(arm.converted),
                f"{arm.rate:.1%}",
                f"{arm.low:.1%} – {arm.high:.1%}",
            )
        table.add_row(verdict.split, f"[bold]{verdict.text}[/bold]", "", "", "", "")
    return table
