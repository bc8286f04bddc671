"""Test mail, written for these tests: fictional people, example domains only."""

from __future__ import annotations

import itertools
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import datetime as dt

TEAM = "ehc.assessment@brackenford.example.gov.uk"
_counter = itertools.count(1)

BODIES = {
    "mediation": [
        "We got your letter dated 3 September saying you will not assess Amara. I do not accept this and want "
        "to challenge the decision. What do I do next?",
        "The final plan you issued for my son leaves out his speech therapy hours. I want to speak to the "
        "mediation people about it.",
    ],
    "tribunal": [
        "I am going to appeal to the SEND tribunal against your refusal to issue a plan for Leo. Please tell "
        "me what evidence I need to send.",
        "We already have our mediation certificate from Prime Resolution and will lodge the appeal this week.",
    ],
    "disagreement_resolution": [
        "The school is not giving Maya the one-to-one support in her plan. Can someone independent help us "
        "sort it out with them?",
        "We are unhappy with the draft plan and how the annual review was run. We would like an independent "
        "meeting with the school and the council.",
    ],
    "other": [
        "Please find attached the parental views form for Ellis's annual review next month.",
        "Could you change the date of our review meeting? We are away on the 12th.",
    ],
}


def make_email(
    subject: str = "About my son",
    body: str = "Hello, I have a question about my son's EHC plan.",
    sender: str = "Rosa Lindqvist <rosa.lindqvist@example.com>",
    date: dt.datetime | None = None,
    html: str | None = None,
    extra_headers: dict[str, str] | None = None,
    attachment: tuple[str, str, bytes] | None = None,
    charset: str = "utf-8",
    message_id: str | None = None,
) -> bytes:
    """One email as bytes; pass html for an HTML part, attachment=(name, mime type, data) for one."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = TEAM
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.timezone.utc))
    msg["Message-ID"] = message_id or make_msgid(f"t{next(_counter)}", domain="example.com")
    for name, value in (extra_headers or {}).items():
        msg[name] = value
    if body is not None:
        msg.set_content(body, charset=charset)
    if html is not None:
        if body is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    if attachment is not None:
        name, mime, data = attachment
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


def varied_messages() -> list[bytes]:
    """Thirty distinct messages of every kind intake must handle."""
    out: list[bytes] = []
    names = ["Priya Anand", "Tom Whitcombe", "Grace Oduya", "Samir Haddad", "Ellen Marsh", "Kofi Mensah"]
    for index, (label, bodies) in enumerate(itertools.cycle(BODIES.items())):
        if len(out) >= 16:
            break
        body = bodies[index % 2] + f"\n\nThanks,\n{names[index % len(names)]}\n(case note {index})"
        out.append(make_email(subject=f"{label.replace('_', ' ')} question {index}", body=body,
                              sender=f"{names[index % len(names)]} <parent{index}@example.com>"))
    out.append(make_email(subject="HTML only", body=None,
                          html="<html><body><p>The school <b>still</b> has not put the support in "
                               "Noah's plan in place.</p><script>alert(1)</script></body></html>"))
    out.append(make_email(subject="Plain and HTML", body="We want to appeal the decision to cease the plan.",
                          html="<p>We want to <i>appeal</i> the decision to cease the plan.</p>"))
    out.append(make_email(
        subject="Re: Your request",
        body="Thank you, the new date works for us.\n\nOn 1 Nov 2026, EHC Team wrote:\n> We refused to assess "
             "and you may appeal to the tribunal.\n> Regards",
        extra_headers={"In-Reply-To": "<earlier@brackenford.example.gov.uk>",
                       "References": "<earlier@brackenford.example.gov.uk>"}))
    out.append(make_email(subject="Decision letter attached",
                          body="Here is the letter refusing the assessment. I want mediation.",
                          attachment=("decision-letter.pdf", "application/pdf", b"%PDF-1.4\n%fictional\n")))
    out.append(make_email(subject="Lettre de décision", body="Nous ne sommes pas d'accord avec la décision "
                          "finale du plan. Coût £40, café, élève.", charset="iso-8859-1"))
    out.append(make_email(subject="Windows text", body="The school’s “support” isn’t happening — help please.",
                          charset="cp1252"))
    out.append(make_email(subject="Out of office: About my son", body="I am out of the office until Monday.",
                          sender="Dr Neema Achieng <n.achieng@example.org>",
                          extra_headers={"Auto-Submitted": "auto-replied"}))
    out.append(make_email(subject="Parent forum newsletter", body="Our tribunal tips webinar is on Thursday.",
                          sender="Forum News <news@forum.example.org>",
                          extra_headers={"List-Id": "<news.forum.example.org>", "List-Unsubscribe":
                                         "<mailto:unsub@forum.example.org>", "Precedence": "bulk"}))
    out.append(_bounce())
    out.append(broken_message())
    out.append(make_email(subject="", body="no subject line at all, just asking when the review is"))
    out.append(make_email(subject="=?utf-8?q?Zo=C3=AB=E2=80=99s_plan?=", body="Zoë's plan is wrong."))
    out.append(make_email(subject="From a young person", body="im 17 and i want to appeal my plan being stopped",
                          sender="jay.k <jay.k@example.net>"))
    out.append(make_email(subject="No-reply portal", body="Your document has been uploaded.",
                          sender="Portal <no-reply@portal.example.com>"))
    assert len(out) == 30, len(out)
    return out


def _bounce() -> bytes:
    return (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        b"To: " + TEAM.encode() + b"\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Date: Mon, 2 Nov 2026 10:00:00 +0000\r\n"
        b"Message-ID: <bounce-1@mx.example.net>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nYour message about the tribunal could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--B--\r\n"
    )


def broken_message() -> bytes:
    return (
        b"From: Broken Sender <broken@example.com>\r\n"
        b"Subject: broken\r\n"
        b"Date: Mon, 2 Nov 2026 11:00:00 +0000\r\n"
        b"Message-ID: <broken-1@example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never-appears"\r\n\r\n'
        b"garbage without any boundary \x00\xff\xfe base64:????\r\n"
    )


def store_at_revision(url: str, revision: str):
    """A store migrated to the newest schema, then downgraded to `revision`: a database as an older
    version of the service left it, for testing what a migration does to existing rows."""
    from alembic import command
    from alembic.config import Config

    from triage.store import _MIGRATIONS, Store

    store = Store(url)
    store.migrate()
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    with store.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)
    return store
