"""Carrier trunks on the SIP thread: one pjsua2 account per trunk, its registration, its codec offer.

Runs on the SIP thread only. A registration trunk's account registers with digest auth; an IP
trunk's account never registers and only gives outbound calls the trunk's identity (its caller
ID as the From user) and credentials for carriers that challenge INVITEs. pjsua2 never retries a
failed REGISTER by itself here (`retryIntervalSec = 0`): the trunk service retries every failure,
whatever its code, with a capped backoff — pjsua's own retry covers only some codes and waits
300 s by default. pjsua2 keeps codec priorities per endpoint, not per account, so a trunk's
codec list is put in force only around the `makeCall` that builds its offer.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import pjsua2 as pj

from appliance.errors import SipError
from appliance.sip.abc import TrunkSpec
from appliance.sip.pjobjects import Account

if TYPE_CHECKING:
    from appliance.sip.engine import SipThread

log = logging.getLogger(__name__)


class TrunkAccounts:
    """The accounts of the configured trunks, kept equal to the latest list of specs."""

    def __init__(self, thread: SipThread) -> None:
        self.thread = thread
        self.accounts: dict[str, tuple[TrunkSpec, Account]] = {}

    def apply(self, trunks: list[TrunkSpec]) -> None:
        """Create, recreate or remove accounts so that they match `trunks` exactly."""
        wanted = {t.name: t for t in trunks}
        for name in list(self.accounts):
            if wanted.get(name) != self.accounts[name][0]:
                self.accounts.pop(name)[1].shutdown()
        for name, spec in wanted.items():
            if name not in self.accounts:
                account = Account(self.thread, name)
                account.create(self._config(spec), False)  # the local account stays the default
                self.accounts[name] = (spec, account)

    def _config(self, spec: TrunkSpec) -> pj.AccountConfig:
        acfg = pj.AccountConfig()
        if spec.kind == "registration":
            transport = ";transport=tcp" if spec.transport == "tcp" else ""
            acfg.idUri = f"sip:{spec.username}@{spec.host}"
            acfg.regConfig.registrarUri = f"sip:{spec.host}{transport}"
            acfg.regConfig.timeoutSec = spec.register_expiry_s
            acfg.regConfig.retryIntervalSec = 0  # the trunk service retries, see the module docstring
        else:
            acfg.idUri = f"sip:{_user(spec.caller_id) or 'callbox'}@{self.thread.local_host()}"
        if spec.username:
            acfg.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", spec.realm or "*", spec.username, 0, spec.password))
        self.thread._media_ports(acfg)  # the engine's one rule for RTP ports
        return acfg

    def get(self, name: str) -> tuple[TrunkSpec, Account]:
        """The spec and account of a trunk, or SipError."""
        try:
            return self.accounts[name]
        except KeyError:
            raise SipError(f"no such trunk {name}") from None

    def register(self, name: str) -> None:
        """Send the trunk's REGISTER now."""
        spec, account = self.get(name)
        if spec.kind != "registration":
            raise SipError(f"trunk {name} does not register")
        account.setRegistration(True)

    def shutdown(self) -> None:
        """Delete every account (unregistering where registered)."""
        for _spec, account in self.accounts.values():
            account.shutdown()
        self.accounts.clear()

    @contextlib.contextmanager
    def offering(self, codecs: Sequence[str]) -> Iterator[None]:
        """Only these codecs, in this order, while the block runs (e.g. around a makeCall)."""
        if not codecs:
            yield
            return
        ep = self.thread.ep
        infos = ep.codecEnum2()
        current = {str(infos[i].codecId): int(infos[i].priority) for i in range(len(infos))}
        wanted = [name.strip().lower() for name in codecs]
        for codec_id in current:
            base = codec_id.split("/", 1)[0].lower()
            ep.codecSetPriority(codec_id, 254 - wanted.index(base) if base in wanted else 0)
        try:
            yield
        finally:
            for codec_id, priority in current.items():
                ep.codecSetPriority(codec_id, priority)


def _user(number: str) -> str:
    """A caller ID fit for the user part of a SIP URI."""
    return "".join(c for c in number if c.isalnum() or c in "+*#._-")
