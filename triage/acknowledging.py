"""Whether a message gets an automatic acknowledgement, and if not, why not (RFC 3834).

Answering automatic mail is how mail loops start, so every sign of a machine sender
suppresses the acknowledgement, and so does having acknowledged the same person recently.
"""

from __future__ import annotations

from .domain import ParsedMessage
from .settings import AcknowledgementSettings, ServiceSettings


def suppression_reason(
    parsed: ParsedMessage,
    route: str,
    ack: AcknowledgementSettings,
    service: ServiceSettings,
    acknowledged_recently: bool,
) -> str:
    """'' when the sender should be acknowledged, else the reason (for the event log)."""
    a = parsed.auto
    address = parsed.reply_to or parsed.from_address
    checks = (
        (not ack.enabled, "acknowledgements are switched off ([acknowledgement] enabled = false)"),
        (bool(parsed.error), "the message could not be parsed, so it may be automatic mail"),
        (not address, "the message has no sender address"),
        (not address.isascii(), "the sender's address is not plain ASCII (it needs SMTPUTF8, which the service "
                                "does not send): reply by hand"),
        (bool(a.auto_submitted) and a.auto_submitted != "no", f"automatic mail (Auto-Submitted: {a.auto_submitted})"),
        (a.precedence in ("bulk", "list", "junk"), f"bulk or list mail (Precedence: {a.precedence})"),
        (bool(a.list_id), "mailing list mail (List-Id)"),
        (a.list_unsubscribe, "mailing list mail (List-Unsubscribe)"),
        (a.delivery_report, "a delivery report (bounce)"),
        (a.robot_sender, f"sent by a robot address ({parsed.from_address})"),
        (a.null_return_path, "sent with an empty Return-Path (an automatic reply or bounce)"),
        (a.autoreply_header, "marked as an automatic reply by its mail server"),
        (service.is_own_address(parsed.from_address) or service.is_own_address(address), "sent from our own address"),
        (route in ack.disabled_routes, f"acknowledgements are switched off for the {route} route"),
        (acknowledged_recently, f"this sender was acknowledged in the last {ack.window_hours} hours"),
    )
    return next((reason for failed, reason in checks if failed), "")
