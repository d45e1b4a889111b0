"""``python -m plumego_lint``: the same entry point as the ``plumego-lint`` script."""

import sys

from plumego_lint.cli import main

sys.exit(main())
