"""The production topology, as ops run it (docs/ops.md): a PostgreSQL server, ``prefect server
start`` on it, ``journeys db upgrade``, ``journeys deploy``, two ``prefect worker start`` processes,
``journeys serve`` and ``journeys sandbox``, each a real process started, watched and stopped
here; store events posted over HTTP in adversarial order, and the messages the sandbox accepted
checked: each exactly once, in order per subject (tests/rigs/topology)."""
