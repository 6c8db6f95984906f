"""The published schema matches the code, and the `callbox config` command works end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from appliance.config.schema import schema, schema_json
from appliance.config.secrets import SecretNotFound, Secrets

REPO = Path(__file__).resolve().parents[2]
PUBLISHED = REPO / "appliance" / "config" / "callbox-config.schema.json"


def test_published_schema_is_the_codes() -> None:
    assert PUBLISHED.read_text() == schema_json(), "regenerate: callbox config schema > " + str(PUBLISHED)
    jsonschema.Draft202012Validator.check_schema(schema())


def test_env_reference_and_path_escape() -> None:
    secrets = Secrets(Path("/nonexistent"), env={"CALLBOX_SECRET_TRUNK_B_PASSWORD": "x1"})
    assert secrets.resolve({"secret": "trunk/b/password"}, "other", None) == "x1"
    with pytest.raises(SecretNotFound, match="may not contain"):
        secrets.lookup("../etc/shadow")
    assert secrets.resolve("plain", "own", "old") == "plain"


def _callbox(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CALLBOX_DATA_DIR": str(tmp_path / "data"),
           "CALLBOX_SECRETS_DIR": str(tmp_path / "s")}
    return subprocess.run([sys.executable, "-m", "appliance", "config", *args], cwd=REPO, env=env,
                          input=stdin, capture_output=True, text=True, timeout=60, check=False)


def test_command_apply_export_and_errors(tmp_path: Path) -> None:
    doc = ("version: 1\noperators:\n  - {name: Anna, extension: '101'}\n"
           "queues:\n  - {name: q, members: ['101']}\ndids:\n  - {number: '*', queue: q}\n")
    (tmp_path / "office.yml").write_text(doc)
    dry = _callbox(tmp_path, "apply", "--dry-run", str(tmp_path / "office.yml"))
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[-1] == "would change 3 item(s)"
    first = _callbox(tmp_path, "apply", str(tmp_path / "office.yml"))
    assert first.stdout.splitlines()[-1] == "changed 3 item(s)", first.stderr
    assert _callbox(tmp_path, "apply", str(tmp_path / "office.yml")).stdout == "no changes\n"
    exported = _callbox(tmp_path, "export")
    jsonschema.validate(yaml.safe_load(exported.stdout), json.loads(PUBLISHED.read_text()))
    assert _callbox(tmp_path, "apply", "-", stdin=exported.stdout).stdout == "no changes\n"
    bad = _callbox(tmp_path, "apply", "-", stdin="version: 1\nqueues:\n  - {name: q, strategy: loudest}\n")
    assert bad.returncode == 2
    assert bad.stderr.startswith("callbox: <stdin>, line 3: queues[0].strategy: 'loudest' is not one of")
    assert _callbox(tmp_path, "schema").stdout == schema_json()
