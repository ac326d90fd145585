"""One router per concern: store events, webhooks, action pages, signups, preferences."""
