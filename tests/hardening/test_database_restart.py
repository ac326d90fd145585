"""PostgreSQL stopped (immediate: no goodbye to clients) and started again while the worker
runs a restock wave: the worker's batch rolls back and is retried, its pool reconnects
(pool_pre_ping), and every message still goes out exactly once."""

from __future__ import annotations

from itertools import count

import pytest
from journeykit_rigs.chaos.harness import ChaosConfig, run_chaos

from tests.support.postgres import PostgresServer

_names = count(1)


@pytest.mark.postgres
def test_database_restarts_mid_run(postgres: PostgresServer) -> None:
    def restart() -> None:
        postgres.stop("immediate")
        postgres.start()

    config = ChaosConfig(
        trials=1,
        customers=20,
        seed=5,
        kills_per_trial=1,
        db_restarts_per_trial=3,
        max_kill_delay_s=0.5,  # every fault lands while the wave is still going out
        restart_database=restart,
        database_url=lambda trial: postgres.create_database(f"chaos_{next(_names)}_{trial}"),
    )
    result = run_chaos(config).as_dict()
    assert result["db_restarts"] == 3 and result["kills"] == 1
    assert result["examples"] == []
    assert result["duplicates"] == result["lost"] == result["stuck"] == 0
    assert result["half_written"] == 0
    assert result["messages_sent"] == 3 * 20
