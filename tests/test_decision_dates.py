"""Which dates in a parent's email can be the decision date D or the certificate date C (DOMAIN.md section 7).

Each row was worked out by hand from DOMAIN.md section 7 rules 1, 2 and 8 before the code was written:
only a date the text ties to the council's decision letter (or the letter sending the final or amended
plan) is D; the council's own emails quoted in a reply count and win; the writer's own letters, calls and
visits, meetings, draft plans, reports, dates of birth, other parties' letters, other deadlines and the
writer's own sums never count. A date without a year is the most recent such date not after the message
date, marked approximate, and never beats a full date for the decision letter. Unknown means None.

The message date is Thursday 5 November 2026 unless a row says otherwise (UK day-first throughout).
"""

from __future__ import annotations

import time
from datetime import date

import pytest

from replies.decision_dates import find_certificate_date, find_decision_date, find_document_dates

SENT = date(2026, 11, 5)  # a Thursday
OURS = ("ehc.assessment@brackenford.example.gov.uk", "EHC Assessment Team", "Brackenford Council")
UNKNOWN = None

OUR_QUOTE = ("On Mon, 12 Oct 2026 at 09:14, EHC Assessment Team <ehc.assessment@brackenford.example.gov.uk> "
             "wrote:\n> Dear Ms Shah,\n>\n> Our decision letter dated 2 October 2026 explains the reasons for the "
             "decision.\n> If you disagree you can contact Prime Resolution.\n>\n> Kind regards\n> EHC Assessment Team\n")

DECISION_LETTER = (
    "Brackenford Council\nChildren's Services, SEND Assessment\nCounty Hall, Brackenford BR1 1AA\n\n"
    "2 October 2026\n\nOur ref: EHC-204511-K7Q2M\n\nDear Ms Shah\n\n"
    "Re: Aria Shah, date of birth 04/05/2017\n\n"
    "Following the SEN panel meeting on 28 September 2026, we have decided not to carry out an education, "
    "health and care needs assessment for Aria at this time.\n\n"
    "You have the right to appeal to the First-tier Tribunal (SEND). Before you appeal you must contact "
    "Prime Resolution, the mediation adviser, within two months of the date of this letter.\n\n"
    "Yours sincerely\n\nJ. Walker\nSEND Assessment Manager\n")

FINAL_PLAN_LETTER = (
    "BRACKENFORD COUNCIL\n\nDate: 9 October 2026\n\nDear Mr and Mrs Okafor\n\n"
    "Final Education, Health and Care Plan for Tobi Okafor (DOB 11/01/2015)\n\n"
    "Please find enclosed Tobi's final EHC plan. We considered your comments on the draft plan dated "
    "1 September 2026. If you disagree with sections B, F or I you may appeal to the tribunal.\n\n"
    "Yours sincerely\nEHC Assessment Team\n")

EP_REPORT = (
    "Educational Psychology Service\nPsychological Advice\n\nName: Aria Shah\nDate of birth: 04/05/2017\n"
    "Date of assessment: 14 September 2026\nDate of report: 1 October 2026\n\n"
    "Aria presents with significant difficulties with attention and working memory.\n")

DRAFT_COVER = (
    "Brackenford Council\n\n1 October 2026\n\nDear Mr Green\n\nPlease find enclosed the draft EHC plan for Tom. "
    "You have 15 days to comment on the draft and to tell us which school you would like named.\n\n"
    "Yours sincerely\nEHC Assessment Team\n")

CERTIFICATE = (
    "Prime Resolution\nMediation Certificate\n\nIssued under section 55 of the Children and Families Act 2014\n\n"
    "Child: Aria Shah\nDate of issue: 29 October 2026\n\nThis certificate confirms that the parent has contacted "
    "the mediation adviser and has decided not to pursue mediation.\n")

