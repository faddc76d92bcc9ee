"""``python -m andon.cli``: the same as the ``andon`` command."""

from andon.cli import main

main(prog_name="andon")
