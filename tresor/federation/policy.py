"""What a node accepts: its federation policy (``[federation]`` of the site config) and its
catalogue's grants, applied to a verified request. Each refusal says which rule and why; the
reason goes back to the coordinator, so it names settings, never data."""

from __future__ import annotations

import dataclasses
from typing import Any

from tresor.core.catalogue import DatasetEntry
from tresor.core.errors import TresorError
from tresor.core.site import SiteConfig
from tresor.federation import analysis_registry
from tresor.federation.crate import FederatedRequest


class Refused(TresorError):
    """This node does not run the request; the message is the reason it reports."""


@dataclasses.dataclass(frozen=True)
class Accepted:
    """What the node runs: the analysis, its checked parameters, the dataset, the project."""

    analysis: Any
    parameters: Any
    entry: DatasetEntry
    local_project: str


def decide(
    request: FederatedRequest, site: SiteConfig, catalogue: dict[str, DatasetEntry]
) -> Accepted:
    """Accept the request or raise :class:`Refused`."""
    node, policy = site.node_name, site.federation
    datasets = request.datasets_of(node)
    if not datasets:
        raise Refused(f"the request does not name node {node}")
    (dataset,) = datasets
    if request.analysis not in policy.analyses:
        accepted = ", ".join(policy.analyses) or "none"
        raise Refused(
            f"node {node} does not accept analysis {request.analysis} (it accepts: {accepted})"
        )
    try:
        analysis = analysis_registry.get(request.analysis, request.analysis_version)
        params = analysis.Parameters.model_validate(request.parameters)
    except analysis_registry.UnknownAnalysis as e:
        raise Refused(f"node {node}: {e}") from None
    except ValueError as e:  # pydantic's ValidationError
        raise Refused(
            f"node {node} cannot read the parameters of {request.analysis}: {e}"
        ) from None
    if dataset not in policy.datasets:
        accepted = ", ".join(policy.datasets) or "none"
        raise Refused(
            f"node {node} does not offer dataset {dataset} to the federation (it offers: "
            f"{accepted})"
        )
    entry = catalogue.get(dataset)
    if entry is None:
        raise Refused(f"node {node} has no dataset {dataset} in its catalogue")
    local = policy.projects.get(request.project)
    if local is None:
        raise Refused(
            f"coordinator project {request.project} is not mapped to a project of node {node}"
        )
    if not entry.granted_to([local]):
        raise Refused(
            f"dataset {dataset} is not granted to project {local} of node {node} (coordinator "
            f"project {request.project}); the node's data access committee grants datasets"
        )
    return Accepted(analysis=analysis, parameters=params, entry=entry, local_project=local)
