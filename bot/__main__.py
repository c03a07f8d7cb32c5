"""``python -m bot`` is the ``beholder`` command."""

import sys

from bot.cli import main

sys.exit(main())
