"""Call recordings: two legs recorded apart, encoded to two-channel Opus, kept within retention and free space."""

from appliance.recording.guard import DiskGuard
from appliance.recording.index import RecordingIndex, wav_facts

__all__ = ["DiskGuard", "RecordingIndex", "wav_facts"]
