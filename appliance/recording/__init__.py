"""Call recordings: where they are written and how they are indexed."""

from appliance.recording.index import RecordingIndex, wav_facts

__all__ = ["RecordingIndex", "wav_facts"]
