"""`python -m appliance` is `callbox`."""

import sys

from appliance.cli import main

sys.exit(main())
