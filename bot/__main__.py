"""``python -m bot`` is the ``beholder`` command."""

import sys

from bot.cli.main import main

sys.exit(main())
