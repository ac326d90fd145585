"""Delivery: the outbox and its dispatch (claim, record, retry, rate limits, reconcile) and the
provider senders."""
