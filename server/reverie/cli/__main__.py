"""``python -m reverie.cli``: the ``reverie`` command without its console script."""

import sys

from reverie.cli.main import main

sys.exit(main())
