"""Decision-letter dates and deadlines, checked against answers worked out by hand from DOMAIN.md section 7.

Calendar facts used below (England and Wales): 17 Sep 2026 is a Thursday; 14 Nov 2026 a Saturday;
Good Friday 3 Apr and Easter Monday 6 Apr 2026; late summer bank holiday Mon 31 Aug 2026 and
Mon 30 Aug 2027; Christmas Day Fri 25 Dec 2026, Boxing Day Sat 26 Dec observed Mon 28 Dec;
New Year's Day Fri 1 Jan 2027; 28 Feb 2027 is a Sunday; 29 Feb 2028 is a Tuesday.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from replies.deadline_rules import compute_deadlines
from replies.decision_dates import find_certificate_date, find_decision_date
from replies.working_days import add_months, add_working_days, is_working_day, next_working_day, previous_working_day

SENT = date(2026, 9, 17)  # a Thursday

DECISION_DATES = [
    # (A date without a year is marked approximate, DOMAIN.md section 7 rule 1; an agreeing weekday
    # ("Monday 14 September") confirms the year, so that one is exact.)
    # an exact date beats a vague one for the same letter
    ("The final plan came with your letter dated 4 August 2026. We contacted Prime Resolution in August.",
     date(2026, 10, 2), date(2026, 8, 4), False),
    # every format, with decision-letter words beside it
    ("Your letter dated 3rd Sept refused an assessment.", SENT, date(2026, 9, 3), True),
    ("I received the decision letter on 3 September.", SENT, date(2026, 9, 3), True),
    ("The decision letter of September 3rd says no.", SENT, date(2026, 9, 3), True),
    ("Your letter dated 03/09/2026 refused to assess my son.", SENT, date(2026, 9, 3), False),
    ("Decision letter dated 3/9/26.", SENT, date(2026, 9, 3), False),
    ("The letter is dated 03.09.2026.", SENT, date(2026, 9, 3), False),
    ("The letter is dated 3.9.26.", SENT, date(2026, 9, 3), False),
    ("Decision letter: 2026-09-03", SENT, date(2026, 9, 3), False),
    ("We disagree with the letter dated 14 September refusing an EHC needs assessment.", SENT,
     date(2026, 9, 14), True),
    ("I am writing about your letter of 14/09/2026.", SENT, date(2026, 9, 14), False),
    ("The letter dated the 14th of September refused it.", SENT, date(2026, 9, 14), True),
    ("Decision dated Sept 14, 2026, received today.", SENT, date(2026, 9, 14), False),
    ("Your letter dated 3 Sept. refused it.", SENT, date(2026, 9, 3), True),
    ("DECISION LETTER DATED 3 SEPTEMBER 2026", SENT, date(2026, 9, 3), False),
    ("The letter dated 14 September 2025 refused to issue a plan.", SENT, date(2025, 9, 14), False),
    ("I received the letter on Monday 14 September.", SENT, date(2026, 9, 14), False),
    # relative to the sent date, marked approximate
    ("We got the decision letter on the 2nd of this month.", SENT, date(2026, 9, 2), True),
    ("The decision letter came on the 2nd of last month.", SENT, date(2026, 8, 2), True),
    ("The refusal letter came last Tuesday.", SENT, date(2026, 9, 15), True),
    ("The refusal letter came last Tuesday.", date(2026, 9, 15), date(2026, 9, 8), True),
    ("I received your letter on Monday.", SENT, date(2026, 9, 14), True),
    ("Your decision arrived yesterday.", SENT, date(2026, 9, 16), True),
    ("We received the decision letter last week.", SENT, date(2026, 9, 7), True),
    ("The decision letter arrived 3 days ago.", SENT, date(2026, 9, 14), True),
    # month only: the 1st, approximate
    ("The decision letter came in early June.", SENT, date(2026, 6, 1), True),
    ("You sent the final plan in June.", SENT, date(2026, 6, 1), True),
    ("The final plan was issued mid-June.", SENT, date(2026, 6, 1), True),
    ("The final plan was issued in June 2026.", SENT, date(2026, 6, 1), True),
    ("The refusal letter came in early October.", SENT, date(2025, 10, 1), True),
    # no year: the most recent such date not after the sent date; month ends and leap years
    ("Your letter dated 20 December refused the assessment.", SENT, date(2025, 12, 20), True),
    ("The decision letter dated 31 August refuses a plan.", SENT, date(2026, 8, 31), True),
    ("Your letter dated 29 February said no.", date(2028, 3, 10), date(2028, 2, 29), True),
    ("Your letter dated 29 Feb said no.", date(2029, 3, 1), date(2028, 2, 29), True),
    ("Your letter dated 29/02/2028 said no.", date(2028, 3, 10), date(2028, 2, 29), False),
    ("Your letter dated 29/02/2027 said no.", date(2027, 3, 10), None, False),
    ("Your letter dated 31 April said no.", SENT, None, False),
    # quoted earlier messages are not read
    ("Please see below.\n> Our letter dated 3 September 2026 explains the decision.", SENT, None, False),
    ("Thanks.\n\nOn Mon, 14 Sep 2026 at 10:00, EHC Team <ehc@example.gov.uk> wrote:\n"
     "Our decision letter dated 10 September 2026 is attached.", SENT, None, False),
    ("I disagree with this.\n-----Original Message-----\nFrom: EHC team\nDecision letter dated 10/09/2026",
     SENT, None, False),
    ("I disagree.\nFrom: EHC Team\nSent: 14 September 2026 10:00\nOur decision letter dated 10/09/2026",
     SENT, None, False),
    ("The letter came on 3 Sept.\n> Our letter dated 1 September 2026 refused an assessment.", SENT,
     date(2026, 9, 3), True),
    # dates that are not the decision letter
    ("The decision letter dated 30/09/2026 refused it.", SENT, None, False),
    ("The hearing is on 30 September 2026 and the letter was dated 1 September 2026.", SENT,
     date(2026, 9, 1), False),
    ("My son (DOB 03/04/2025) got a decision letter dated 10 September 2026.", SENT, date(2026, 9, 10), False),
    ("My daughter, dob 12/05/2024, has been refused an assessment.", SENT, None, False),
    ("Sam was born on 5 June 2025. The decision letter came on 8 September.", SENT, date(2026, 9, 8), True),
    ("We had the review meeting on 3 July and got the letter on 10 August.", SENT, date(2026, 8, 10), True),
    ("The mediation certificate was issued on 10 September.", SENT, None, False),
    ("I asked for an assessment on 1 June and you refused on 20 July.", SENT, date(2026, 7, 20), True),
    ("Your letter dated 3 September 2020 refused an assessment.", SENT, None, False),
    # sent and received dates of the same letter: the earliest (rule 1)
    ("The letter is dated 1 September but I only received it on 5 September.", SENT, date(2026, 9, 1), True),
    ("I received your letter on 14 September; it is dated 10 September.", SENT, date(2026, 9, 10), True),
    # no plausible date: None, never a guess
    ("I disagree with the decision and want to appeal.", SENT, None, False),
    ("I phoned on 3 Sept and nobody answered.", SENT, None, False),
    ("My daughter May got a decision letter.", SENT, None, False),
    ("We disagree with the decision.\n\n3 September or 4 September, I am not sure.", SENT, None, False),
    ("I spoke to school yesterday about the decision.", SENT, None, False),
    # one plain date in a message about a decision: taken, but marked approximate for a person to check
    ("We are unhappy with the decision. We got it on 3 September.", SENT, date(2026, 9, 3), True),
]


@pytest.mark.parametrize("text, sent, expected, approximate", DECISION_DATES)
def test_find_decision_date_reads_the_decision_letter_date(text, sent, expected, approximate):
    found = find_decision_date(text, sent)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert (found.date, found.approximate) == (expected, approximate)


def test_found_date_keeps_the_words_and_says_how_they_were_read():
    found = find_decision_date("Your letter dated 3rd Sept refused an assessment.", SENT)
    assert found.text == "3rd Sept"
    assert found.rule == ("Read '3rd Sept' as 3 September 2026, the most recent such date on or before "
                          "the day the email was sent.")


def test_found_date_rule_says_when_it_took_the_earliest_of_several():
    found = find_decision_date("The letter is dated 1 September but I only received it on 5 September.", SENT)
    assert "earliest of 2 dates" in found.rule


def test_relative_date_rule_names_the_weekday():
    found = find_decision_date("The refusal letter came last Tuesday.", SENT)
    assert found.text == "last Tuesday"
    assert "most recent Tuesday" in found.rule


@pytest.mark.parametrize("text, sent, expected", [
    ("The mediation certificate was issued on 2 November 2026.", date(2026, 11, 5), date(2026, 11, 2)),
    ("Decision letter dated 14 September 2026; certificate dated 2/11/2026.", date(2026, 11, 5),
     date(2026, 11, 2)),
    ("I got the certificate yesterday.", date(2026, 11, 5), date(2026, 11, 4)),
    ("Decision letter dated 14 September 2026.", date(2026, 11, 5), None),
    ("We have decided not to go to mediation.", date(2026, 11, 5), None),
    ("The certificate will be issued on 20 November 2026.", date(2026, 11, 5), None),
])
def test_find_certificate_date_reads_only_dates_beside_certificate(text, sent, expected):
    found = find_certificate_date(text, sent)
    assert (found.date if found else None) == expected


def test_decision_and_certificate_dates_in_one_message_are_told_apart():
    text = "Decision letter dated 14 September 2026; certificate dated 2/11/2026."
    assert find_decision_date(text, date(2026, 11, 5)).date == date(2026, 9, 14)


@pytest.mark.parametrize("start, months, expected", [
    (date(2026, 8, 31), 2, date(2026, 10, 31)),
    (date(2026, 12, 31), 2, date(2027, 2, 28)),
    (date(2027, 12, 31), 2, date(2028, 2, 29)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2027, 11, 30), 3, date(2028, 2, 29)),
    (date(2026, 10, 1), 2, date(2026, 12, 1)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2028, 2, 29), 12, date(2029, 2, 28)),
    (date(2026, 11, 15), 2, date(2027, 1, 15)),
    (date(2026, 12, 29), 2, date(2027, 2, 28)),
    (date(2026, 7, 31), 2, date(2026, 9, 30)),
])
def test_add_months_uses_the_corresponding_date_or_the_month_end(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.parametrize("day, working", [
    (date(2026, 9, 17), True),
    (date(2026, 9, 19), False),  # Saturday
    (date(2026, 9, 20), False),  # Sunday
    (date(2026, 4, 3), False),  # Good Friday
    (date(2026, 4, 6), False),  # Easter Monday
    (date(2026, 8, 31), False),  # late summer bank holiday
    (date(2026, 12, 28), False),  # Boxing Day, observed
    (date(2026, 12, 24), True),
])
def test_is_working_day_skips_weekends_and_england_bank_holidays(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize("start, n, expected", [
    (date(2026, 9, 18), 1, date(2026, 9, 21)),  # Friday + 1 -> Monday
    (date(2026, 9, 14), 3, date(2026, 9, 17)),  # the trigger day itself is not counted
    (date(2026, 4, 2), 3, date(2026, 4, 9)),  # over Easter
    (date(2026, 12, 24), 3, date(2026, 12, 31)),  # over Christmas
    (date(2026, 9, 17), 0, date(2026, 9, 17)),
])
def test_add_working_days_counts_from_the_day_after(start, n, expected):
    assert add_working_days(start, n) == expected


def test_next_and_previous_working_day_step_over_holidays():
    assert next_working_day(date(2026, 12, 24)) == date(2026, 12, 29)
    assert previous_working_day(date(2026, 4, 6)) == date(2026, 4, 2)
    assert next_working_day(date(2026, 9, 17)) == date(2026, 9, 18)


@pytest.mark.parametrize("decision, certificate, expected", [
    (date(2026, 9, 10), None, date(2026, 11, 10)),  # a Tuesday: unchanged
    (date(2026, 9, 14), None, date(2026, 11, 16)),  # Saturday -> Monday
    (date(2026, 2, 6), None, date(2026, 4, 7)),  # Easter Monday -> Tuesday
    (date(2026, 10, 24), None, date(2026, 12, 24)),  # Thursday 24 Dec: unchanged
    (date(2026, 10, 25), None, date(2027, 1, 4)),  # Christmas Day -> first working day after 1 Jan
    (date(2026, 10, 28), None, date(2027, 1, 4)),  # 28 Dec
    (date(2026, 11, 1), None, date(2027, 1, 4)),  # 1 Jan
    (date(2026, 11, 2), None, date(2027, 1, 4)),  # Saturday 2 Jan -> Monday
    (date(2026, 6, 10), None, date(2026, 9, 1)),  # August -> after 31 Aug, itself a bank holiday
    (date(2026, 6, 30), None, date(2026, 9, 1)),
    (date(2027, 6, 15), None, date(2027, 9, 1)),  # 31 Aug 2027 is a Tuesday
    (date(2026, 7, 1), None, date(2026, 9, 1)),  # 1 Sep is a working day: unchanged
    (date(2026, 12, 31), None, date(2027, 3, 1)),  # 28 Feb 2027, a Sunday -> Monday
    (date(2027, 12, 31), None, date(2028, 2, 29)),  # leap year month end, a Tuesday
    (date(2026, 9, 14), date(2026, 11, 2), date(2026, 12, 2)),  # certificate later
    (date(2026, 9, 14), date(2026, 10, 1), date(2026, 11, 16)),  # certificate earlier: no change
    (date(2026, 9, 14), date(2026, 10, 14), date(2026, 11, 16)),  # same day either way
    (date(2026, 12, 1), date(2027, 1, 31), date(2027, 3, 1)),  # certificate + 1 month = 28 Feb, Sunday
    (date(2026, 5, 20), date(2026, 7, 15), date(2026, 9, 1)),  # certificate + 1 month in August
    (date(2026, 10, 10), date(2026, 11, 26), date(2027, 1, 4)),  # certificate + 1 month = Boxing Day
])
def test_appeal_deadline_follows_hesc_rules_20_and_12(decision, certificate, expected):
    assert compute_deadlines(decision, certificate).appeal_by == expected


@pytest.mark.parametrize("decision, contact_by, advice_by", [
    (date(2026, 9, 10), date(2026, 11, 10), date(2026, 11, 10)),
    (date(2026, 9, 14), date(2026, 11, 14), date(2026, 11, 13)),  # Saturday -> Friday
    (date(2026, 2, 6), date(2026, 4, 6), date(2026, 4, 2)),  # Easter Monday, Good Friday -> Thursday
    (date(2026, 10, 25), date(2026, 12, 25), date(2026, 12, 24)),
    (date(2026, 10, 27), date(2026, 12, 27), date(2026, 12, 24)),
    (date(2026, 6, 10), date(2026, 8, 10), date(2026, 8, 10)),  # no August rule for the adviser
    (date(2026, 12, 31), date(2027, 2, 28), date(2027, 2, 26)),
])
def test_mediation_contact_deadline_is_not_moved_but_advice_is_earlier(decision, contact_by, advice_by):
    deadlines = compute_deadlines(decision)
    assert (deadlines.mediation_contact_by, deadlines.mediation_contact_advice_by) == (contact_by, advice_by)


def test_rule_text_says_why_a_weekend_deadline_moved():
    text = compute_deadlines(date(2026, 9, 14)).rule_text
    assert ("Appeal deadline: 2 months from the decision letter dated 14 September 2026 is 14 November 2026, "
            "moved to the next working day because 14 November 2026 is a Saturday.") in text
    assert "by 5pm on Monday 16 November 2026" in text
    assert "advise contacting the adviser by Friday 13 November 2026" in text


@pytest.mark.parametrize("decision, certificate, words", [
    (date(2026, 2, 6), None, "6 April 2026 is a bank holiday (Easter Monday)"),
    (date(2026, 10, 25), None, "between 25 December and 1 January"),
    (date(2026, 6, 10), None, "falls in August"),
    (date(2026, 12, 31), None, "that month has no day 31"),
    (date(2026, 9, 14), date(2026, 11, 2), "1 month from the mediation certificate issued on 2 November 2026"),
])
def test_rule_text_names_the_rule_applied(decision, certificate, words):
    assert words in compute_deadlines(decision, certificate).rule_text


DATE_IN_WORDS = re.compile(r"\b\d{1,2} (?:January|February|March|April|May|June|July|August|September"
                           r"|October|November|December) \d{4}")


@pytest.mark.parametrize("decision, certificate, allowed", [
    (date(2026, 9, 14), None, {"14 September 2026", "14 November 2026", "13 November 2026", "16 November 2026"}),
    (date(2026, 9, 14), date(2026, 10, 1),
     {"14 September 2026", "14 November 2026", "13 November 2026", "16 November 2026", "1 October 2026",
      "1 November 2026"}),
    (date(2026, 10, 25), None, {"25 October 2026", "25 December 2026", "24 December 2026", "4 January 2027"}),
])
def test_rule_text_mentions_only_dates_it_was_given_or_counted(decision, certificate, allowed):
    assert set(DATE_IN_WORDS.findall(compute_deadlines(decision, certificate).rule_text)) == allowed


def test_no_decision_date_gives_no_dates_and_states_the_rule_in_words():
    deadlines = compute_deadlines(None, date(2026, 11, 2), today=date(2026, 11, 5))
    assert (deadlines.mediation_contact_by, deadlines.mediation_contact_advice_by, deadlines.appeal_by) == (
        None, None, None)
    assert not deadlines.passed and not deadlines.near
    assert "2 months" in deadlines.rule_text and "decision letter" in deadlines.rule_text
    assert not DATE_IN_WORDS.search(deadlines.rule_text)
    assert not re.search(r"\d{1,2}[/.-]\d{1,2}|\d{4}", deadlines.rule_text)


@pytest.mark.parametrize("certificate, today, passed, near", [
    (None, None, False, False),
    (None, date(2026, 10, 1), False, False),
    (None, date(2026, 11, 3), False, True),  # adviser by Fri 13 Nov: 10 days
    (None, date(2026, 11, 2), False, False),  # 11 days
    (None, date(2026, 11, 14), False, True),  # adviser date gone, appeal still open
    (None, date(2026, 11, 16), False, True),  # appeal day itself, until 5pm
    (None, date(2026, 11, 17), True, False),
    (date(2026, 11, 2), date(2026, 11, 20), False, False),  # appeal by 2 Dec: 12 days
    (date(2026, 11, 2), date(2026, 11, 23), False, True),  # 9 days
    (date(2026, 11, 2), date(2026, 12, 3), True, False),
])
def test_deadline_flags_mark_passed_and_near(certificate, today, passed, near):
    deadlines = compute_deadlines(date(2026, 9, 14), certificate, today=today)
    assert (deadlines.passed, deadlines.near) == (passed, near)