LONG_MESSAGE = (
    "Dear EHC team,\n\nI am writing about my son Leo (date of birth 12/03/2016), who is in Year 5 at Oakfield "
    "Primary. We had his annual review meeting on 8 July 2026 and the school sent you their report on "
    "15 July 2026. I phoned your office on 3 September 2026 because we had heard nothing, and I wrote to you "
    "again on 10 September 2026. The draft amended plan dated 17 September 2026 left out his speech and "
    "language therapy, even though the SALT report of 30 June 2026 says he needs it weekly. Our solicitor's "
    "letter of 1 October 2026 set all of this out.\n\nThe final amended plan was issued on 14 October 2026 "
    "and it still leaves out the therapy. By my sums that gives me until 14 December to contact the mediation "
    "adviser, and the council must respond to my complaint by 20 November.\n\nPlease tell me what to do next."
    "\n\nMaria Lopez\n")


def row(text, expected, approximate=None, *, kind="D", sent=SENT, ours=(), attachments=(), source=None, id):
    return pytest.param(kind, text, expected, approximate, sent, ours, attachments, source, id=id)


TABLE = [
    # --- the writer's own sum of the deadline (year-less dates there must not win) ---
    row("The decision letter is dated 2 October 2026, so I have until 2 December to contact the mediator.",
        date(2026, 10, 2), False, id="sum-have-until"),
    row("We got the refusal letter dated 9 October 2026 which gives me until 9 December to ring Prime Resolution.",
        date(2026, 10, 9), False, id="sum-gives-me-until"),
    row("I make it that my deadline is 30 December for the appeal. Your letter was dated 30 October 2026.",
        date(2026, 10, 30), False, id="sum-my-deadline-is"),
    row("So two months from the letter takes me to 4 January, am I right? The letter itself is dated "
        "4 November 2026.", date(2026, 11, 4), False, id="sum-takes-me-to"),
    row("I need to contact the mediation adviser by 20 December, that's what I worked out.", UNKNOWN,
        id="sum-only-by"),
    row("Just so I know where I stand: I have until 3 January to appeal?", UNKNOWN, id="sum-only-until"),
    row("My sums say the appeal has to be in by 12 December.", UNKNOWN, id="sum-only-has-to-be-in"),
    # --- another party's deadline ---
    row("The council must respond by 3 November and still hasn't.", UNKNOWN, id="other-deadline-must-respond"),
    row("You were supposed to make a decision by 15 October, and your letter dated 28 October 2026 finally came.",
        date(2026, 10, 28), False, id="other-deadline-supposed-by"),
    row("The school had to send their advice by 1 October. The decision letter came on 20 October 2026.",
        date(2026, 10, 20), False, id="other-deadline-school-advice"),
    row("The deadline for the final plan was 31 October and we are still waiting.", UNKNOWN,
        id="other-deadline-final-plan"),
    row("The LA has 6 weeks, so they should have replied by 25 October.", UNKNOWN, id="other-deadline-six-weeks"),
    # --- the writer's own earlier letters, emails, calls and visits ---
    row("I wrote to you on 3 May asking for an assessment and have heard nothing.", UNKNOWN, id="own-wrote"),
    row("I wrote to you on 3 May 2026 and your letter dated 12 June 2026 refused to assess.", date(2026, 6, 12),
        False, id="own-wrote-then-your-letter"),
    row("I phoned Prime Resolution on 28 October about mediation.", UNKNOWN, id="own-phoned-adviser"),
    row("I phoned Prime Resolution on 28 October. The decision letter I am appealing is dated 6 October 2026.",
        date(2026, 10, 6), False, id="own-phoned-then-letter"),
    row("I emailed the team on 1 October and again on 15 October, but nobody replied.", UNKNOWN, id="own-emailed"),
    row("We rang the council on Monday to ask about the decision.", UNKNOWN, id="own-rang-relative"),
    row("My letter of 2 September set out why Jack needs an assessment. You refused on 30 September.",
        date(2026, 9, 30), True, id="own-letter-then-you-refused"),
    row("I visited the office on 12 October 2026 to hand in the forms.", UNKNOWN, id="own-visit"),
    row("I sent my request on 10 August 2026 and the refusal letter arrived on 21 September 2026.",
        date(2026, 9, 21), False, id="own-request-then-refusal"),
    row("Our letter to you of 4 October 2026 explained why we disagree with the decision.", UNKNOWN,
        id="own-our-letter"),
    row("I replied on 20 October 2026 to say we disagree.", UNKNOWN, id="own-replied"),
    row("We rang Prime Resolution on 26 October 2026, 3 weeks after your decision letter of 5 October 2026.",
        date(2026, 10, 5), False, id="own-rang-after-your-letter"),
    # --- other parties' letters ---
    row("Prime Resolution's letter dated 30 October 2026 says I can have mediation.", UNKNOWN,
        id="party-adviser-letter"),
    row("Our solicitor wrote to you on 22 October 2026 about the refusal.", UNKNOWN, id="party-solicitor-wrote"),
    row("I have a letter from the mediation adviser dated 28 October 2026.", UNKNOWN, id="party-letter-from-adviser"),
    row("The school's letter of 5 October 2026 supports our request, but your decision letter of "
        "25 September 2026 refused it.", date(2026, 9, 25), False, id="party-school-then-yours"),
    row("The tribunal wrote to us on 2 November 2026 to register the appeal.", UNKNOWN, id="party-tribunal-wrote"),
    row("A letter from SENDIASS dated 1 October 2026 explains our rights.", UNKNOWN, id="party-sendiass"),
    row("Our solicitor's letter of 14 October 2026 challenged the LA's refusal letter dated 2 October 2026.",
        date(2026, 10, 2), False, id="party-solicitor-vs-la-refusal"),
    # --- draft plans ---
    row("The draft plan dated 15 September 2026 left out speech therapy.", UNKNOWN, id="draft-dated"),
    row("We were sent the draft plan on 1 September 2026 and the final plan issued on 20 October 2026 still "
        "leaves out speech therapy.", date(2026, 10, 20), False, id="draft-then-final"),
    row("I commented on the draft EHCP on 10 September.", UNKNOWN, id="draft-commented"),
    row("We received the final EHCP on 23 October 2026 and section F is vague.", date(2026, 10, 23), False,
        id="final-ehcp-received"),
    # --- reports ---
    row("The EP report of 12 August 2026 says he needs 1:1 support.", UNKNOWN, id="report-ep"),
    row("The SALT report dated 3 July 2026 recommends weekly therapy, which the final plan issued on "
        "9 October 2026 ignores.", date(2026, 10, 9), False, id="report-salt-then-final"),
    row("The OT assessment was done on 14 September 2026.", UNKNOWN, id="report-ot-assessment"),
    row("The educational psychologist's report from 30 June was never considered.", UNKNOWN, id="report-ep-yearless"),
    # --- dates of birth ---
    row("My son (date of birth 14/10/2016) was refused an assessment in your letter dated 16 October 2026.",
        date(2026, 10, 16), False, id="dob-then-letter"),
    row("Leo was born on 3 December 2024 and has complex needs.", UNKNOWN, id="dob-born-on"),
    row("Harry, DOB 21.09.2023, letter dated 29.09.2026 refusing to assess.", date(2026, 9, 29), False,
        id="dob-numeric"),
    row("It was his birthday on 25 October, the day after the refusal letter dated 24 October 2026 arrived.",
        date(2026, 10, 24), False, id="dob-birthday"),
    # --- annual reviews, panels, tribunal hearings ---
    row("The annual review meeting was on 17 September 2026 and we have heard nothing since.", UNKNOWN,
        id="review-meeting"),
    row("After the annual review on 8 July 2026 you sent the amended plan with your letter dated "
        "30 September 2026.", date(2026, 9, 30), False, id="review-then-amended-plan"),
    row("We had Max's review meeting on 3 June.", UNKNOWN, id="review-yearless"),
    row("The panel met on 14 October 2026 and decided not to assess.", UNKNOWN, id="panel-met"),
    row("The panel met on 14 October 2026; the decision letter is dated 19 October 2026.", date(2026, 10, 19),
        False, id="panel-then-letter"),
    row("I was told the panel would meet on 1 October.", UNKNOWN, id="panel-would-meet"),
    row("The tribunal hearing on 15 July 2026 ordered you to amend section F.", UNKNOWN, id="hearing"),
    row("The hearing was on 2 June 2026 and the amended final plan was issued on 28 August 2026.",
        date(2026, 8, 28), False, id="hearing-then-amended-final"),
    # --- two letters: the refusal and an earlier acknowledgement ---
    row("Your letter of 20 August 2026 acknowledged my request. Then your letter dated 1 October 2026 refused "
        "to carry out an assessment.", date(2026, 10, 1), False, id="two-letters-ack-then-refusal"),
    row("We got an acknowledgement letter on 3 September 2026 and the refusal letter on 15 October 2026.",
        date(2026, 10, 15), False, id="two-letters-ack-letter"),
    row("Thank you for your acknowledgement dated 2 October 2026. I am still waiting for the decision.", UNKNOWN,
        id="ack-only"),
    # --- one letter, several dates: the earliest of that letter's dates ---
    row("The decision letter is dated 3 October 2026 but it only arrived on 9 October 2026.", date(2026, 10, 3),
        False, id="same-letter-dated-arrived"),
    row("Your letter was dated 12 October, it arrived on 16 October.", date(2026, 10, 12), True,
        id="same-letter-yearless"),
    row("It was posted on 30 September 2026 and dated 28 September 2026, the refusal letter I mean.",
        date(2026, 9, 28), False, id="same-letter-posted-dated"),
    # --- a full date and a year-less date for the same letter: the full date ---
    row("The letter came on 10 October. Looking at it again, it is dated 7 October 2026.", date(2026, 10, 7),
        False, id="full-beats-yearless"),
    row("Your letter dated 7 October 2026 (I think I got it 12 October) refused to assess.", date(2026, 10, 7),
        False, id="full-beats-yearless-brackets"),
    row("The refusal came on 1 October; the letter itself is dated 5 October 2026.", date(2026, 10, 5), False,
        id="full-never-loses-to-earlier-yearless"),
    row("We received the decision letter on 2 October. The letter is dated 30 September 2026.",
        date(2026, 9, 30), False, id="full-earlier-than-yearless"),
    # --- year-less, month-only and relative dates ---
    row("Your letter dated 20 October refused to issue a plan.", date(2026, 10, 20), True, id="yearless"),
    row("Your letter dated 20 December refused to issue a plan.", date(2025, 12, 20), True,
        id="yearless-last-year"),
    row("The decision letter dated 5 November arrived today.", date(2026, 11, 5), True, id="yearless-today"),
    row("I received your letter on Monday 2 November.", date(2026, 11, 2), False, id="yearless-weekday-confirms"),
    row("We received the final plan in early October.", date(2026, 10, 1), True, id="month-only"),
    row("The refusal letter came last Tuesday.", date(2026, 11, 3), True, id="relative-last-tuesday"),
    row("Your letter arrived two weeks ago.", date(2026, 10, 22), True, id="relative-weeks-ago"),
    row("I got the final plan yesterday.", date(2026, 11, 4), True, id="relative-yesterday"),
    # --- other phrasings that tie a date to the decision ---
    row("You decided on 8 October 2026 to cease Mia's plan.", date(2026, 10, 8), False, id="you-decided"),
    row("I am appealing the LA's refusal letter dated 01/10/2026.", date(2026, 10, 1), False,
        id="la-refusal-numeric"),
    row("Your letter dated 03/10/2026 refused to assess.", date(2026, 10, 3), False, id="uk-day-first"),
    row("The decision letter of 3rd October says no.", date(2026, 10, 3), True, id="decision-letter-of"),
    row("Decision letter: 2026-10-14", date(2026, 10, 14), False, id="iso"),
    row("Your letter dated 30 November 2026 refused to assess.", UNKNOWN, id="future-date"),
    row("I disagree with the decision and want to appeal.", UNKNOWN, id="no-date"),
    row("My meeting with the SENCO on 12 October 2026 was about the decision.", UNKNOWN, id="senco-meeting"),
    row("Your officer phoned me on 1 October 2026 to say the answer was no.", UNKNOWN, id="council-phone-call"),
    row(LONG_MESSAGE, date(2026, 10, 14), False, id="long-message-many-distractors"),
    # --- our own email quoted in the reply: counts and wins ---
    row("Hi, I still don't agree with this and want to go to mediation.\nThanks, Priya\n\n" + OUR_QUOTE,
        date(2026, 10, 2), False, ours=OURS, source="our_email", id="ours-quoted"),
    row("The letter came at the start of October I think, maybe the 5th. I want to appeal.\n\n" + OUR_QUOTE,
        date(2026, 10, 2), False, ours=OURS, source="our_email", id="ours-beats-vague-memory"),
    row("Your letter dated 6 October 2026 refused the assessment.\n\n" + OUR_QUOTE, date(2026, 10, 2), False,
        ours=OURS, source="our_email", id="ours-beats-parent-full-date"),
    row(OUR_QUOTE.replace("\n> ", "\n").replace("\n>", "\n"), UNKNOWN, id="not-ours-without-ours-given"),
    row("I want to appeal.\n\nFrom: EHC Assessment Team <ehc.assessment@brackenford.example.gov.uk>\n"
        "Sent: 14 October 2026 11:02\nTo: Sam Jones\nSubject: RE: your request\n\nDear Mr Jones,\n"
        "We wrote to you on 9 October 2026 with our decision not to carry out an EHC needs assessment.\n",
        date(2026, 10, 9), False, ours=OURS, source="our_email", id="ours-outlook"),
    row("Please see below.\n\nOn Tue, 13 Oct 2026 at 16:40, SEN Casework wrote:\n> Case reference "
        "EHC-204511-K7Q2M\n> The final plan was issued with our letter dated 8 October 2026.\n",
        date(2026, 10, 8), False, ours=OURS, source="our_email", id="ours-by-case-reference"),
    row("See below.\n\n" + OUR_QUOTE.replace("Our decision letter dated 2 October 2026 explains the reasons for "
                                             "the decision.", "Thank you for your email of 20 October 2026."),
        UNKNOWN, ours=OURS, id="ours-your-email-is-the-parents"),
    row("Forwarding what the school said.\n\nOn 12 Oct 2026, Head Teacher <head@oakfield.example.sch.uk> wrote:\n"
        "> Our letter dated 1 October 2026 confirms we can meet his needs.\n", UNKNOWN, ours=OURS,
        id="quoted-school"),
    row("Thanks.\n\n" + OUR_QUOTE.replace("> Kind regards", "> On 11 Oct 2026, Priya Shah <priya@example.com> "
                                          "wrote:\n>> I never got your letter dated 25 September.\n> Kind regards"),
        date(2026, 10, 2), False, ours=OURS, source="our_email", id="ours-with-nested-parent-quote"),
    # --- attached documents ---
    row("Please find the letter attached. I want to appeal.", date(2026, 10, 2), False,
        attachments=(DECISION_LETTER,), source="attachment", id="attached-decision-letter"),
    row("Attached is the final plan letter.", date(2026, 10, 9), False, attachments=(FINAL_PLAN_LETTER,),
        source="attachment", id="attached-final-plan-letter"),
    row("I got it on 12 October. Letter attached.", date(2026, 10, 9), False, attachments=(FINAL_PLAN_LETTER,),
        source="attachment", id="attachment-beats-yearless-receipt"),
    row("Here is the EP report.", UNKNOWN, attachments=(EP_REPORT,), id="attached-ep-report"),
    row("Here is the draft plan letter.", UNKNOWN, attachments=(DRAFT_COVER,), id="attached-draft-cover"),
    # --- certificate dates ---
    row("The mediation certificate was issued on 28 October 2026.", date(2026, 10, 28), False, kind="C",
        id="cert-issued"),
    row("I phoned the mediation adviser on 20 October 2026 and they said they'd send the certificate.", UNKNOWN,
        kind="C", id="cert-own-call-not-c"),
    row("Prime Resolution issued my certificate on 30 October.", date(2026, 10, 30), True, kind="C",
        id="cert-yearless"),
    row("I asked for the certificate on 26 October 2026 and got it on 29 October 2026.", date(2026, 10, 29), False,
        kind="C", id="cert-asked-then-got"),
    row("The certificate is dated 2 November 2026 and the decision letter 2 October 2026.", date(2026, 11, 2),
        False, kind="C", id="cert-vs-letter-c"),
    row("The certificate is dated 2 November 2026 and the decision letter 2 October 2026.", date(2026, 10, 2),
        False, id="cert-vs-letter-d"),
    row("Thanks.\n\nOn 3 Nov 2026, EHC Assessment Team <ehc.assessment@brackenford.example.gov.uk> wrote:\n"
        "> The mediation adviser issued your certificate on 30 October 2026.\n", date(2026, 10, 30), False,
        kind="C", ours=OURS, source="our_email", id="cert-ours-quoted"),
    row("Certificate attached.", date(2026, 10, 29), False, kind="C", attachments=(CERTIFICATE,),
        source="attachment", id="cert-attached"),
    row("I need to appeal within a month of the certificate, so by 30 November.", UNKNOWN, kind="C",
        id="cert-own-sum"),
    row("The mediator's letter of 27 October 2026 says they will issue the certificate soon.", UNKNOWN, kind="C",
        id="cert-mediator-letter"),
    row("Please find the letter attached. I want to appeal.", UNKNOWN, kind="C", attachments=(DECISION_LETTER,),
        id="cert-decision-letter-is-not-c"),
]


