"""Templates: the hardened Jinja sandbox and its limits, rendering, filters, the plain-text part,
SMS segments."""
