"""Release names: each file's name in the bundle is checked when it is added, alone (its
spelling) and against the request's other names (the bundle is a directory tree)."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from airlock import policies
from airlock.domain import MAX_FILE_NAME, ReleaseRequest, RequestFile, release_name
from airlock.enums import RequestStatus
from airlock.exceptions import InvalidInput, PolicyViolation

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def draft(*names: str) -> ReleaseRequest:
    files = tuple(
        RequestFile(i, name, name, "d", "c", "0" * 64, 1, "pass", {"findings": []}, None, NOW, NOW)
        for i, name in enumerate(names, start=1)
    )
    return ReleaseRequest(
        id="0123456789abcdef",
        project="nordic-gwas",
        requester="researcher1",
        status=RequestStatus.DRAFT,
        round=0,
        created_at=NOW,
        updated_at=NOW,
        submitted_at=None,
        released_at=None,
        bundle_name=None,
        files=files,
    )


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("out/b.tsv", "out/b.tsv"),
        ("./out//b.tsv", "out/b.tsv"),
        ("out/b.tsv/", "out/b.tsv"),
        ("out/./b.tsv", "out/b.tsv"),
        (unicodedata.normalize("NFD", "résumé.csv"), unicodedata.normalize("NFC", "résumé.csv")),
    ],
)
def test_release_name__is_stored_in_one_spelling(given, stored):
    assert release_name(given) == stored


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("", "empty"),
        ("./", "names no file"),
        ("/etc/passwd", "absolute"),
        ("../x.csv", "'..'"),
        ("out/../../x.csv", "'..'"),
        ("out\\x.csv", "backslash"),
        ("out\x00.csv", "control character"),
        ("out\n.csv", "control character"),
        ("out\x85.csv", "control character"),  # a C1 control
        ("gpj.\u202ecsv", "control character"),  # right-to-left override: looks like .jpg
        ("a" * 256, "255 bytes"),
        ("é" * 128, "255 bytes"),  # 128 characters, 256 bytes in UTF-8
        ("/".join(["abcdefg"] * 40), f"{MAX_FILE_NAME} characters"),
    ],
)
def test_release_name__refuses_what_cannot_be_a_name_in_a_bundle(given, says):
    with pytest.raises(InvalidInput, match=says):
        release_name(given)


@pytest.mark.parametrize(
    ("existing", "new", "says"),
    [
        # the case: a name that is a file and a directory at once
        (["out"], "out/b.tsv", "'out' is a file"),
        (["out/b.tsv"], "out", "'out' is a directory"),
        (["out/sub/c.tsv"], "out/sub", "'out/sub' is a directory"),
        (["out/sub"], "out/sub/c.tsv/d", "'out/sub' is a file"),
        # the same name twice
        (["out/b.tsv"], "out/b.tsv", "already has a file named 'out/b.tsv'"),
        # names that only letter case or the Unicode spelling tell apart
        (["Out/B.tsv"], "out/b.tsv", "letter case"),
        (["results.CSV"], "results.csv", "letter case"),
        ([unicodedata.normalize("NFD", "é.csv")], "é.csv", "letter case or Unicode"),
        (["Out"], "out/b.tsv", "'Out' is a file"),
        (["Straße.csv"], "STRASSE.csv", "letter case"),
    ],
)
def test_release_names__conflicts_are_refused_with_what_to_rename(existing, new, says):
    request = draft(*existing)
    assert not policies.can_name_file(request, new)
    with pytest.raises(PolicyViolation, match=says) as refused:
        policies.check_can_name_file(request, new)
    assert "rename" in str(refused.value) or "another name" in str(refused.value)
    with pytest.raises(PolicyViolation, match=says):
        policies.check_can_add_file(request, new, max_files=50)


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        (["out/a.tsv"], "out/b.tsv"),  # siblings share a directory
        (["out/a.tsv", "out/sub/c.tsv"], "out/sub/d.tsv"),
        (["out.tsv"], "out/b.tsv"),
        (["outer/b.tsv"], "out"),  # a prefix of a part is not a directory
        (["b.tsv"], "out/b.tsv"),
    ],
)
def test_release_names__a_tree_without_conflicts_is_accepted(existing, new):
    request = draft(*existing)
    assert policies.can_name_file(request, new)
    policies.check_can_add_file(request, new, max_files=50)


def test_submit__refuses_conflicting_names_stored_before_they_were_checked():
    """A draft made by an older version may hold `out` and `out/b.tsv`: it cannot be
    submitted until one is renamed (removed and added again)."""
    with pytest.raises(PolicyViolation, match="'out' is a file"):
        policies.check_can_submit(draft("out", "out/b.tsv"))
    assert not policies.can_submit(draft("out", "out/b.tsv"))
    policies.check_can_submit(draft("out/a.tsv", "out/b.tsv"))
