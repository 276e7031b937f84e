"""Errors a researcher or admin can act on. Each message says what is wrong and what to do."""


class TresorError(Exception):
    """Base class: the CLI prints these without a traceback."""


class ConfigError(TresorError):
    """The site configuration is missing, malformed or asks for something not available."""


class NotVCFZarrError(TresorError, ValueError):
    """A path is not a VCF Zarr store written by bio2zarr (or compatible)."""


class DatasetNotFoundError(TresorError, KeyError):
    """No dataset with that id in the node's catalogue."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class AccessDeniedError(TresorError, PermissionError):
    """The user has no grant for a dataset."""


class ParameterError(TresorError, ValueError):
    """A parameter value that leaves nothing to analyse (too many components, filters that keep
    no variant). The message names the parameter to change; the CLI spells it as its option.

    ``template`` holds ``{name}`` placeholders for the parameters in ``values``; ``str(e)``
    spells them as Python keywords (``min_call_rate=0.95``), :meth:`render` as anything else.
    """

    def __init__(self, template: str, **values: object) -> None:
        self.template = template
        self.values = values
        super().__init__(self.render(lambda name, value: f"{name}={value!r}"))

    def render(self, spell) -> str:
        """The message with each parameter written as ``spell(name, value)``."""
        return self.template.format(**{k: spell(k, v) for k, v in self.values.items()})
