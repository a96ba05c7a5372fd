import sys

from .frontends.cli import console_main

sys.exit(console_main())
