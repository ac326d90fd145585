"""Messaging policy: consent, quiet hours and frequency decisions, phone numbers, opt-out keywords,
composing a message, short and signed links."""
