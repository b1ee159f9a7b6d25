"""``python -m ganfill`` is the ``ganfill`` command."""

import sys

from .cli import main

sys.exit(main())
