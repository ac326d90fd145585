"""What each report shows on its page (and in its Prefect artifact): cards, charts, tables.
The numbers come from the report objects; nothing is computed here but formatting."""

from __future__ import annotations

from datetime import date, datetime

from babel.numbers import format_currency
from markupsafe import Markup

from journeykit.reports import charts
from journeykit.reports.attribution import ApologyOutcome, BackorderOutcome, RestockOutcome
from journeykit.reports.backorder import BackorderReport
from journeykit.reports.demand import DemandReport
from journeykit.reports.journey_report import JourneyReport
from journeykit.reports.page import Card, Chart, Section, Table, VerdictLine
from journeykit.reports.rates import FLAGS, Rates


def money(cents_by_currency: dict[str, int]) -> str:
    """Amounts per currency, side by side (never added up across currencies)."""
    if not cents_by_currency:
        return "0"
    return " + ".join(
        format_currency(cents / 100, currency, locale="en_US")
        for currency, cents in sorted(cents_by_currency.items())
    )


def percent(value: float) -> str:
    return f"{value:.1%}"


def _chart(name: str, figure: object) -> Chart:
    return Chart(name, Markup(charts.svg(figure)))  # type: ignore[arg-type]


def _rates_table(name: str, caption: str, first: str, rows: dict[str, Rates]) -> Table:
    headers = [first, "sent", *[f"{flag} %" for flag in FLAGS]]
    return Table(
        name,
        caption,
        headers,
        [
            [key, str(r.sent), *[f"{r.rate(flag):.1%} ({getattr(r, flag)})" for flag in FLAGS]]
            for key, r in rows.items()
        ],
    )


def journey_sections(report: JourneyReport) -> list[Section]:
    earned = report.earned
    name = report.journey
    section = Section(
        id=f"journey-{name}",
        title=f"Journey: {name}",
        intro=(
            f"Orders attributed to {name}'s messages: the last message clicked within "
            f"{report.windows.click.days} d before the order, else the last received within "
            f"{report.windows.receive.total_seconds() / 3600:g} h."
        ),
    )
    r = report.rates
    section.cards = [
        Card("revenue", "Attributed revenue", money(earned.cents)),
        Card(
            "orders",
            "Attributed orders",
            str(earned.orders),
            f"{sum(not o.kept for o in report.attributed)} cancelled, not counted",
        ),
        Card("enrollments", "Enrollments", str(report.funnel.enrollments)),
        Card("converted", "Converted", str(report.funnel.converted)),
        Card("sent", "Messages sent", str(r.sent)),
        Card("clicked", "Click rate", percent(r.rate("clicked")), f"{r.clicked} messages"),
        Card(
            "opened",
            "Open rate (estimate)",
            percent(r.rate("opened")),
            f"{r.machine_opened} machine opens (Apple Mail privacy)",
        ),
    ]
    section.verdicts = [VerdictLine(v.split, v.text) for v in report.verdicts]
    funnel_rows = [(n.node, n.entered, n.sent, n.converted) for n in report.funnel.nodes]
    if funnel_rows:
        section.charts.append(_chart("funnel", charts.funnel_figure(funnel_rows)))
    per_day = report.earned_per_day()
    if per_day:
        currencies = sorted({c for m in per_day.values() for c in m.cents})
        section.charts.append(
            _chart(
                "daily",
                charts.daily_figure(
                    list(per_day),
                    [m.orders for m in per_day.values()],
                    {c: [m.cents.get(c, 0) for m in per_day.values()] for c in currencies},
                ),
            )
        )
    for verdict in report.verdicts:
        arms = [(a.name, a.rate, a.low, a.high, a.customers) for a in verdict.arms]
        section.charts.append(
            _chart(f"arms-{verdict.split}", charts.arms_figure(verdict.split, arms))
        )
        section.tables.append(
            Table(
                f"arms-{verdict.split}",
                f"A/B split {verdict.split}: conversion with its {verdict.confidence:.0%} interval",
                ["arm", "customers", "converted", "rate", "interval"],
                [
                    [
                        a.name,
                        str(a.customers),
                        str(a.converted),
                        percent(a.rate),
                        f"{a.low:.1%} – {a.high:.1%}",
                    ]
                    for a in verdict.arms
                ],
            )
        )
    by_node = report.earned_by("node")
    section.tables.append(
        Table(
            "earned-by-node",
            "Attributed orders and revenue per message (node)",
            ["node", "orders", "revenue"],
            [[k, str(m.orders), money(m.cents)] for k, m in by_node.items()],
        )
    )
    section.tables.append(
        _rates_table(
            "rates-by-node",
            "Rates per node (opened: an estimate)",
            "node",
            {k[1]: v for k, v in report.node_rates.items()},
        )
    )
    section.tables.append(
        _rates_table(
            "rates-by-template",
            "Rates per template",
            "template",
            {f"{k[1]} ({k[2]})": v for k, v in report.template_rates.items()},
        )
    )
    if report.arm_rates:
        section.tables.append(
            _rates_table(
                "rates-by-arm",
                "Rates per A/B arm",
                "arm",
                {f"{k[1]}={k[2]}": v for k, v in report.arm_rates.items()},
            )
        )
    if report.day_rates:
        section.tables.append(
            _rates_table(
                "rates-by-day",
                "Rates per send day (UTC)",
                "day",
                {k.isoformat(): v for k, v in report.day_rates.items()},
            )
        )
    _outcome(section, report)
    section.notes.append(
        "Opens are an estimate: Apple Mail's privacy protection opens every email, and image "
        "blocking hides real opens. Clicks and orders are the numbers to trust."
    )
    return [section]


