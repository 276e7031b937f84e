"""The release ledger: every released table with counts of people is recorded in the airlock
database, and a later table of the same kind whose counts differ from it by fewer than
min_cell_count people in a cell is blocked, naming the earlier release (differencing)."""

from __future__ import annotations

from sqlalchemy import func, select

from airlock.db.models import ReleasedTableDatasetRow, ReleasedTableRow
from airlock.domain import User
from airlock.enums import Decision, RequestStatus
from tests.airlock_support import (
    USERS,
    make_airlock,
    make_settings,
    register_samples,
    write_workspace_file,
)

COUNTS = b"region,sex,n\nnorth,female,120\nnorth,male,115\nsouth,female,95\nsouth,male,100\n"
ONE_LESS = COUNTS.replace(b"north,male,115", b"north,male,114")  # one person fewer
OTHER = b"age_band,cases\n40-49,60\n50-59,85\n"


def user(name: str) -> User:
    return User(name, USERS[name])


def node(root, dk_grants=("nordic-gwas",)):
    settings = make_settings(root)
    register_samples(settings.catalogue_dir, "dk", [f"DK{i:06d}" for i in range(40)], dk_grants)
    register_samples(settings.catalogue_dir, "uk", [f"UK{i:06d}" for i in range(40)], ("x",))
    return settings


def draft(airlock, settings, files: dict[str, bytes], who="researcher1", project="nordic-gwas"):
    request = airlock.create_request(user(who), project)
    for name, data in files.items():
        write_workspace_file(settings, who, f"{request.id}/{name}", data)
        airlock.add_file(
            user(who),
            request.id,
            path=f"{request.id}/{name}",
            name=name,
            description="counts by region and sex",
            disclosure_control="counts of at least 10",
        )
    return airlock.get_request(user(who), request.id)


def release(airlock, settings, files, **kw):
    request = draft(airlock, settings, files, **kw)
    who = user(request.requester)
    airlock.submit(who, request.id)
    for reviewer in ("reviewer1", "reviewer2"):
        airlock.decide(user(reviewer), request.id, Decision.APPROVE)
    request = airlock.get_request(who, request.id)
    assert request.status == RequestStatus.RELEASED
    return request


def differencing(request, name):
    f = request.file_named(name)
    return [x for x in f.report["findings"] if x["rule"] == "differencing"]


def test_ledger__one_person_less_than_a_released_table_blocks_naming_it(tmp_path):
    settings = node(tmp_path / "node")
    airlock = make_airlock(settings)
    first = release(airlock, settings, {"counts.csv": COUNTS})
    later = draft(airlock, settings, {"counts.csv": ONE_LESS, "other.csv": OTHER})
    [found] = differencing(later, "counts.csv")
    assert later.file_named("counts.csv").verdict == "block"
    assert found["location"]["row"] == 2 and found["location"]["column"] == "n"
    day = f"{first.released_at:%Y-%m-%d}"
    assert f"counts.csv released in request {first.id} on {day}" in found["message"]
    assert differencing(later, "other.csv") == []  # an unrelated table
    assert later.file_named("other.csv").verdict != "block"
    airlock.dal.engine.dispose()


def test_ledger__survives_a_restart(tmp_path):
    settings = node(tmp_path / "node")
    airlock = make_airlock(settings)
    first = release(airlock, settings, {"counts.csv": COUNTS})
    airlock.dal.engine.dispose()

    restarted = make_airlock(settings)
    with restarted.dal.read() as r:
        rows = r.session.scalars(select(ReleasedTableRow)).all()
        granted = r.session.scalars(select(ReleasedTableDatasetRow.dataset)).all()
    assert [(x.request_id, x.project, x.file_name, x.kind) for x in rows] == [
        (first.id, "nordic-gwas", "counts.csv", "counts(region,sex|n)")
    ]
    assert granted == ["dk"]
    later = draft(restarted, settings, {"counts.csv": ONE_LESS})
    assert len(differencing(later, "counts.csv")) == 1
    restarted.dal.engine.dispose()


def test_ledger__a_periodic_release_is_compared_with_its_previous_one(tmp_path):
    settings = node(tmp_path / "node")
    airlock = make_airlock(settings)
    months = [COUNTS, COUNTS.replace(b"115", b"140"), COUNTS.replace(b"115", b"165")]
    for counts in months:  # each month 25 more people: every release passes
        request = release(airlock, settings, {"summary.csv": counts})
        assert differencing(request, "summary.csv") == []
    # a fourth "month" with 3 people more than the third
    later = draft(airlock, settings, {"summary.csv": COUNTS.replace(b"115", b"168")})
    [found] = differencing(later, "summary.csv")
    assert "168 here and 165" in found["message"]
    airlock.dal.engine.dispose()


def test_ledger__projects_sharing_a_dataset_are_compared_without_naming_each_other(tmp_path):
    settings = node(tmp_path / "node", dk_grants=("nordic-gwas", "uk-study"))
    airlock = make_airlock(settings)
    first = release(airlock, settings, {"counts.csv": COUNTS})
    theirs = draft(airlock, settings, {"mine.csv": ONE_LESS}, "researcher2", "uk-study")
    [found] = differencing(theirs, "mine.csv")
    assert f"a table another project released on {first.released_at:%Y-%m-%d}" in found["message"]
    assert "nordic-gwas" not in found["message"] and "counts.csv" not in found["message"]
    airlock.dal.engine.dispose()


def test_ledger__projects_sharing_no_dataset_are_not_compared(tmp_path):
    settings = node(tmp_path / "node")  # dk is granted to nordic-gwas only
    airlock = make_airlock(settings)
    release(airlock, settings, {"counts.csv": COUNTS})
    theirs = draft(airlock, settings, {"mine.csv": ONE_LESS}, "researcher2", "uk-study")
    assert differencing(theirs, "mine.csv") == []
    airlock.dal.engine.dispose()


def test_ledger__tables_in_one_request_or_under_review_are_compared(tmp_path):
    settings = node(tmp_path / "node")
    airlock = make_airlock(settings)
    both = draft(airlock, settings, {"a.csv": COUNTS, "b.csv": ONE_LESS})
    # the second file added is compared with the first; at submission each with the other
    [found] = differencing(both, "b.csv")
    assert "a.csv in this request" in found["message"]
    airlock.submit(user("researcher1"), both.id)
    both = airlock.get_request(user("researcher1"), both.id)
    assert "b.csv in this request" in differencing(both, "a.csv")[0]["message"]
    # a new request while that one is under review
    later = draft(
        airlock, settings, {"c.csv": ONE_LESS.replace(b"south,male,100", b"south,male,99")}
    )
    messages = [f["message"] for f in differencing(later, "c.csv")]
    assert any(f"a.csv in request {both.id}, under review" in m for m in messages)
    airlock.dal.engine.dispose()


def test_ledger__a_file_read_again_is_not_compared_with_its_old_self(tmp_path):
    settings = node(tmp_path / "node")
    airlock = make_airlock(settings)
    request = draft(airlock, settings, {"counts.csv": COUNTS})
    write_workspace_file(settings, "researcher1", f"{request.id}/counts.csv", ONE_LESS)
    f = request.file_named("counts.csv")
    refreshed = airlock.update_file(user("researcher1"), request.id, f.id, refresh=True)
    assert [x for x in refreshed.report["findings"] if x["rule"] == "differencing"] == []
    with airlock.dal.read() as r:
        assert r.session.scalar(select(func.count()).select_from(ReleasedTableRow)) == 0
    airlock.dal.engine.dispose()
