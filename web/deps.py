"""Names handlers ask for: the running services, sign-in, and the admin services."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency

from appliance.admin import Admin
from appliance.auth import Auth
from appliance.daemon import Services

ServicesDep: TypeAlias = NamedDependency[Services]
AuthDep: TypeAlias = NamedDependency[Auth]
AdminDep: TypeAlias = NamedDependency[Admin]
