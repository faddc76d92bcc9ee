"""Deliver one message to one recipient: a webhook (JSON, Slack-compatible) or an e-mail (SMTP).

Each function either returns (delivered) or raises DeliveryError with a message that holds no
secret: neither the webhook URL (its path is often a token) nor the SMTP password.
"""

from __future__ import annotations

import json
from typing import Any

from andon.notify.config import SmtpConfig
from andon.notify.message import Message, Recipient


class DeliveryError(Exception):
    """A delivery attempt failed; the text is safe to log and record."""


def webhook_payload(message: Message, project: str = "") -> dict[str, Any]:
    """Slack reads ``text``; other receivers get the structured fields next to it."""
    prefix = f"[{project}] " if project else ""
    return {"text": f"{prefix}{message.subject}\n{message.text}", "event": message.about,
            "event_id": message.about_id, "project": project, "subject": message.subject,
            **message.fields}


def post_webhook(recipient: Recipient, message: Message, timeout: float, project: str = "") -> None:
    # here, not at the top: ssl and http.client cost every andon process start-up time, and
    # most never send a message
    import urllib.error
    import urllib.request

    body = json.dumps(webhook_payload(message, project), default=str).encode()
    request = urllib.request.Request(recipient.address, data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "User-Agent": "andon"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook {recipient.name} answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"webhook {recipient.name} unreachable: {_reason(exc.reason)}") from None
    except TimeoutError:
        raise DeliveryError(f"webhook {recipient.name} did not answer within {timeout:g}s") from None
    except OSError as exc:
        raise DeliveryError(f"webhook {recipient.name}: {type(exc).__name__}: {exc.strerror or ''}"
                            ) from None


def _reason(reason: Any) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError):
        return reason.strerror or type(reason).__name__
    return str(reason)[:200]


def send_email(smtp: SmtpConfig, recipient: Recipient, message: Message, timeout: float,
               project: str = "") -> None:
    import smtplib  # here: see post_webhook
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = recipient.address
    mail["Subject"] = (f"[andon{'/' + project if project else ''}] {message.subject}")[:250]
    mail["X-Andon-Event"] = message.about
    mail.set_content(message.text + "\n")
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as server:
            if smtp.starttls:
                server.starttls()
            if smtp.user:
                server.login(smtp.user, smtp.password)
            server.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login as {smtp.user} refused ({exc.smtp_code})") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP server answered {exc.smtp_code} for {recipient.name}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = ", ".join(str(code) for code, _ in exc.recipients.values())
        raise DeliveryError(f"SMTP server refused {recipient.name} ({codes})") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: {type(exc).__name__}: "
                            f"{getattr(exc, 'strerror', None) or str(exc)[:200]}") from None
