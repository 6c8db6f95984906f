"""What the appliance's OS runs around the daemon: first boot, factory reset, updates, watchdog.

Standard library only: these run with the system's `python3` (`python3 -m firmware_hooks ...`,
from the units in `firmware_hooks/systemd/`), before or without the appliance's virtualenv.
Every hook works on a root directory (`--root`, default `/`), so tests run them in a temporary
tree.
"""
