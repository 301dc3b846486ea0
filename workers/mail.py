"""Mail transports: SMTP when SMTP_URL is set, else a drop directory of `.eml` files.

`build_email` turns an outbox row into an RFC 5322 message (multipart/alternative: text, then
HTML) whose Message-ID derives from the row's uuid, so a second delivery of one notification is
recognisable as such. Transports raise `DeliveryError` (transient: worth retrying) or its
subclass `PermanentDeliveryError` (the server refused the recipient for good).
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass, field
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path
from typing import Protocol, cast
from urllib.parse import parse_qs, unquote, urlparse
from uuid import UUID

from config import Settings
from store.clock import utcnow
from store.outbox import Notification

DEFAULT_SMTP_TIMEOUT_S = 10.0  # per socket operation; well inside the delivery time limit
SMTP_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
FALLBACK_MESSAGE_ID_DOMAIN = "reviewq.invalid"
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


class DeliveryError(Exception):
    """The message was not handed over; trying again later may work."""


class PermanentDeliveryError(DeliveryError):
    """The server refused the message for good (e.g. 5xx for the recipient)."""


class MailTransport(Protocol):
    def send(self, message: Message) -> None:
        """Hand `message` over, or raise DeliveryError."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    implicit_tls: bool = False
    starttls: bool = False
    timeout: float = DEFAULT_SMTP_TIMEOUT_S


def parse_smtp_url(url: str) -> SmtpConfig:
    """`smtp://[user:pass@]host[:port][?starttls=true&timeout=S]`, or `smtps://` for TLS."""
    parsed = urlparse(url)
    if parsed.scheme not in SMTP_DEFAULT_PORTS or not parsed.hostname:
        raise ValueError("SMTP_URL: expected smtp://[user:pass@]host[:port] or smtps://...")
    options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    return SmtpConfig(
        host=parsed.hostname,
        port=parsed.port or SMTP_DEFAULT_PORTS[parsed.scheme],
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
        implicit_tls=parsed.scheme == "smtps",
        starttls=options.get("starttls", "").lower() in TRUE_WORDS,
        timeout=float(options.get("timeout", DEFAULT_SMTP_TIMEOUT_S)),
    )


class SmtpTransport:
    """One SMTP connection per message: workers are many and mail is rare."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def send(self, message: Message) -> None:
        try:
            with self._connect() as smtp:
                if self.config.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.config.username:
                    smtp.login(self.config.username, self.config.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            error = PermanentDeliveryError if all(c >= 500 for c in codes) else DeliveryError
            raise error(f"recipient refused: {codes}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        if config.implicit_tls:
            return smtplib.SMTP_SSL(
                config.host,
                config.port,
                timeout=config.timeout,
                context=ssl.create_default_context(),
            )
        return smtplib.SMTP(config.host, config.port, timeout=config.timeout)


class FileTransport:
    """Writes each message as `<directory>/<time>-<message id>-<nonce>.eml`.

    The file appears whole or not at all (written beside it, then renamed). A redelivery is a
    second file with the same Message-ID, never an overwrite, so duplicates stay visible.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: Message) -> None:
        try:
            self.write(message)
        except OSError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc

    def write(self, message: Message) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.as_bytes(policy=WIRE_POLICY))
                handle.flush()
                os.fsync(handle.fileno())
            target = self.directory / f"{_file_stem(message)}-{Path(temp_name).stem[1:9]}.eml"
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return target


def transport_from_settings(settings: Settings) -> MailTransport:
    """SMTP when SMTP_URL is set, else the `.eml` drop under `<data dir>/outbox/`."""
    if settings.smtp_url:
        return SmtpTransport(parse_smtp_url(settings.smtp_url))
    return FileTransport(settings.outbox_dir)


class _WirePolicy(Compat32):
    """compat32, except that a header line it would write unchanged (ASCII text that fits
    within max_line_length) is written at once, without building a `Header` to find out that it
    needs no folding (that search was a fifth of a delivery's CPU)."""

    def fold_binary(self, name: str, value: str) -> bytes:
        if isinstance(value, str) and _writes_as_it_is(name, value, self.max_line_length):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


def _writes_as_it_is(name: str, value: str, max_line_length: int | None) -> bool:
    """compat32 writes `name: value` unchanged: printable ASCII within the line length (a
    property test checks it against compat32 itself, tests/workers/test_mail.py)."""
    return (
        value.isascii()
        and value.isprintable()
        and (max_line_length is None or len(name) + 2 + len(value) <= max_line_length)
    )


#: How a message is written out: CRLF line ends, headers as built (no re-parsing on output).
WIRE_POLICY = _WirePolicy(linesep="\r\n")


def _utf8_quoted_printable() -> Charset:
    charset = Charset("utf-8")
    charset.body_encoding = QP  # bodies stay readable in the .eml drop; headers RFC 2047
    return charset


def build_email(notification: Notification, *, sender: str) -> Message:
    """The message for an outbox row: From `sender`, To the recipient, text and HTML parts.

    Built with the standard library's MIME classes under its compat32 policy: the default
    policy parses every header as it is set and again as it is written, a millisecond of CPU
    per e-mail, more than the rest of a delivery. Headers are encoded (RFC 2047) as needed; a
    value with a line break raises ValueError, so no field can add a header of its own.
    """
    headers = {
        "Subject": notification.subject,
        "From": sender,
        "To": formataddr((notification.recipient_name, notification.recipient), "utf-8"),
        "Date": formatdate(usegmt=True),
        "Message-ID": message_id_for(notification.uuid, sender),
        "Auto-Submitted": "auto-generated",
        "X-Reviewq-Kind": notification.kind.value,
    }
    if notification.request_id:
        headers["X-Request-ID"] = notification.request_id
    charset = _utf8_quoted_printable()
    # the boundary from the row's uuid, not the generator's random one (which compiles a
    # regular expression per message to search the body for it): the parts are
    # quoted-printable, which writes every "=" as "=3D", so no body line can hold "=_"
    message = MIMEMultipart(
        "alternative", boundary=f"=_reviewq_{notification.uuid.hex}", policy=WIRE_POLICY
    )
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            raise ValueError(f"{name}: a header value cannot hold a line break")
        # compat32 takes a Header object where the stubs say str
        encoded = value if value.isascii() else Header(value, charset, header_name=name)
        message[name] = cast("str", encoded)
    for subtype, body in (("plain", notification.text_body), ("html", notification.html_body)):
        part = MIMENonMultipart("text", subtype, policy=WIRE_POLICY)
        part.set_payload(body, charset)
        message.attach(part)
    return message


def message_id_for(notification_uuid: UUID, sender: str) -> str:
    """The same Message-ID every time one notification is sent."""
    _, address = parseaddr(sender)
    domain = address.rpartition("@")[2] or FALLBACK_MESSAGE_ID_DOMAIN
    return f"<notification.{notification_uuid}@{domain}>"


def _file_stem(message: Message) -> str:
    local_part = str(message.get("Message-ID", "")).strip("<>").partition("@")[0]
    safe = "".join(char if char.isalnum() or char in "-." else "_" for char in local_part)
    return f"{utcnow():%Y%m%dT%H%M%S%fZ}-{safe or 'message'}"