def _outcome(section: Section, report: JourneyReport) -> None:
    outcome = report.outcome
    if isinstance(outcome, RestockOutcome):
        section.cards += [
            Card("restock-alerted", "Shoppers alerted", str(outcome.alerted)),
            Card(
                "restock-bought",
                "Bought the alerted item",
                str(outcome.bought),
                f"{percent(outcome.rate)} within {report.windows.click.days} d",
            ),
            Card("restock-revenue", "Restock revenue", money(outcome.revenue_cents)),
        ]
    elif isinstance(outcome, ApologyOutcome):
        section.cards += [
            Card("apology-orders", "Orders apologised for", str(outcome.apologised)),
            Card(
                "apology-kept",
                "Kept (not cancelled)",
                str(outcome.kept),
                percent(outcome.kept_rate),
            ),
            Card("apology-kept-revenue", "Revenue kept", money(outcome.kept_cents)),
            Card(
                "apology-credits",
                "Credits redeemed",
                f"{outcome.credits_redeemed} / {outcome.credits_issued}",
                money(outcome.credit_cents) + " issued",
            ),
        ]
    elif isinstance(outcome, BackorderOutcome):
        section.charts.append(_chart("kept-vs-cancelled", _cohorts_figure(outcome)))


def _cohorts_figure(outcome: BackorderOutcome) -> object:
    cohorts = [outcome.backorders, outcome.delayed]
    return charts.stacked_figure(
        "Delivered vs cancelled: backorders beside delayed orders",
        [f"{c.name} ({percent(c.cancel_rate)} cancelled)" for c in cohorts],
        {
            "delivered": [c.delivered for c in cohorts],
            "open": [c.open for c in cohorts],
            "cancelled": [c.cancelled for c in cohorts],
        },
    )


