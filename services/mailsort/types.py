"""Plain data of mail sorting: a mail as parsed, and a mail with its queue for training and evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int  # bytes, decoded


@dataclass
class ParsedMail:
    """One mail, decoded and split into what is new, what is quoted from earlier mails, and the signature."""

    message_id: str
    sender: str
    to: str
    subject: str
    new_text: str  # the sender's own new words: what weighs most for routing
    quoted_text: str = ""  # earlier mails in the thread ("-----Oprindelig meddelelse-----", "> …")
    signature: str = ""  # "Med venlig hilsen …", phone lines, disclaimers
    attachments: list[Attachment] = field(default_factory=list)
    date: str | None = None  # as the Date header says, ISO 8601 when it could be parsed
    problems: list[str] = field(default_factory=list)  # e.g. unknown charset decoded with a fallback
    size: int = 0  # raw size in bytes
    # False: the MIME structure could not be read, new_text is the raw body, and a person routes the mail
    intact: bool = True

    @property
    def text(self) -> str:
        """Everything a person would read, for CPR checks and previews."""
        return "\n\n".join(p for p in (self.subject, self.new_text, self.quoted_text, self.signature) if p)


@dataclass
class LabelledMail:
    """A mail with the queue that should handle it (None when unknown), from a training or test file."""

    mail: ParsedMail
    queue: str | None
    source_id: str = ""  # the id or file name it had in the input