@pytest.mark.parametrize("kind, text, expected, approximate, sent, ours, attachments, source", TABLE)
def test_decision_and_certificate_dates(kind, text, expected, approximate, sent, ours, attachments, source):
    find = find_decision_date if kind == "D" else find_certificate_date
    found = find(text, sent, attachments=attachments, ours=ours)
    if expected is None:
        assert found is None, found
        return
    assert found is not None
    assert found.date == expected, found
    if approximate is not None:
        assert found.approximate is approximate, found
    assert found.source == (source or "message"), found
    assert found.rule.startswith("Read ") and found.rule.endswith(".")


def test_both_dates_read_together_are_the_dates_read_one_at_a_time():
    """Intake reads a body once for both documents (find_document_dates): the same answers, on every row of
    the table and on every message of the labelled corpus."""
    from classifier.corpus import DATA_DIR, load_labels
    from triage.parsing import parse_message

    cases = [(text, sent, ours, attachments) for _, text, _, _, sent, ours, attachments, _ in
             (p.values for p in TABLE)]
    for record in load_labels(DATA_DIR / "labels.jsonl"):
        parsed = parse_message((DATA_DIR / record["file"]).read_bytes())
        cases.append((parsed.text, (parsed.date.date() if parsed.date else SENT), OURS,
                      tuple(a.text for a in parsed.attachment_texts if a.text)))
    found_any = 0
    for text, sent, ours, attachments in cases:
        together = find_document_dates(text, sent, attachments=attachments, ours=ours)
        apart = (find_decision_date(text, sent, attachments=attachments, ours=ours),
                 find_certificate_date(text, sent, attachments=attachments, ours=ours))
        assert together == apart, text[:200]
        found_any += sum(d is not None for d in together)
    assert found_any > 50  # the corpus and the table hold plenty of dates, so the comparison means something


