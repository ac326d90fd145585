"""Fixtures for the sandbox tests: a running sandbox per module, a callback receiver."""

from journeykit_rigs.fixtures import callback_receiver, sandbox, sandbox_server

__all__ = ["callback_receiver", "sandbox", "sandbox_server"]
