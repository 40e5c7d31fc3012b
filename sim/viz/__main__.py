"""``python -m sim.viz [CONFIG] [--port P]``: the same as ``drypowder viz``."""

import sys

from sim.cli import main

sys.exit(main(["viz", *sys.argv[1:]]))
