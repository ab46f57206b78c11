"""Files kai serves (recordings, exports, reports, guidance sources), so that none can run as a page on kai.

The media type comes from a fixed table keyed by kai's own name for the format, never guessed from a file's
name or content; ``nosniff`` stops a browser from guessing anyway, and ``Content-Security-Policy: sandbox``
opens even a document that holds markup (a stored upload, an HTML source) without scripts and without kai's
origin, so it cannot read or act on a user's session.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from urllib.parse import quote

from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

# kai's name for a format → the media type it is served with.
MEDIA_TYPES: dict[str, str] = {
    # recordings
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg",
    "flac": "audio/flac",
    "webm": "audio/webm",
    "mp4": "video/mp4",
    # documents kai writes or keeps
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "htm": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "json": "application/json",
    # anything else: bytes a browser can only save
    "bin": "application/octet-stream",
}
UNKNOWN_FORMAT = "bin"
SAFE_FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}


def format_of(path: Path, known: Collection[str] = MEDIA_TYPES.keys()) -> str:
    """The format a stored file's suffix names when it is one of ``known``, else ``"bin"``."""
    fmt = path.suffix.lower().lstrip(".")
    return fmt if fmt in known else UNKNOWN_FORMAT


def _headers(download_name: str, inline: bool, extra: Mapping[str, str] | None) -> dict[str, str]:
    quoted = quote(download_name)
    name = f'filename="{download_name}"' if quoted == download_name else f"filename*=utf-8''{quoted}"
    disposition = f"{'inline' if inline else 'attachment'}; {name}"
    return {**(extra or {}), **SAFE_FILE_HEADERS, "Content-Disposition": disposition}


def file_response(
    path: Path,
    fmt: str,
    download_name: str,
    *,
    inline: bool = False,
    headers: Mapping[str, str] | None = None,
    background: BackgroundTask | None = None,
) -> FileResponse:
    """A stored file as format ``fmt`` (a key of ``MEDIA_TYPES``); answers Range requests (seeking)."""
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[fmt],
        headers=_headers(download_name, inline, headers),
        background=background,
    )


def content_response(content: bytes, fmt: str, download_name: str) -> Response:
    """Bytes kai made (an export) as a download of format ``fmt`` (a key of ``MEDIA_TYPES``)."""
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=_headers(download_name, False, None))
