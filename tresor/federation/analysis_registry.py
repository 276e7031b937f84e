"""Where the registered analyses are looked up, by the coordinator (to check a request) and by
the agent (to run one): ``tresor.federation.analyses.REGISTRY``, name -> analysis with
``name``, ``version``, ``Parameters`` (pydantic) and ``run(...)``."""

from __future__ import annotations

from typing import Any

from tresor.core.errors import TresorError


class UnknownAnalysis(TresorError):
    """No registered analysis of that name and version."""


def registered() -> dict[str, Any]:
    from tresor.federation.analyses import REGISTRY

    return REGISTRY


def get(name: str, version: str | None = None) -> Any:
    """The registered analysis ``name`` (at ``version``, when given)."""
    analyses = registered()
    analysis = analyses.get(name)
    if analysis is None:
        raise UnknownAnalysis(
            f"no registered analysis {name!r}; registered: {', '.join(sorted(analyses)) or 'none'}"
        )
    if version is not None and str(analysis.version) != str(version):
        raise UnknownAnalysis(
            f"analysis {name} is registered here at version {analysis.version}, not {version}"
        )
    return analysis


def check_parameters(analysis: Any, parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters as the analysis reads them (JSON values), or UnknownAnalysis saying which
    parameter is wrong."""
    from pydantic import ValidationError

    try:
        return analysis.Parameters.model_validate(parameters).model_dump(mode="json")
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or 'parameters'}: {err['msg']}" for err in e.errors()
        )
        raise UnknownAnalysis(f"parameters of {analysis.name}: {problems}") from None
