"""The recording pipeline without SIP: header repair, encoding, recovery, retention, the disk guard, policy."""

from __future__ import annotations

import struct
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from appliance.incidents import Health, HealthBoard, IncidentJournal
from appliance.recording import DiskGuard, RecordingIndex, guard
from appliance.recording.encoder import EncodeError, encode_legs
from appliance.recording.files import repair_wav
from appliance.recording.worker import Job, run_job
from appliance.settings import RecordingSettings
from appliance.sip.abc import recording_legs
from appliance.storage import CallRecord, Database, Incident, Queue, Recording
from tests.recording.audio import decode_opus
from tests.support.rtp import read_wav, tone, tone_power, write_wav


def _crashed_wav(path: Path, samples: list[int]) -> Path:
    """A WAV as PJSIP leaves it after kill -9: lengths still zero, an odd byte at the end."""
    write_wav(path, [samples])
    data = bytearray(path.read_bytes())
    data[4:8] = data[40:44] = struct.pack("<I", 0)
    path.write_bytes(bytes(data) + b"\x01")
    return path


def test_repair_wav_recovers_every_whole_sample(tmp_path: Path) -> None:
    """The lengths are rebuilt from the file size; a second repair changes nothing."""
    path = _crashed_wav(tmp_path / "leg.wav", tone(1000, 1.5))
    with pytest.raises(wave.Error):  # a RIFF length of 0: unreadable as it stands
        wave.open(str(path)).close()
    assert repair_wav(path) is True
    with wave.open(str(path)) as wav:
        assert wav.getnframes() == 12000
    assert repair_wav(path) is False


def test_two_legs_become_two_channels(tmp_path: Path) -> None:
    """Caller left, operator right, apart (< 5 % crosstalk); the shorter leg ends in silence; ≤ 0.2 MB/min."""
    caller, operator = recording_legs(tmp_path / "call.wav")
    write_wav(caller, [tone(1000, 20.0)])
    write_wav(operator, [tone(440, 15.0)])
    encoded = encode_legs(caller, operator, tmp_path / "call.opus")
    assert (encoded.channels, encoded.duration_s) == (2, 20.0)
    assert encoded.size_bytes <= 0.2e6 * 20 / 60
    rate, channels, (left, right) = read_wav(decode_opus(encoded.path, tmp_path / "out.wav"))
    assert (rate, channels, len(left)) == (8000, 2, 160000)
    assert tone_power(left, 1000) > 0.9 and tone_power(left, 440) < 0.05
    assert tone_power(right[:120000], 440) > 0.9 and tone_power(right[:120000], 1000) < 0.05
    assert max(abs(x) for x in right[124000:]) < 300  # silence after the operator's leg ended


def test_failed_verification_keeps_the_wavs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the decoded file does not match, nothing is committed and the legs stay."""
    base = tmp_path / "call.wav"
    for leg in recording_legs(base):
        write_wav(leg, [tone(700, 2.0)])
    monkeypatch.setattr("appliance.recording.encoder.probe", lambda path, rate=8000: (2, 0.5))
    with pytest.raises(EncodeError, match=r"0\.50 s decoded"):
        run_job(Job("c1", base), 24, 10)
    assert all(leg.is_file() for leg in recording_legs(base))
    assert list(tmp_path.glob("*.opus*")) == []


async def _call(call_id: str, days_ago: float = 0, **fields: Any) -> CallRecord:
    return await CallRecord.create(id=call_id, started_at=datetime.now(UTC) - timedelta(days=days_ago),
                                   trunk="carrier", queue="support", operator="op101", **fields)


async def test_recover_encodes_what_a_crash_left(db: Database, tmp_path: Path) -> None:
    """A row still 'recording' with crashed legs, and legs with no row at all: both end 'ready'."""
    root = tmp_path / "recordings"
    index = RecordingIndex(root, lambda write: None)
    for call_id in ("with-row", "no-row"):
        await _call(call_id)
        base = root / f"{call_id}.wav"
        base.parent.mkdir(parents=True, exist_ok=True)
        caller, operator = recording_legs(base)
        _crashed_wav(caller, tone(1000, 3.0))
        _crashed_wav(operator, tone(440, 3.0))
    await Recording.create(call_id="with-row", path=str(root / "with-row.wav"), state="recording", channels=2)
    (root / "half.opus.part").write_bytes(b"OggS")
    assert await index.recover() == 2
    await index.worker.idle(60)
    rows = await Recording.all().order_by("call_id")
    assert [(r.call_id, r.state, r.format, r.channels, round(r.duration_s)) for r in rows] == [
        ("no-row", "ready", "opus", 2, 3), ("with-row", "ready", "opus", 2, 3)]
    assert sorted(p.name for p in root.iterdir()) == ["no-row.opus", "with-row.opus"]
    await index.drain()


async def _stored(root: Path, call_id: str, days_ago: float, size: int) -> Path:
    await _call(call_id, days_ago)
    path = root / f"{call_id}.opus"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)
    row = await Recording.create(call_id=call_id, path=str(path), format="opus", state="ready", size_bytes=size)
    await Recording.filter(id=row.id).update(created_at=datetime.now(UTC) - timedelta(days=days_ago))
    return path


async def test_retention_then_guard_in_order(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Age first, then the size cap (oldest first); then warn; then stop recording; resume with space."""
    root = tmp_path / "recordings"
    settings = RecordingSettings(keep_days=30, max_total_mb=2, warn_free_mb=100, stop_free_mb=50)
    index = RecordingIndex(root, lambda write: None, settings=settings)
    health, incidents = HealthBoard(), IncidentJournal()
    disk = DiskGuard(index, health, incidents)
    ancient = await _stored(root, "ancient", 40, 10)
    old, mid, new = [await _stored(root, name, age, 1_000_000) for name, age in (("old", 3), ("mid", 2), ("new", 1))]
    free = {"mb": 80.0}
    monkeypatch.setattr(guard, "free_space", lambda path: (free["mb"], 1000.0))
    state = await disk.check()
    assert (state.sweep.by_age, state.sweep.by_size) == (1, 1)
    assert not ancient.exists() and not old.exists() and mid.exists() and new.exists()
    assert state.low and not state.stopped and index.path_for("x", datetime.now(UTC)) is not None
    assert [(i.subject, i.severity) for i in await Incident.all()] == [("data disk low", "minor")]
    assert next(iter(health)).state is Health.DEGRADED
    free["mb"] = 10.0
    state = await disk.check()
    assert state.stopped and state.sweep.removed == 0 and mid.exists() and new.exists()
    assert index.path_for("x", datetime.now(UTC)) is None
    stopped = await incidents.current("disk", "recordings stopped")
    assert stopped is not None and "not recorded" in stopped.action
    free["mb"] = 52.0  # above the stop level, not above it by the margin: no flapping
    assert (await disk.check()).stopped
    free["mb"] = 200.0
    state = await disk.check()
    assert not state.stopped and not state.low and await Incident.filter(ended_at__isnull=True).count() == 0
    assert {r.call_id: r.state for r in await Recording.all()} == {"ancient": "expired", "old": "expired",
                                                                   "mid": "ready", "new": "ready"}


async def test_recording_switched_off_per_queue(db: Database, tmp_path: Path) -> None:
    """A queue with recording off gets no path; one with it on does."""
    index = RecordingIndex(tmp_path / "recordings", lambda write: None)
    await Queue.create(name="sales", record=False)
    await Queue.create(name="support")
    now = datetime.now(UTC)
    assert await index.path_for_call("a", now, queue="sales", operator="op101") is None
    assert await index.path_for_call("b", now, queue="support", operator="op101") is not None
