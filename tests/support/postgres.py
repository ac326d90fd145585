"""The throwaway PostgreSQL server of the tests (it lives with the rigs: the topology bench
starts one too)."""

from journeykit_rigs.topology.postgres import PostgresServer, available, postgres_server

__all__ = ["PostgresServer", "available", "postgres_server"]
