"""The federated request's state machine, as data: each node's answer, and the request's.

A node's part (a *target*) starts ``waiting``; the node's agent reports ``running`` and
``in_review`` (with its polls) or ``refused`` (with the reason); it becomes ``released`` only
when the coordinator has verified the node's signed bundle. The request is ``open`` until every
target is released or refused, then ``merging``, then ``merged`` (or ``failed`` when no node
released anything, or the merge failed).
"""

from __future__ import annotations

import enum

from tresor.core.errors import TresorError


class TargetStatus(enum.StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    IN_REVIEW = "in_review"
    RELEASED = "released"
    REFUSED = "refused"


class RequestState(enum.StrEnum):
    OPEN = "open"
    MERGING = "merging"
    MERGED = "merged"
    FAILED = "failed"


T = TargetStatus

VALID_TRANSITIONS: dict[TargetStatus, frozenset[TargetStatus]] = {
    T.WAITING: frozenset({T.RUNNING, T.IN_REVIEW, T.RELEASED, T.REFUSED}),
    T.RUNNING: frozenset({T.IN_REVIEW, T.RELEASED, T.REFUSED}),
    T.IN_REVIEW: frozenset({T.RELEASED, T.REFUSED}),
    T.RELEASED: frozenset(),
    T.REFUSED: frozenset(),
}

#: what an agent may report with a poll; ``released`` needs a verified bundle
REPORTABLE = frozenset({T.RUNNING, T.IN_REVIEW, T.REFUSED})
#: a node has answered: nothing more comes from it for this request
ANSWERED = frozenset({T.RELEASED, T.REFUSED})


class InvalidTransition(TresorError):
    """A node reported a status its part of the request cannot move to."""


def check_transition(current: TargetStatus, new: TargetStatus) -> None:
    if new not in VALID_TRANSITIONS[current]:
        allowed = ", ".join(sorted(VALID_TRANSITIONS[current])) or "nothing (it has answered)"
        raise InvalidTransition(
            f"a node's part cannot go from {current} to {new}; from {current}: {allowed}"
        )


START = "<!-- federation-states:start (generated from tresor.federation.coordinator.states) -->"
END = "<!-- federation-states:end -->"


def mermaid() -> str:
    """The diagram of docs/federation.md, from :data:`VALID_TRANSITIONS`: who moves each step
    (the node's agent reports; only a verified bundle releases)."""
    lines = ["```mermaid", "stateDiagram-v2", f"    [*] --> {T.WAITING}"]
    for source, targets in VALID_TRANSITIONS.items():
        for target in sorted(targets, key=list(TargetStatus).index):
            who = "verified bundle" if target == T.RELEASED else "agent reports"
            lines.append(f"    {source} --> {target}: {who}")
        if not targets:
            lines.append(f"    {source} --> [*]")
    lines.append("```")
    return "\n".join(lines)


def block() -> str:
    return f"{START}\n{mermaid()}\n{END}"
