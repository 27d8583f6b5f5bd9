"""``python -m kiln.cli``: the same entry point as the ``kiln`` script."""

from kiln.cli.main import main

main()
