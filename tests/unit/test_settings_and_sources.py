"""Settings from TOML and env; trunk source matching."""

from pathlib import Path

import pytest

from appliance.errors import ConfigError
from appliance.settings import Settings
from appliance.trunks.sources import SourceMap, parse_networks, split_host_port


def test_env_overrides_toml(tmp_path: Path) -> None:
    cfg = tmp_path / "callbox.toml"
    cfg.write_text('[sip]\nport = 5070\n[data]\ndir = "/srv/callbox"\n')
    s = Settings.load(cfg, env={"CALLBOX_SIP_PORT": "5080"})
    assert s.sip.port == 5080
    assert s.data.dir == Path("/srv/callbox")
    assert s.data.database_path == Path("/srv/callbox/callbox.sqlite3")


@pytest.mark.parametrize(("text", "message"), [
    ("[sip]\nport = 70000\n", "sip.port"),
    ("[sip]\nprot = 1\n", "unknown setting"),
    ("[nope]\n", "unknown settings section"),
    ("[sip]\nport = 'x'\n", "whole number"),
    ("not toml", "cannot read"),
])
def test_bad_settings_are_named(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "callbox.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Settings.load(cfg, env={})


def test_source_map() -> None:
    sources = SourceMap([("a", parse_networks("198.51.100.0/28, 2001:db8::1")), ("b", parse_networks("203.0.113.9"))])
    assert sources.match("198.51.100.7") == "a"
    assert sources.match("2001:db8::1") == "a"
    assert sources.match("203.0.113.9") == "b"
    assert sources.match("203.0.113.10") is None
    assert sources.match("not-an-ip") is None
    with pytest.raises(ValueError, match=r"300\.1\.1\.1"):
        parse_networks("300.1.1.1")
    assert split_host_port("sip.example:5080") == ("sip.example", 5080)
    assert split_host_port("[2001:db8::1]:5061") == ("2001:db8::1", 5061)
    assert split_host_port("2001:db8::1") == ("2001:db8::1", 5060)
