"""``journeys preview`` never makes a live link (issue 16): its links point at a reserved
``.invalid`` host and are signed with a secret made up for the preview, so the production
server refuses them for every customer."""

from __future__ import annotations

import re

from journeykit.authoring.preview import PREVIEW_BASE_URL, PREVIEW_NOW, render_messages
from journeykit.authoring.sample import PreviewInput
from journeykit.engine.book import JourneyBook
from journeykit.foundation.settings import PROJECT_ROOT, Settings
from journeykit.messaging.signed_links import LinkError, read_action, read_unsubscribe

SECRET = "the-production-secret-0123456789abcdef"


def test_preview_links_go_nowhere_and_no_server_accepts_them() -> None:
    settings = Settings().with_changes(
        {"web.signing_secret": SECRET, "web.public_base_url": "https://journeys.shop.example"}
    )
    journey = JourneyBook.from_dir(PROJECT_ROOT / "journeys").get("review_request")
    messages = render_messages(journey, settings, PreviewInput())
    html = " ".join(str(m.content.get("html", "")) for m in messages if m.channel == "email")
    assert "journeys.shop.example" not in html
    tokens = re.findall(re.escape(PREVIEW_BASE_URL) + r"/a/([^\"'?<\s]+)", html)
    assert tokens, "the review email has action links"
    for token in tokens:
        try:
            read_action(SECRET, token, now=PREVIEW_NOW)
        except LinkError:
            continue
        raise AssertionError("a preview link is accepted with the production secret")
    for token in re.findall(re.escape(PREVIEW_BASE_URL) + r"/u/([^\"'?<\s]+)", html):
        try:
            read_unsubscribe(SECRET, token)
        except LinkError:
            continue
        raise AssertionError("a preview unsubscribe link is accepted")
