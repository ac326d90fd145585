"""Chaos testing: a worker subprocess killed with SIGKILL at random points while it runs the
real journeys against the provider sandbox, restarted, and checked for duplicates, losses
and stuck or half-written rows afterwards (``journeys chaos``)."""
