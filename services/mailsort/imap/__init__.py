"""The IMAP watcher: poll one folder, hand every new mail to the routing step once, and remember the outcome.

Which mails are new: kai keeps its own high-water mark (the highest UID handled) per folder and UIDVALIDITY,
and asks ``UID SEARCH UID n:*``. ``UNSEEN`` would be wrong: people read the intake folder in their mail
client, and a mail they opened before kai polled must still be routed. The folder is opened read-only
(EXAMINE) and bodies are fetched with ``BODY.PEEK[]``, so kai never changes a flag, moves or deletes a mail.

Never twice, never lost:
- a mail is recorded as *pending* (with an attempt counter) before the routing step runs, and its outcome is
  committed only after the step returned; a crash in between leaves it pending, and the next run hands it
  to the step again with ``attempt`` > 1 (the step should be idempotent by Message-ID). A mail that stopped
  kai ``MAX_ATTEMPTS`` times is recorded as failed instead of crashing kai forever;
- the step raising (unparseable mail, odd charset, huge attachment) is recorded as failed with the reason,
  and the watcher goes on; the mail stays in the folder for a person;
- a mail whose Message-ID (or, without one, whose bytes) was already handled in this folder is recorded as
  a duplicate and not routed again: this is what makes a UIDVALIDITY change (the server renumbered the
  folder) safe, because every mail then looks new.

Logs name folders, UIDs and outcomes only: never subjects, senders or text (they may hold CPR numbers).

One concern a module: ``protocol`` (settings check, connection, the IMAP commands), ``state`` (what is
remembered per folder and mail; the tables are ``ImapFolderState`` and ``ImapMail`` in
``services.mailsort.store``), ``watcher`` (one poll, and the loop). The names below are the package's face.
"""

from services.mailsort.imap.protocol import ImapError, check_settings, connect, encode_folder_name
from services.mailsort.imap.watcher import (
    MAX_ATTEMPTS,
    ImapMessageInfo,
    RouteStep,
    WatchReport,
    backoff_seconds,
    watch,
    watch_once,
)

__all__ = [
    "MAX_ATTEMPTS",
    "ImapError",
    "ImapMessageInfo",
    "RouteStep",
    "WatchReport",
    "backoff_seconds",
    "check_settings",
    "connect",
    "encode_folder_name",
    "watch",
    "watch_once",
]
