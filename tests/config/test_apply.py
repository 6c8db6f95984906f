"""`callbox config export|apply`: lossless round trip, idempotent, declarative, atomic, errors with lines."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from appliance.config import service, state
from appliance.config.fields import properties
from appliance.config.schema import schema
from appliance.config.secrets import Secrets
from appliance.config.yamlsrc import ConfigFileError
from appliance.storage import Database, Did, Operator, Queue, QueueMember, Seat, Trunk

OFFICE = textwrap.dedent("""\
    version: 1
    settings:
      box_name: Front desk
      timezone: Europe/Berlin
    trunks:
      - name: carrier-a
        kind: ip
        host: sip.carrier-a.example
        allowed_sources: [198.51.100.0/28, 203.0.113.5]
      - name: carrier-b
        kind: registration
        host: sip.carrier-b.example:5060
        username: "4951234567"
        password: {secret: carrier-b}
        priority: 20
    operators:
      - {name: Anna, extension: "101", seats: ["sip:101@192.0.2.50:5060"]}
      - name: Boris
        extension: "102"
        seats:
          - {kind: sip_uri, target: "sip:102@192.0.2.51:5060", enabled: false}
          - {kind: headset, target: "usb-1-1.2"}
    queues:
      - name: support
        strategy: rrmemory
        members: ["102", {extension: "101", penalty: 2}]
      - {name: sales, wait_mode: ringing}
    dids:
      - {number: "4951234567", trunk: carrier-b, queue: support}
      - {number: "*", queue: sales}
    """)


@pytest.fixture
def secrets(tmp_path: Path) -> Secrets:
    """A secrets directory holding the carrier-b password."""
    directory = tmp_path / "secrets"
    directory.mkdir()
    (directory / "carrier-b").write_text("s3cret\n")
    return Secrets(directory, env={})


async def test_apply_then_export_round_trips(db: Database, secrets: Secrets, tmp_path: Path) -> None:
    outcome = await service.apply(OFFICE, "office.yml", secrets)
    assert outcome.written
    assert "+ trunk carrier-b" in outcome.changes and "+ did * on any trunk -> sales" in outcome.changes
    trunk = await Trunk.get(name="carrier-b")
    assert trunk.password == "s3cret" and trunk.priority == 20
    assert (await Trunk.get(name="carrier-a")).allowed_sources == "198.51.100.0/28, 203.0.113.5"
    members = await QueueMember.filter(queue__name="support").order_by("position").prefetch_related(
        "operator")
    assert [(m.operator.extension, m.penalty) for m in members] == [("102", 0), ("101", 2)]
    exported = await service.export()
    assert "s3cret" not in exported
    doc = yaml.safe_load(exported)
    assert doc["trunks"][1]["password"] == {"secret": "trunk/carrier-b/password"}
    assert doc["settings"] == {"box_name": "Front desk", "timezone": "Europe/Berlin"}
    # The box's own references keep its values: the export applies back with no change at all.
    again = await service.apply(exported, "export.yml", Secrets(tmp_path / "empty", env={}))
    assert again.changes == [] and not again.written
    assert await service.export() == exported


async def test_export_to_a_fresh_box_is_lossless(db: Database, secrets: Secrets, tmp_path: Path) -> None:
    await service.apply(OFFICE, "office.yml", secrets)
    moved = Secrets(tmp_path / "moved", env={})
    exported = await service.export(moved, "ref")
    assert (tmp_path / "moved" / "trunk/carrier-b/password").read_text() == "s3cret\n"
    assert (tmp_path / "moved" / "trunk/carrier-b/password").stat().st_mode & 0o777 == 0o600
    before = await state.read()
    await _wipe()
    await service.apply(exported, "export.yml", moved)
    assert await state.read() == before
    assert await service.export() == exported


async def test_clear_export_only_when_asked(db: Database, secrets: Secrets) -> None:
    await service.apply(OFFICE, "office.yml", secrets)
    assert "s3cret" in await service.export(mode="clear")


async def test_second_apply_writes_nothing(db: Database, secrets: Secrets) -> None:
    await service.apply(OFFICE, "office.yml", secrets)
    seat_ids = sorted(s.id for s in await Seat.all())
    member_ids = sorted(m.id for m in await QueueMember.all())
    outcome = await service.apply(OFFICE, "office.yml", secrets)
    assert outcome.changes == [] and outcome.report(False) == "no changes"
    assert sorted(s.id for s in await Seat.all()) == seat_ids
    assert sorted(m.id for m in await QueueMember.all()) == member_ids


async def test_dry_run_shows_the_diff_and_writes_nothing(db: Database, secrets: Secrets) -> None:
    await service.apply(OFFICE, "office.yml", secrets)
    before = await state.read()
    changed = (OFFICE.replace("strategy: rrmemory", "strategy: ringall")
               .replace('  - {number: "*", queue: sales}\n', "")
               .replace('{name: Anna, extension: "101"', '{name: Anna K, extension: "101"'))
    (await _secret_dir(secrets)).joinpath("carrier-b").write_text("n3w\n")
    outcome = await service.apply(changed, "office.yml", secrets, dry_run=True)
    assert outcome.changes == [
        "~ trunk carrier-b: password changed",
        "~ operator 101 (Anna K): name 'Anna' -> 'Anna K'",
        "~ queue support: strategy 'rrmemory' -> 'ringall'",
        "- did * on any trunk -> sales",
    ]
    assert outcome.report(True).endswith("would change 4 item(s)")
    assert await state.read() == before
    await service.apply(changed, "office.yml", secrets)
    assert (await Trunk.get(name="carrier-b")).password == "n3w"
    assert await Did.filter(number="*").count() == 0


async def test_listed_sections_are_the_whole_truth_absent_ones_stay(db: Database, secrets: Secrets) -> None:
    await service.apply(OFFICE, "office.yml", secrets)
    outcome = await service.apply("version: 1\nqueues:\n  - {name: sales, wait_mode: ringing}\n", "q.yml",
                                  secrets)
    assert outcome.changes == ["- queue support", "- did 4951234567 on carrier-b -> support"]
    assert await Queue.all().count() == 1 and await Operator.all().count() == 2
    assert await Trunk.all().count() == 2


async def test_a_failure_while_writing_changes_nothing(db: Database, secrets: Secrets,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(state, "_write_dids", broken)
    with pytest.raises(RuntimeError, match="disk gone"):
        await service.apply(OFFICE, "office.yml", secrets)
    assert await Trunk.all().count() == 0 and await Operator.all().count() == 0


async def _secret_dir(secrets: Secrets) -> Path:
    return secrets.directory


async def _wipe() -> None:
    for model in (Did, QueueMember, Queue, Seat, Operator, Trunk):
        await model.all().delete()


BAD = [
    ("version: 1\ntrunks:\n  - name: a\n    kind: sip\n    host: x\n", 4,
     "trunks[0].kind: 'sip' is not one of"),
    ("version: 1\noperators:\n  - name: A\n    extension: 101\n", 4, 'quote numbers'),
    ("version: 1\ntrunks:\n  - {name: a, kind: ip, host: x}\n  - {name: a, kind: ip, host: y}\n", 4,
     "given twice"),
    ("version: 1\ntrunks:\n  - name: a\n    kind: ip\n    host: x\n    host: y\n", 6, "host: given twice"),
    ("version: 1\ntrunks:\n  - {name: a, kind: registration, host: x}\n", 3, "needs a username"),
    ("version: 1\ntrunks:\n  - name: a\n    kind: ip\n    host: x\n    allowed_sources:\n      - 10.0.0.0/8\n"
     "      - 10.0.0.0/33\n", 8, "allowed_sources[1]: not an address"),
    ("version: 1\ntrunks:\n  - {name: b, kind: registration, host: x, username: u,\n"
     "     password: {secret: nope}}\n", 4, "secret 'nope' is neither"),
    ("version: 1\nqueues:\n  - name: q\n    members: ['101', '999']\n", 4, "no operator with extension 999"),
    ("version: 1\ndids:\n  - {number: '1', queue: support}\n  - {number: '2', queue: nope}\n", 4,
     "no queue named nope"),
    ("version: 1\nsettings:\n  timezone: Mars/Olympus\n", 3, "unknown time zone"),
    ("version: 1\nuplinks: []\n", 1, "Additional properties are not allowed ('uplinks'"),
    ("version: 2\n", 1, "version: 1 was expected"),
    ("version: 1\ntrunks: [\n", 3, "expected the node content"),
    ("trunks: []\n", 1, "'version' is a required property"),
    ("version: 1\noperators: []\n", 2, "operator 102 is a member of queue support"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD)
async def test_broken_files_name_the_line_and_change_nothing(db: Database, secrets: Secrets, text: str,
                                                            line: int, message: str) -> None:
    await service.apply(OFFICE, "office.yml", secrets)
    before = await service.export(mode="clear")
    with pytest.raises(ConfigFileError) as caught:
        await service.apply(text, "bad.yml", secrets)
    assert message in str(caught.value)
    assert caught.value.line == line, str(caught.value)
    assert str(caught.value).startswith(f"bad.yml, line {line}: ")
    assert await service.export(mode="clear") == before


async def test_every_column_of_the_models_round_trips(db: Database, secrets: Secrets) -> None:
    """A column someone adds to a configuration model is carried too (fields.py reads the models)."""
    await service.apply(OFFICE, "office.yml", secrets)
    entries = schema()["properties"]
    touched = []
    for model, section, key in ((Trunk, "trunks", {"name": "carrier-a"}),
                                (Queue, "queues", {"name": "support"}),
                                (Operator, "operators", {"extension": "101"})):
        row = await model.get(**key)
        hand_written = entries[section]["items"]["properties"]
        for column, spec in properties(model).items():
            if hand_written[column] != spec:
                continue  # an enum or a range: the fixed tests above cover it
            value = getattr(row, column)
            changed = (not value if isinstance(value, bool) else value + 1 if isinstance(value, int)
                       else value + 0.5 if isinstance(value, float) else value + "x")
            setattr(row, column, changed)
            touched.append(column)
        await row.save()
    assert {"username", "realm", "enabled", "music_file"} <= set(touched)
    before = await state.read()
    exported = await service.export(mode="clear")
    await _wipe()
    await service.apply(exported, "export.yml", secrets)
    assert await state.read() == before
