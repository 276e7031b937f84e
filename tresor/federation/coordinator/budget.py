"""The Beacon's daily query budget in the coordinator's database, so a restart renews nobody's
day (:class:`tresor.discovery.beacon.DailyCounts`; the per-minute rate stays in memory)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy.exc
from sqlalchemy import delete, select

from tresor.federation.coordinator.models import BeaconQueriesRow
from tresor.federation.coordinator.service import Store

EPOCH = dt.date(1970, 1, 1)


class DatabaseDailyCounts:
    """Queries per (caller, day) in ``beacon_queries``: counted under the row's lock (SQLite:
    one writer at a time; PostgreSQL: ``SELECT ... FOR UPDATE``, and a first query of the day
    that two processes insert at once is retried)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def spend(self, caller: str, day: int, limit: int) -> bool:
        date = EPOCH + dt.timedelta(days=day)
        for _ in range(3):
            try:
                return self._spend(caller, date, limit)
            except sqlalchemy.exc.IntegrityError:  # another process inserted the day's row
                continue
        raise RuntimeError(f"could not count a Beacon query of {caller}")

    def _spend(self, caller: str, date: dt.date, limit: int) -> bool:
        with self.store.transaction() as session:
            query = select(BeaconQueriesRow).where(
                BeaconQueriesRow.caller == caller, BeaconQueriesRow.day == date
            )
            if self.store.engine.dialect.name == "postgresql":
                query = query.with_for_update()
            row = session.scalars(query).first()
            if row is None:
                session.execute(delete(BeaconQueriesRow).where(BeaconQueriesRow.day < date))
                session.add(BeaconQueriesRow(caller=caller, day=date, queries=1))
                return True
            if row.queries >= limit:
                return False
            row.queries += 1
            return True
