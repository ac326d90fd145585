"""Every message key a customer page can show exists in every locale catalog (issue 16: the
partial-shipment page showed the raw key ``choice.partial``): the keys written in the page
templates and the web code, the ``choice.<action>`` of every action a journey's message
links to, and the widget's texts."""

from __future__ import annotations

import re
from pathlib import Path

from journeykit.authoring.preview import send_nodes
from journeykit.engine.book import JourneyBook
from journeykit.foundation.settings import PROJECT_ROOT
from journeykit.web.i18n import DEFAULT, catalogs
from journeykit.web.routes.restock import WIDGET_TEXTS

WEB = PROJECT_ROOT / "journeykit" / "web"
PREFIXES = "choice|review|help|link|form|prefs|restock|unsub|order|notfound"
LITERAL = re.compile(rf"""["']((?:{PREFIXES})\.(?!js\b|html\b)[a-z_]+|notfound|skip)["']""")
BUILT = re.compile(r"""f["'](?:[a-z]+)\.\{""")  # f"choice.{...}": listed below instead


def keys_in(paths: list[Path], *, lines_with: tuple[str, ...] = ()) -> set[str]:
    """The catalog-like literals in ``paths`` (in code: on lines that translate or name a
    message key, so event types such as "order.placed" are not taken for keys)."""
    found: set[str] = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not lines_with or any(re.search(marker, line) for marker in lines_with):
                found |= set(LITERAL.findall(line))
    return found


def used_keys() -> dict[str, set[str]]:
    templates = sorted((WEB / "templates").glob("*.html"))
    code = sorted(WEB.rglob("*.py"))
    actions = {
        action
        for journey in JourneyBook.from_dir(PROJECT_ROOT / "journeys").journeys()
        for node in send_nodes(journey)
        for action in node.actions
    }
    return {
        "templates": keys_in(templates),
        "web code": keys_in(code, lines_with=(r"\bt\(", "_key")),
        "actions linked from messages": {f"choice.{a}" for a in actions},
        "restock widget": {f"restock.{name}" for name in WIDGET_TEXTS},
    }


def test_every_used_key_is_in_every_catalog() -> None:
    used = used_keys()
    assert len(used["templates"]) > 20 and "choice.partial" in used["actions linked from messages"]
    missing = {
        f"{locale}: {key} (used by {where})"
        for locale, table in catalogs().items()
        for where, keys in used.items()
        for key in keys
        if key not in table
    }
    assert not missing, sorted(missing)


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    english = catalogs()[DEFAULT]
    for locale, table in catalogs().items():
        assert set(table) == set(english), locale
        for key, text in table.items():
            wanted = set(re.findall(r"\{(\w+)\}", english[key]))
            assert set(re.findall(r"\{(\w+)\}", text)) == wanted, (locale, key)


def test_dynamic_keys_are_only_the_listed_kinds() -> None:
    """A key built at run time must be one of the kinds ``used_keys`` enumerates."""
    for path in sorted(WEB.rglob("*.py")):
        for match in BUILT.finditer(path.read_text(encoding="utf-8")):
            assert match.group(0)[2:-2] in ("choice", "restock"), (path, match.group(0))
