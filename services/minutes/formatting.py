"""How the minutes service writes times for people."""

from __future__ import annotations


def clock_text(seconds: float) -> str:
    """``75.4`` → ``"01:15"``; with hours when the recording is that long (``"1:02:03"``)."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
