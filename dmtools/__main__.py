"""``python -m dmtools``: the ``dmtools`` command."""

from dmtools.cli import main

main()
