"""``python -m tests.federation.run_tresor ARGS``: the ``tresor`` command with the protocol
tests' STUB analyses and merge registered where the real ones are missing (tests.federation.stubs);
with the real modules present it is exactly ``tresor ARGS``."""

from tests.federation.stubs import install

install()

from tresor.cli import main  # noqa: E402 - after the stubs are registered

main()