def test_table_is_large_enough():
    assert len(TABLE) >= 80


def test_positional_calls_still_work():
    assert find_decision_date("Your letter dated 3 October 2026 refused it.", SENT).date == date(2026, 10, 3)
    assert find_certificate_date("Certificate dated 3 November 2026.", SENT).date == date(2026, 11, 3)


def test_a_200_kb_body_is_read_without_a_pathological_slowdown():
    chunk = ("I phoned on 3 October and wrote on 4 Oct 2026; the EP report of 12/08/2026 and the draft plan "
             "dated 2026-09-15 say so. > quoted line with 1 June\n" + "a " * 300 + "\n"
             + "On Mon, 12 Oct 2026, Someone <someone@example.com> wrote:\n>> deeply >>> nested " + ">" * 200
             + " 5 May\n" + "1/2/3/4/5/6/7/8/9 " * 40 + "\n" + "by until before deadline " * 30 + "\n")
    body = "The decision letter is dated 2 October 2026.\n" + chunk * (200_000 // len(chunk) + 1)
    assert len(body) > 200_000
    started = time.monotonic()
    assert find_decision_date(body, SENT, ours=OURS).date == date(2026, 10, 2)
    assert find_certificate_date(body, SENT, ours=OURS) is None
    assert time.monotonic() - started < 5  # generous on a shared machine; a backtracking regex would hang
