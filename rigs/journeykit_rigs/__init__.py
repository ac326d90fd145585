"""Verification rigs: the chaos harness, the benchmarks and the provider sandbox's pytest fixtures.
Installed with the dev tools; the product never imports them."""
