"""The small text helpers behind the queue and item pages (issue 15): quoted history, case numbers, dates."""

from __future__ import annotations

import datetime as dt

from triage.web.display import council_case_number, days_from, iso_day, split_quoted


def test_the_quoted_history_is_split_from_the_new_words():
    fresh, quoted = split_quoted("Please call me.\n\nOn 14 Sep 2026, at 10:02, SEN Team wrote:\n> We decided.\n")
    assert fresh == "Please call me." and quoted.startswith("On 14 Sep 2026") and "> We decided." in quoted
    assert split_quoted("Thanks\n-----Original Message-----\nFrom: x@example.gov.uk")[0] == "Thanks"
    # A message that is all quote, or has none, is kept whole: folding it would hide what they wrote.
    assert split_quoted("> only a quote\n> here") == ("> only a quote\n> here", "")
    assert split_quoted("No quote at all.") == ("No quote at all.", "")


def test_the_councils_case_number_is_found_in_the_subject():
    assert council_case_number("Re: EHC/2026/0412 refusal to assess") == "EHC/2026/0412"
    assert council_case_number("re: ehc / 2026 / 17-B appeal") == "EHC/2026/17-B"
    assert council_case_number("About my son") == "" and council_case_number("EHC-261001-ABCDE") == ""


def test_dates_read_as_words():
    today = dt.date(2026, 11, 20)
    assert [days_from(today, today + dt.timedelta(days=n)) for n in (0, 1, 5, -1, -7)] == [
        "today", "in 1 day", "in 5 days", "1 day ago", "7 days ago"]
    assert iso_day("2026-11-16") == "Mon 16 Nov 2026" and iso_day("not a date") == "not a date"
