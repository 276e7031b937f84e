"""The Beacon's access rules: granularity by caller, a daily budget and a per-minute rate."""

from __future__ import annotations

import pytest

from tresor.discovery.beacon import Access, BeaconError, Budget, granted, parse_query


def test_granted__anonymous_callers_get_at_most_the_configured_granularity():
    access = Access(anonymous_granularity="boolean")
    assert granted("record", None, access) == "boolean"
    assert granted("count", None, access) == "boolean"
    assert granted("record", "alice", access) == "record"
    assert granted("count", "alice", access) == "count"
    assert granted("record", None, Access(anonymous_granularity="count")) == "count"
    with pytest.raises(BeaconError, match="requestedGranularity"):
        granted("everything", "alice", access)


def test_budget__rate_per_minute_and_budget_per_day_per_caller():
    now = [1_000_000.0]
    budget = Budget(Access(daily_budget=5, per_minute=2), clock=lambda: now[0])
    budget.spend("alice")
    budget.spend("alice")
    with pytest.raises(BeaconError, match="at most 2 queries a minute") as e:
        budget.spend("alice")
    assert e.value.status == 429
    budget.spend("bob")  # each caller has their own allowance
    now[0] += 61
    budget.spend("alice")
    budget.spend("alice")
    now[0] += 61
    budget.spend("alice")  # the fifth today
    with pytest.raises(BeaconError, match="5 queries a day"):
        budget.spend("alice")
    now[0] += 86_400
    budget.spend("alice")  # a new day


def test_parse_query__sequence_range_and_bracket_and_their_errors():
    q = parse_query({"referenceName": "chr21", "start": "99", "alternateBases": "g"})
    assert (q.start, q.end, q.alternate_bases) == ((99,), (), "G")
    assert q.window() == (100, 100)
    q = parse_query({"referenceName": "21", "start": "99", "end": "200"})
    assert q.window()[1] == 200
    q = parse_query({"referenceName": "21", "start": "10,20", "end": "11,30"})
    assert q.window() == (11, 21)
    for bad, why in (
        ({"start": "1", "alternateBases": "A"}, "referenceName"),
        ({"referenceName": "1", "start": "1"}, "alternateBases"),
        ({"referenceName": "1", "start": "5", "end": "5"}, "greater"),
        ({"referenceName": "1", "start": "1,2", "end": "3"}, "bracket"),
        ({"referenceName": "1", "start": "-1", "alternateBases": "A"}, "negative"),
    ):
        with pytest.raises(BeaconError, match=why):
            parse_query(bad)
