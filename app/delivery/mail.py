"""E-mail over SMTP, and e-mail bound to a database transaction.

The settings are the ``MAIL_*`` keys of the app config: ``MAIL_SERVER``,
``MAIL_PORT``, ``MAIL_USE_TLS`` (STARTTLS after connecting), ``MAIL_USE_SSL``
(TLS from the first byte), ``MAIL_USERNAME``/``MAIL_PASSWORD`` (login when a
user name is set) and ``MAIL_DEFAULT_SENDER``. With ``MAIL_ENABLED`` off (the
default outside production) nothing is sent: each message is written to the
log instead, so development needs no mail server.

:func:`send_after_commit` ties a message to a session: it goes out after that
session's transaction commits and is dropped if it rolls back, so a citizen
never gets a confirmation for something that was not stored.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

_AFTER_COMMIT_KEY = "kommunalportal.mail_after_commit"


class MailError(Exception):
    """The SMTP server could not be reached or refused the message."""


@dataclass(frozen=True)
class MailAttachment:
    """A file attached to a message."""

    filename: str
    content: bytes
    media_type: str = "application/octet-stream"


def sender_domain() -> str:
    """The domain of ``MAIL_DEFAULT_SENDER``, used for Message-IDs."""
    address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    _, _, domain = address.rpartition("@")
    return domain or "localhost"


def compose_mail(
    to: str | Iterable[str],
    subject: str,
    body: str,
    attachments: Iterable[MailAttachment] = (),
    *,
    html: str | None = None,
    reply_to: str | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """Build a message from the default sender; plain text, optionally with an HTML part."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to if isinstance(to, str) else ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain=sender_domain())
    if reply_to:
        message["Reply-To"] = reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.media_type.partition("/")
        if not subtype:
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


def deliver_message(message: EmailMessage, *, timeout: float | None = None) -> bool:
    """Hand a message to the SMTP server now.

    Returns False when ``MAIL_ENABLED`` is off and the message was only logged.
    Raises :class:`MailError` when the server cannot be reached or refuses it.
    """
    config = current_app.config
    if not config["MAIL_ENABLED"]:
        log.info(
            "MAIL_ENABLED is off; not sending e-mail %s to %s: %s (%d attachment(s))",
            message["Message-ID"],
            message["To"],
            message["Subject"],
            sum(1 for _ in message.iter_attachments()),
        )
        return False
    if timeout is None:
        timeout = float(config.get("DELIVERY_TIMEOUT_SECONDS", 10))
    host, port = config["MAIL_SERVER"], int(config["MAIL_PORT"])
    try:
        smtp: smtplib.SMTP
        if config["MAIL_USE_SSL"]:
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"SMTP {host}:{port}: {exc}") from exc
    return True


def send_mail(
    to: str | Iterable[str],
    subject: str,
    body: str,
    attachments: Iterable[MailAttachment] = (),
) -> bool:
    """Compose and send a message now; a failure is logged, never raised.

    For messages caused by a database change, use :func:`send_after_commit`.
    """
    try:
        return deliver_message(compose_mail(to, subject, body, attachments))
    except Exception:
        log.exception("could not send e-mail %r to %s", subject, to)
        return False


def send_after_commit(session: Session, message: EmailMessage) -> None:
    """Send ``message`` once ``session``'s transaction has committed.

    Dropped without a trace if the transaction rolls back. Sending happens in
    the process that committed, right after the commit; an SMTP failure is
    logged and never reaches the citizen.
    """
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(
        (current_app._get_current_object(), message)  # type: ignore[attr-defined]
    )


@event.listens_for(Session, "after_commit")
def _send_registered(session: Session) -> None:
    for app, message in session.info.pop(_AFTER_COMMIT_KEY, []):
        with app.app_context():
            try:
                deliver_message(message)
            except Exception:
                log.exception("could not send e-mail %s to %s", message["Message-ID"], message["To"])


@event.listens_for(Session, "after_soft_rollback")
def _drop_registered(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.nested or session.in_transaction():
        return
    dropped = session.info.pop(_AFTER_COMMIT_KEY, [])
    if dropped:
        log.info("transaction rolled back; dropped %d e-mail(s) not yet sent", len(dropped))
