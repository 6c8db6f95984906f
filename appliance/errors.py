"""The one error tree of the appliance; `web/` maps it to HTTP in one place."""


class CallboxError(Exception):
    """Base of every error the appliance raises on purpose."""


class UserError(CallboxError):
    """Bad input from a person or a file: the message is shown to them as it is."""


class ConfigError(UserError):
    """Settings that cannot be used; raised at start-up, before anything runs."""


class SipError(CallboxError):
    """A failure inside the SIP engine, translated from pjsua2's own error."""


class CapacityError(SipError):
    """The engine refuses a call because one of its limits would be reached."""


class NotFoundError(UserError):
    """A thing asked for by name or id does not exist."""
