"""Bytes of Danish text whose charset is unknown or wrong: the one order kai tries, for every reader.

UTF-8 first (a byte-order mark dropped): valid UTF-8 with non-ASCII bytes is almost never anything else.
Then windows-1252, what older Danish Windows programs and mail clients write (æøå, €, “ ”); it leaves five
bytes undefined, so latin-1 comes last, and it reads any byte: the decoding never fails.
"""

from __future__ import annotations

# (Python codec, the name a person is told) in the order they are tried; latin-1 ends the list.
_TRIED = (("utf-8-sig", "UTF-8"), ("cp1252", "windows-1252"))


def decode_unknown(data: bytes, *, skip: str | None = None) -> tuple[str, str]:
    """``data`` as text and the name of the charset that read it; ``skip``: a codec already tried."""
    for codec, name in _TRIED:
        if skip in (codec, codec.removesuffix("-sig")):
            continue
        try:
            return data.decode(codec), name
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"
