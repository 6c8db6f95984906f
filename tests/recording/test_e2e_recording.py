"""Recording with the real daemon and SIPp peers: a `kill -9` mid-call, and a data disk that fills up."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import struct
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.box import Box, ip_trunk, operators, queue
from tests.e2e.conftest import box_factory, tones  # noqa: F401 - fixtures
from tests.e2e.test_calls import carrier, operator
from tests.recording.audio import decode_opus
from tests.support.rtp import RtpSink, read_wav, tone_power

pytestmark = pytest.mark.sip
MB = 1_000_000


def _wav_data_len(path: Path) -> int:
    """The data chunk length a 44-byte PJSIP WAV header claims."""
    with path.open("rb") as fh:
        return int(struct.unpack("<I", fh.read(44)[40:44])[0])


def _kill9(box: Box) -> None:
    assert box.proc is not None
    os.killpg(box.proc.pid, signal.SIGKILL)
    box.proc.wait(10)


def test_kill_9_mid_call_leaves_a_playable_recording(box_factory: Callable[..., Box],  # noqa: F811
                                                      tones: dict[int, Path], tmp_path: Path) -> None:  # noqa: F811
    """The daemon dies mid-call; the restart repairs the legs' headers, encodes them, finishes the row."""
    with RtpSink(reply_tone_hz=440, max_seconds=40) as sink, operator(sink) as phone:
        box = box_factory(ip_trunk() + operators(f"sip:101@{phone.address}") + queue())
        with carrier(box, tones, hold_ms=15000).start():
            row = box.wait_for(lambda: box.rows("SELECT * FROM recording WHERE state = 'recording'"), 15,
                               "the recording to start")[0]
            base = Path(row["path"])
            legs = [base.with_name(f"{base.stem}.{side}.wav") for side in ("caller", "operator")]
            box.wait_for(lambda: all(p.is_file() and p.stat().st_size > 3 * 16000 for p in legs), 15,
                         "3 s of audio in both legs")
            _kill9(box)
    sizes = [p.stat().st_size for p in legs]
    assert [_wav_data_len(p) for p in legs] == [0, 0], "PJSIP's header was already complete: nothing to repair"
    box.start()
    ready = box.wait_for(lambda: box.rows("SELECT * FROM recording WHERE state = 'ready'"), 30,
                         "the recovered recording")[0]
    call = box.rows("SELECT * FROM call_record WHERE id = ?", ready["call_id"])[0]
    assert call["disposition"] == "INTERRUPTED"
    assert len(box.rows("SELECT * FROM recording")) == 1  # the same row, finished
    path = Path(ready["path"])
    assert path == base.with_suffix(".opus") and not any(p.exists() for p in legs)
    assert ready["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ready["size_bytes"] == path.stat().st_size
    rate, channels, (left, right) = read_wav(decode_opus(path, tmp_path / "recovered.wav"))
    assert (rate, channels) == (8000, 2)
    recorded_s = (max(sizes) - 44) / 16000
    assert abs(len(left) / rate - recorded_s) < 0.5 and abs(ready["duration_s"] - len(left) / rate) < 0.05
    assert tone_power(left, 1000) > 0.5 and tone_power(right, 440) > 0.5


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MB tmpfs (root only), always unmounted."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _free_mb(path: Path) -> float:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize / MB


def _ballast(path: Path, free_target_mb: float) -> None:
    """Grow a ballast file until the file system has about `free_target_mb` free."""
    grow = int((_free_mb(path.parent) - free_target_mb) * MB)
    with path.open("ab") as fh:
        fh.write(b"\0" * max(0, grow))


def _old_recording(box: Box, days_ago: int, size_mb: int) -> Path:
    """A ready recording made `days_ago` days ago, with a file of `size_mb`."""
    call_id = str(uuid.uuid4())
    path = box.data / "recordings" / "old" / f"{call_id}.opus"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\1" * size_mb * MB)
    when = f"datetime('now', '-{days_ago} days')"
    con = sqlite3.connect(box.data / "callbox.sqlite3", timeout=10)
    with con:
        con.execute(f"INSERT INTO call_record (id, direction, sip_call_id, caller, did, trunk, queue, operator, "
                    f"started_at, disposition, hangup_cause) VALUES (?, 'in', '', '1', '2', 'carrier', 'support', "
                    f"'op101', strftime('%Y-%m-%d %H:%M:%f+00:00', {when}), 'ANSWERED', '')", (call_id,))
        con.execute(f"INSERT INTO recording (call_id, path, format, duration_s, size_bytes, sha256, created_at, "
                    f"state, channels) VALUES (?, ?, 'opus', 60, ?, '', strftime('%Y-%m-%d %H:%M:%f+00:00', {when}), "
                    f"'ready', 2)", (call_id, str(path), size_mb * MB))
    con.close()
    return path


def _call(box: Box, tones: dict[int, Path]) -> None:  # noqa: F811
    with carrier(box, tones, hold_ms=2500).start() as call:
        assert call.wait_sync().ok


def test_full_disk_retention_first_then_guard_and_calls_go_on(box_factory: Callable[..., Box],  # noqa: F811
                                                               tones: dict[int, Path], small_disk: Path) -> None:  # noqa: F811
    """Old files go first (warning only); when space is really gone new calls go unrecorded, with an incident."""
    with RtpSink(reply_tone_hz=440, max_seconds=60) as sink, operator(sink, calls=2) as phone:
        box = Box(small_disk / "box", ip_trunk() + operators(f"sip:101@{phone.address}") + queue(),
                  recording_keep_days=2, recording_warn_free_mb=30, recording_stop_free_mb=15, recording_check_s=1)
        box.workdir.mkdir()
        try:
            box.start()
            old = [_old_recording(box, 5, 6) for _ in range(3)]  # 18 MB beyond retention
            recent = [_old_recording(box, 1, 6) for _ in range(2)]  # 12 MB within it
            ballast = small_disk / "ballast"
            _ballast(ballast, 8)  # 8 MB free: below the stop level until retention has run
            box.wait_for(lambda: not any(p.exists() for p in old), 15, "retention to remove the old files")
            assert all(p.exists() for p in recent)
            incidents = box.wait_for(lambda: box.rows("SELECT * FROM incident WHERE kind = 'disk'"), 10,
                                     "a disk incident")
            assert [(i["subject"], i["severity"]) for i in incidents] == [("data disk low", "minor")]
            assert {r["state"] for r in box.rows("SELECT * FROM recording WHERE path LIKE '%/old/%'")} == \
                {"expired", "ready"}
            _call(box, tones)
            box.wait_for(lambda: box.rows("SELECT * FROM recording WHERE format = 'opus' AND path NOT LIKE '%/old/%'"
                                          " AND state = 'ready'"), 30, "the first call's recording")
            _ballast(ballast, 5)  # now space is really gone, and nothing is beyond retention
            stopped = box.wait_for(lambda: box.rows("SELECT * FROM incident WHERE subject = 'recordings stopped'"
                                                    " AND ended_at IS NULL"), 15, "the recordings-stopped incident")
            assert "not recorded" in stopped[0]["action"]
            _call(box, tones)  # the call still works
            def answered() -> list[sqlite3.Row]:
                return [c for c in box.calls() if c["disposition"] == "ANSWERED" and c["caller"] != "1"]

            calls = box.wait_for(lambda: answered() if len(answered()) == 2 else None, 15, "both calls' records")
            assert len(box.rows("SELECT * FROM recording WHERE call_id = ?", calls[-1]["id"])) == 0
            assert all(p.exists() for p in recent)  # nothing within retention was removed for space
            ballast.unlink()
            box.wait_for(lambda: box.rows("SELECT * FROM incident WHERE subject = 'recordings stopped'"
                                          " AND ended_at IS NOT NULL"), 15, "recording to resume")
        finally:
            assert box.stop() == 0, box.tail()
