"""``python -m tresor`` is the ``tresor`` command."""

from tresor.cli import main

main()