def demand_sections(report: DemandReport, now: datetime) -> list[Section]:
    section = Section(
        id="demand",
        title="Out-of-stock demand (R4)",
        intro="Variants shoppers are waiting for, most revenue waiting first: restock these.",
        cards=[
            Card(
                "waiting",
                "Revenue waiting",
                money(report.waiting_cents),
                "shoppers waiting x today's price",
            ),
            Card("shoppers", "Shoppers waiting", str(report.shoppers)),
            Card(
                "signups",
                "Sign-ups",
                str(report.signups),
                f"email {report.email}, SMS {report.sms}",
            ),
            Card("variants", "Variants", str(report.variants)),
        ],
    )
    ranked = report.by_value()
    if ranked:
        section.charts.append(
            _chart(
                "revenue-waiting",
                charts.bars_figure(
                    "Revenue waiting per variant",
                    [f"{r.sku} ({r.currency})" for r in ranked],
                    [r.waiting_cents / 100 for r in ranked],
                    "revenue waiting (in the variant's currency)",
                ),
            )
        )
    if report.per_day:
        days = _every_day(list(report.per_day))
        section.charts.append(
            _chart(
                "signups-per-day",
                charts.series_figure(
                    "New restock sign-ups per day",
                    days,
                    {"sign-ups": [report.per_day.get(d, 0) for d in days]},
                ),
            )
        )
    section.tables.append(
        Table(
            "demand",
            "Variants by revenue waiting",
            [
                "SKU",
                "product",
                "shoppers",
                "price",
                "revenue waiting",
                "email",
                "SMS",
                "longest wait",
            ],
            [
                [
                    r.sku,
                    f"{r.product} {r.variant}".strip(),
                    str(r.shoppers),
                    money({r.currency: r.price_cents}),
                    money({r.currency: r.waiting_cents}),
                    str(r.email),
                    str(r.sms),
                    f"{max(0, (now - r.oldest).days)} d",
                ]
                for r in ranked
            ],
        )
    )
    return [section]


def backorder_sections(report: BackorderReport) -> list[Section]:
    b, o = report.backorder, report.others
    section = Section(
        id="backorder",
        title="Backorder buyers vs other customers (B6)",
        cards=[
            Card("backorders", "Orders on backorder", str(report.backorders)),
            Card(
                "ltv-backorder",
                "Lifetime value, backorder buyers",
                money({report.currency: b.lifetime_value_cents})
                if "," not in report.currency
                else "several currencies",
            ),
            Card(
                "ltv-others",
                "Lifetime value, others",
                money({report.currency: o.lifetime_value_cents})
                if "," not in report.currency
                else "several currencies",
            ),
            Card(
                "cancel-backorder",
                "Cancelled: backorders",
                percent(report.outcome.backorders.cancel_rate),
            ),
            Card(
                "cancel-delayed",
                "Cancelled: delayed orders",
                percent(report.outcome.delayed.cancel_rate),
            ),
        ],
    )
    section.charts.append(_chart("kept-vs-cancelled", _cohorts_figure(report.outcome)))
    if report.per_week:
        weeks = list(report.per_week)
        section.charts.append(
            _chart(
                "orders-per-week",
                charts.series_figure(
                    "Orders per week (not cancelled)",
                    weeks,
                    {
                        "backorder buyers": [report.per_week[w].get("backorder", 0) for w in weeks],
                        "other customers": [report.per_week[w].get("other", 0) for w in weeks],
                    },
                ),
            )
        )
    section.tables.append(
        Table(
            "cohorts",
            f"Cohorts (currency {report.currency})",
            ["cohort", "customers", "orders", "orders / customer", "repeat rate"],
            [
                [
                    c.name,
                    str(c.customers),
                    str(c.orders),
                    f"{c.orders_per_customer:.2f}",
                    percent(c.repeat_rate),
                ]
                for c in (b, o)
            ],
        )
    )
    return [section]


def _every_day(days: list[date]) -> list[date]:
    first, last = min(days), max(days)
    return [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]


def summary_section(reports: list[JourneyReport]) -> Section:
    """One row per journey: the overview's first table."""
    return Section(
        id="summary",
        title="All journeys",
        tables=[
            Table(
                "summary",
                "Per journey: enrollments, messages, clicks and attributed orders",
                ["journey", "enrollments", "converted", "sent", "clicked", "orders", "revenue"],
                [
                    [
                        r.journey,
                        str(r.funnel.enrollments),
                        str(r.funnel.converted),
                        str(r.rates.sent),
                        percent(r.rates.rate("clicked")),
                        str(r.earned.orders),
                        money(r.earned.cents),
                    ]
                    for r in reports
                ],
            )
        ],
    )
