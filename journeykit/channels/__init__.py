"""Channels: rendering, compliance rules, the outbox dispatcher and the provider senders."""
