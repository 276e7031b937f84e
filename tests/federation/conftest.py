"""The federation tests share one federation (coordinator and three nodes) for the session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def federation(tmp_path_factory, demo_cohorts):
    """A coordinator and three nodes (dk, se and uk, uk with a real hub), each with its own
    airlock, keys, catalogue (one demo cohort of the session's ``demo_cohorts``) and agent;
    see tests/federation/fixture.py."""
    from tests.federation.fixture import Federation

    federation = Federation(tmp_path_factory.mktemp("federation"), demo_cohorts)
    try:
        federation.build()
        yield federation
    finally:
        federation.close()
