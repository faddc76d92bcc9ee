"""``python -m andon.cli``: the same as the ``andon`` command."""

import sys

from andon.cli.fast import main

sys.exit(main(prog_name="andon"))
