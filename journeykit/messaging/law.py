"""What the law of the recipient's country asks a *marketing* message to carry, as data.

One ``LabelRule`` per country: the label before the subject or SMS text, and the facts the
message must show (sender name, postal address, an opt-out link, a free opt-out number),
written in the country's language. The composer applies the rule of the recipient's country
to every marketing message (``apply_labels``); transactional messages carry none of it, and
``journeys validate`` rejects ad labels written into their templates. Sources and the
reasoning: docs/sending.md, "Labels the law asks of marketing messages".

The country of the recipient: an SMS goes by the number's country; an email by the
customer's country (their address), else their number's. Where the country is unknown or
has no rule, ``DEFAULT_EMAIL_RULE`` (CAN-SPAM's address and opt-out) still applies to email.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from journeykit.messaging.phone import region_of


@dataclass(frozen=True)
class LabelRule:
    country: str  # ISO 3166 alpha-2
    law: str
    source: str  # where the requirement is written
    channels: frozenset[str]  # the channels the rule covers
    prefix: str = ""  # before an email's subject and an SMS's text
    sender_name: bool = True
    postal_address: bool = False
    unsubscribe_link: bool = False  # email
    free_optout_number: bool = False  # SMS and email (Korea: "무료거부 080-...")
    # how the facts are written, in the country's language
    sender_line: str = "{name}"
    address_line: str = "{address}"
    unsubscribe_line: str = "Unsubscribe: {url}"
    optout_number_line: str = ""


KOREA = LabelRule(
    country="KR",
    law="Act on Promotion of Information and Communications Network Utilization and "
    "Information Protection (Network Act), art. 50(4); Enforcement Decree art. 61",
    source="https://www.law.go.kr/법령/정보통신망이용촉진및정보보호등에관한법률",
    channels=frozenset({"email", "sms"}),
    prefix="(광고)",
    postal_address=True,
    unsubscribe_link=True,
    free_optout_number=True,
    sender_line="보낸 곳: {name}",
    address_line="주소: {address}",
    unsubscribe_line="수신거부: {url}",
    optout_number_line="무료거부 {number}",
)

JAPAN = LabelRule(
    country="JP",
    law="Act on Regulation of Transmission of Specified Electronic Mail (特定電子メール法), "
    "art. 4; Ordinance art. 9",
    source="https://elaws.e-gov.go.jp/document?lawid=414AC0100000026",
    channels=frozenset({"email", "sms"}),
    postal_address=True,
    unsubscribe_link=True,
    sender_line="送信者：{name}",
    address_line="住所：{address}",
    unsubscribe_line="配信停止：{url}",
)

UNITED_STATES = LabelRule(
    country="US",
    law="CAN-SPAM Act, 15 U.S.C. 7704(a)(5); 16 CFR 316.4",
    source="https://www.ftc.gov/business-guidance/resources/can-spam-act-compliance-guide-business",
    channels=frozenset({"email"}),
    postal_address=True,
    unsubscribe_link=True,
    sender_line="{name}",
    address_line="{address}",
    unsubscribe_line="Unsubscribe: {url}",
)

RULES: dict[str, LabelRule] = {rule.country: rule for rule in (KOREA, JAPAN, UNITED_STATES)}
# A store that sends from the US owes CAN-SPAM's address and opt-out in every marketing email.
DEFAULT_EMAIL_RULE = UNITED_STATES

# Ad labels as a template might write them; a transactional message must carry none.
AD_LABELS = (
    "(광고)",
    "[광고]",
    "<광고>",
    "（광고）",
    "【広告】",
    "(広告)",
    "（広告）",
    "未承諾広告",
)


def recipient_country(channel: str, customer: dict[str, Any]) -> str | None:
    """The recipient's country for ``channel``: an SMS by its number; an email by the
    customer's country, else their number's."""
    phone = customer.get("phone")
    by_number = _region(phone) if phone else None
    if channel == "sms":
        return by_number
    country = customer.get("country")
    return str(country).upper() if country else by_number


def _region(phone: str) -> str | None:
    try:
        return region_of(phone)
    except ValueError:
        return None


def rule_for(channel: str, country: str | None) -> LabelRule | None:
    rule = RULES.get(country or "")
    if rule is not None and channel in rule.channels:
        return rule
    return DEFAULT_EMAIL_RULE if channel == "email" else None


@dataclass(frozen=True)
class Labels:
    """What one marketing message gets: a prefix and the footer lines."""

    rule: LabelRule
    prefix: str
    lines: tuple[str, ...]


def labels_for(
    channel: str, customer: dict[str, Any], store: dict[str, Any], unsubscribe_url: str
) -> Labels | None:
    rule = rule_for(channel, recipient_country(channel, customer))
    if rule is None:
        return None
    lines: list[str] = []
    if rule.sender_name and store.get("name"):
        lines.append(rule.sender_line.format(name=store["name"]))
    if rule.postal_address and channel == "email" and store.get("postal_address"):
        lines.append(rule.address_line.format(address=store["postal_address"]))
    if rule.unsubscribe_link and channel == "email" and unsubscribe_url:
        lines.append(rule.unsubscribe_line.format(url=unsubscribe_url))
    if rule.free_optout_number and store.get("optout_phone"):
        lines.append(rule.optout_number_line.format(number=store["optout_phone"]))
    return Labels(rule, rule.prefix, tuple(lines))


def _prefixed(text: str, prefix: str) -> str:
    if not prefix or text.lstrip().startswith(prefix):
        return text
    return f"{prefix} {text}" if not text.startswith(("[", "【")) else f"{prefix}{text}"


def label_sms(body: str, labels: Labels) -> str:
    """The SMS text with the prefix first and the required facts last (each once)."""
    text = _prefixed(body, labels.prefix)
    missing = [line for line in labels.lines if line not in text]
    if labels.rule.sender_name and missing and _names_sender(text, labels):
        missing = missing[1:]  # the text already starts with the store's name
    return " ".join([text, *missing]) if missing else text


def _names_sender(text: str, labels: Labels) -> bool:
    sender = labels.lines[0] if labels.lines else ""
    name = sender.split(": ")[-1].split("：")[-1]
    return bool(name) and name in text[:80]


def label_email(content: dict[str, Any], labels: Labels) -> dict[str, Any]:
    """Subject prefixed; the facts appended to the HTML (before ``</body>``) and the text."""
    html_lines = "".join(f"<p>{_escape(line)}</p>" for line in labels.lines)
    block = (
        '<div class="legal" style="padding:0 32px 32px 32px;font-size:12px;color:#4b5563;'
        f'text-align:center;">{html_lines}</div>'
    )
    html = str(content["html"])
    at = html.rfind("</body>")
    html = html[:at] + block + html[at:] if at >= 0 else html + block
    text = str(content.get("text") or "")
    return {
        **content,
        "subject": _prefixed(str(content["subject"]), labels.prefix),
        "html": html,
        "text": (text.rstrip() + "\n\n" + "\n".join(labels.lines)).lstrip(),
        "labels": {"country": labels.rule.country, "law": labels.rule.law},
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ad_labels_in(text: str) -> list[tuple[int, int, str]]:
    """(line, column, label) of every ad label written in ``text`` (1-based)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for label in AD_LABELS:
            col = line.find(label)
            if col >= 0:
                found.append((number, col + 1, label))
    return found
