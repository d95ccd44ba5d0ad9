"""An inbound e-mail as Presidio reads it: a pure function of the raw RFC 5322 bytes.

Headers are decoded whatever their charset (an unknown one falls back to Latin-1 rather than
failing), the text is the plain part or the HTML part reduced to text (nh3 removes every tag),
the reply is the text without the quoted history (email-reply-parser), and auto-replies,
bounces and bulk mail are recognised (RFC 3834 `Auto-Submitted`, `Precedence`, delivery
status reports, mailer daemons) so that they never open a case or answer a robot.
"""

import email
import email.header
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import Message
from email.utils import parseaddr

import nh3
from email_reply_parser import EmailReplyParser

REFERENCE_IN_SUBJECT = re.compile(r"\[(CS-\d{4}-\d{6})\]")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
ROBOT_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply)@", re.I)
MAX_TEXT = 200_000


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes
    content_type: str


@dataclass
class ParsedMail:
    message_id: str
    sender: str  # lower-case address, "" when none can be read
    sender_name: str
    subject: str
    in_reply_to: list[str]
    text: str  # the whole text
    reply: str  # without the quoted history
    automatic: str  # why it is an auto-reply, a bounce or bulk mail; "" for a person
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        match = REFERENCE_IN_SUBJECT.search(self.subject)
        return match.group(1) if match else ""


def parse(raw: bytes) -> ParsedMail:
    """Never raises on malformed input: what cannot be read is said in `problems`."""
    problems: list[str] = []
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if message.defects:
        problems.append("malformed_mime")
    message_id = _first_id(_header(message, "Message-ID"))
    if not message_id:
        problems.append("no_message_id")
        message_id = f"<sha256-{hashlib.sha256(raw).hexdigest()}@presidio.invalid>"
    sender_name, sender = _sender(message)
    if not sender:
        problems.append("no_sender")
    references = MESSAGE_ID.findall(
        " ".join([_header(message, "In-Reply-To"), _header(message, "References")])
    )
    text, attachments = _body(message, problems)
    reply = _fold(text)
    return ParsedMail(
        message_id=message_id,
        sender=sender,
        sender_name=sender_name,
        subject=_header(message, "Subject")[:300],
        in_reply_to=list(dict.fromkeys(references))[-20:],
        text=text[:MAX_TEXT],
        reply=(reply or text)[:MAX_TEXT],
        automatic=_automatic(message, sender),
        attachments=attachments,
        problems=problems,
    )


# Where the quoted history starts in Italian and English mail clients.
QUOTE_HEADER = re.compile(
    r"^\s*(il giorno\b.*\bha scritto:?|il .{1,80} ha scritto:|on\b.*\bwrote:?|"
    r"-{2,}\s*(messaggio originale|original message)\s*-{2,}|da:\s.+|from:\s.+)\s*$",
    re.IGNORECASE,
)


def _fold(text: str) -> str:
    """The new text of a reply: email-reply-parser drops quoted lines and signatures; the
    attribution line that introduced the quote goes too."""
    if not text:
        return ""
    lines = EmailReplyParser.parse_reply(text).strip().splitlines()
    for index, line in enumerate(lines):
        if index and QUOTE_HEADER.match(line):
            lines = lines[:index]
            break
    return "\n".join(lines).strip()


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    if value is None:
        return ""
    try:
        parts = email.header.decode_header(str(value))
    except (ValueError, LookupError, UnicodeError):
        return _clean(str(value))
    text = ""
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            text += _decode(chunk, charset)
        else:
            text += chunk
    return _clean(text)


def _decode(chunk: bytes, charset: str | None) -> str:
    try:
        return chunk.decode(charset or "ascii")
    except (LookupError, UnicodeDecodeError):
        try:
            return chunk.decode("utf-8")
        except UnicodeDecodeError:
            return chunk.decode("latin-1")


def _clean(text: str) -> str:
    """One line, no NUL or lone surrogates (the database refuses them)."""
    text = re.sub(r"[\x00\ud800-\udfff]", "\ufffd", text)
    return " ".join(text.split())


def _first_id(value: str) -> str:
    found = MESSAGE_ID.search(value)
    return found.group(0) if found else ""


def _sender(message: Message) -> tuple[str, str]:
    name, address = parseaddr(_header(message, "From"))
    address = address.strip().lower()
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return name, ""
    return name[:200], address if "@" in address and len(address) <= 254 else ""


def _automatic(message: Message, sender: str) -> str:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return "auto_submitted"
    if _header(message, "Precedence").lower() in ("bulk", "junk", "list", "auto_reply"):
        return "precedence"
    if any(
        _header(message, h) for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
    ):
        return "auto_reply"
    if message.get_content_type() == "multipart/report" or _header(message, "X-Failed-Recipients"):
        return "delivery_report"
    if sender and ROBOT_SENDERS.match(sender):
        return "robot_sender"
    if _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        return "mailing_list"
    return ""


def _body(message: Message, problems: list[str]) -> tuple[str, list[Attachment]]:
    plain, rich, attachments = [], [], []
    for part in message.walk() if message.is_multipart() else [message]:
        if part.is_multipart():
            continue
        disposition = (part.get("Content-Disposition") or "").lower()
        filename = part.get_filename()
        try:
            payload = part.get_payload(decode=True) or b""
        except (ValueError, TypeError, AssertionError):
            problems.append("undecodable_part")
            continue
        if filename or disposition.startswith("attachment"):
            attachments.append(
                Attachment(
                    _clean(_decode_filename(filename))[:200] or "allegato",
                    payload,
                    part.get_content_type(),
                )
            )
            continue
        text = _decode(payload, part.get_content_charset())
        if part.get_content_type() == "text/plain":
            plain.append(text)
        elif part.get_content_type() == "text/html":
            rich.append(_html_to_text(text))
    text = "\n\n".join(plain) if plain else "\n\n".join(rich)
    return re.sub(r"[\x00\ud800-\udfff]", "\ufffd", text).strip(), attachments


def _decode_filename(filename) -> str:
    if not filename:
        return ""
    try:
        return "".join(
            _decode(c, cs) if isinstance(c, bytes) else c
            for c, cs in email.header.decode_header(str(filename))
        )
    except (ValueError, LookupError):
        return str(filename)


def _html_to_text(markup: str) -> str:
    """HTML as text: block ends become line breaks, every tag goes (nh3), entities decoded."""
    markup = re.sub(r"(?i)<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", "\n", markup)
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", "", markup)
    return html.unescape(nh3.clean(markup, tags=set())).strip()
