"""Mail transports: SMTP URLs, the message built from an outbox row, the `.eml` drop, real SMTP."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import compat32
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from config import Settings
from store.enums import NotificationKind
from store.outbox import Notification
from tests.builders import CollectingHandler, free_port
from workers.mail import (
    WIRE_POLICY,
    DeliveryError,
    FileTransport,
    PermanentDeliveryError,
    SmtpConfig,
    SmtpTransport,
    build_email,
    parse_smtp_url,
    transport_from_settings,
)

SENDER = "reviewq <noreply@reviews.example.org>"


def make_notification(**fields: Any) -> Notification:
    """An unsaved outbox row, as the actor reads it."""
    values: dict[str, Any] = {
        "kind": NotificationKind.REVIEW_ASSIGNED,
        "recipient": "ada@example.org",
        "recipient_name": "Ada Lovelace",
        "subject": "2 reviews assigned to you",
        "text_body": "Hello Ada,\n\nplain text body\n",
        "html_body": "<p>Hello Ada,</p><p>html body</p>",
        "dedupe_key": "review_assigned:r1:u1",
    }
    return Notification(**{**values, **fields})


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def bodies(message: EmailMessage) -> tuple[str, str]:
    """The text and HTML parts, line endings and the final newline normalised away."""
    parts = [message.get_body(preferencelist=(subtype,)) for subtype in ("plain", "html")]
    text, html = (str(part.get_content()) if part else "" for part in parts)
    return _normal(text), _normal(html)


def _normal(body: str) -> str:
    return body.replace("\r\n", "\n").rstrip("\n")


class RefusingHandler(CollectingHandler):
    """Refuses every recipient for good, as a server does for an unknown mailbox."""

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return "550 5.1.1 no such mailbox"


def password_checker(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"mailer", b"p@ss")
    return AuthResult(success=ok)


@pytest.fixture
def auth_smtp_server() -> Iterator[tuple[str, CollectingHandler]]:
    """An SMTP server that requires the login mailer / p@ss (plain text, as in a test only)."""
    handler = CollectingHandler()
    port = free_port()
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=password_checker,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield f"smtp://mailer:p%40ss@127.0.0.1:{port}", handler
    controller.stop()


@pytest.fixture
def refusing_smtp_server() -> Iterator[str]:
    port = free_port()
    controller = Controller(RefusingHandler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}"
    controller.stop()


def test_an_smtp_url_gives_host_port_credentials_and_starttls() -> None:
    config = parse_smtp_url("smtp://mailer:p%40ss@mail.example.org:2525?starttls=true&timeout=5")
    assert config == SmtpConfig(
        host="mail.example.org",
        port=2525,
        username="mailer",
        password="p@ss",
        starttls=True,
        timeout=5.0,
    )


def test_an_smtps_url_means_implicit_tls_on_port_465_by_default() -> None:
    config = parse_smtp_url("smtps://mail.example.org")
    assert (config.port, config.implicit_tls, config.starttls) == (465, True, False)


def test_the_smtp_password_never_shows_in_the_config_repr() -> None:
    assert "s3cret" not in repr(parse_smtp_url("smtp://u:s3cret@mail.example.org"))


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://", "mail.example.org:25"])
def test_an_smtp_url_of_another_form_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP_URL"):
        parse_smtp_url(url)


def test_without_smtp_url_mail_goes_to_the_outbox_directory_of_the_data_dir(
    tmp_path: Path,
) -> None:
    transport = transport_from_settings(Settings(data_dir=tmp_path, smtp_url=None))
    assert isinstance(transport, FileTransport)
    assert transport.directory == tmp_path / "outbox"


def test_with_smtp_url_mail_goes_over_smtp() -> None:
    transport = transport_from_settings(Settings(smtp_url="smtp://127.0.0.1:2525"))
    assert isinstance(transport, SmtpTransport)
    assert transport.config.port == 2525


def test_an_email_has_both_parts_and_a_message_id_derived_from_the_notification() -> None:
    notification = make_notification()
    message = build_email(notification, sender=SENDER)
    again = build_email(notification, sender=SENDER)
    assert message["Message-ID"] == again["Message-ID"]
    assert str(notification.uuid) in message["Message-ID"]
    assert message["Message-ID"].endswith("@reviews.example.org>")
    assert message.get_content_type() == "multipart/alternative"
    assert bodies(parse(message.as_bytes())) == (
        _normal(notification.text_body),
        notification.html_body,
    )


def test_a_name_with_a_line_break_cannot_add_a_header_to_the_message() -> None:
    # queue_email already collapses names; the message policy is the second line of defence.
    notification = make_notification(recipient_name="Eve\r\nBcc: victim@example.org")
    with pytest.raises(ValueError):
        build_email(notification, sender=SENDER).as_bytes()


def test_the_eml_drop_writes_a_whole_file_that_parses_back_with_its_headers_and_parts(
    tmp_path: Path,
) -> None:
    notification = make_notification(recipient_name="Zoë O'Brien", subject="Ünïcode subject")
    path = FileTransport(tmp_path).write(build_email(notification, sender=SENDER))
    assert path.parent == tmp_path and path.suffix == ".eml"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind
    raw = path.read_bytes()
    assert b"\r\n" in raw  # RFC 5322 line endings
    message = parse(raw)
    assert message["Subject"] == "Ünïcode subject"
    assert message["To"].addresses[0].display_name == "Zoë O'Brien"
    assert message["To"].addresses[0].addr_spec == "ada@example.org"
    assert message["From"] == SENDER
    assert message["Date"] is not None
    assert str(notification.uuid) in message["Message-ID"]
    assert bodies(parse(message.as_bytes())) == (
        _normal(notification.text_body),
        notification.html_body,
    )


def test_a_redelivery_to_the_drop_is_a_second_file_with_the_same_message_id(
    tmp_path: Path,
) -> None:
    notification = make_notification()
    transport = FileTransport(tmp_path)
    first = transport.write(build_email(notification, sender=SENDER))
    second = transport.write(build_email(notification, sender=SENDER))
    assert first != second
    assert parse(first.read_bytes())["Message-ID"] == parse(second.read_bytes())["Message-ID"]


def test_an_unwritable_drop_is_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(DeliveryError):
        FileTransport(blocker).send(build_email(make_notification(), sender=SENDER))


def test_smtp_delivers_the_message_to_a_real_server(
    smtp_server: tuple[str, CollectingHandler],
) -> None:
    url, handler = smtp_server
    notification = make_notification()
    SmtpTransport(parse_smtp_url(url)).send(build_email(notification, sender=SENDER))
    [received] = handler.messages
    assert received["To"].addresses[0].addr_spec == "ada@example.org"
    assert received["Subject"] == notification.subject
    assert bodies(received) == (_normal(notification.text_body), notification.html_body)


def test_smtp_logs_in_with_the_credentials_of_the_url(
    auth_smtp_server: tuple[str, CollectingHandler],
) -> None:
    url, handler = auth_smtp_server
    SmtpTransport(parse_smtp_url(url)).send(build_email(make_notification(), sender=SENDER))
    assert len(handler.messages) == 1


def test_a_closed_smtp_port_is_a_transient_delivery_error() -> None:
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=free_port(), timeout=2))
    with pytest.raises(DeliveryError) as caught:
        transport.send(build_email(make_notification(), sender=SENDER))
    assert not isinstance(caught.value, PermanentDeliveryError)


def test_a_recipient_refused_for_good_is_a_permanent_delivery_error(
    refusing_smtp_server: str,
) -> None:
    transport = SmtpTransport(parse_smtp_url(refusing_smtp_server))
    with pytest.raises(PermanentDeliveryError, match="550"):
        transport.send(build_email(make_notification(), sender=SENDER))


COMPAT32_WIRE = compat32.clone(linesep="\r\n")
HEADER_NAMES = ("Subject", "To", "From", "X-Request-ID", "Content-Transfer-Encoding")


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(HEADER_NAMES),
    value=st.text(alphabet=st.characters(min_codepoint=9, max_codepoint=127), max_size=120),
)
def test_the_wire_policy_writes_every_ascii_header_as_compat32_does(name: str, value: str) -> None:
    assume("\r" not in value and "\n" not in value)  # refused before (build_email)

    def written(policy: Any) -> bytes | type[Exception]:
        try:
            return bytes(policy.fold_binary(name, value))
        except Exception as exc:  # compat32 refuses other line breaks (a form feed): so must we
            return type(exc)

    assert written(WIRE_POLICY) == written(COMPAT32_WIRE)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"subject": "3 reviews assigned to you, the longest subject line of them all, folded"},
        {"recipient_name": "Zoë Ådams-Ünal", "subject": "Révision assignée"},
    ],
)
def test_a_built_email_is_written_as_compat32_writes_it(fields: dict[str, Any]) -> None:
    message = build_email(make_notification(**fields), sender="reviewq <noreply@example.org>")
    assert message.as_bytes(policy=WIRE_POLICY) == message.as_bytes(policy=COMPAT32_WIRE)
