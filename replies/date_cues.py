"""The words around a date that tie it to the council's decision letter (or the mediation
certificate), or to something else: calls, meetings, reports, deadlines, other people's letters.

CUES maps (point of view, document) to (pattern, label) pairs; replies.date_labels weighs them.
Every pattern has bounded repetition.
"""

from __future__ import annotations

import re

CLAUSE_END = re.compile(r"(?<!\b[a-z])\.(?=\s)|[!?;]|\n[ \t>]*\n")
PARAGRAPH_END = re.compile(r"\n[ \t>]*\n")
# A new clause inside a sentence: what came before it does not govern a date after it.
SOFT_END = re.compile(r"[,\s](?:but|and|whereas|while|although|though|however|which|because|so|then)\b", re.I)


def _alt(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


# Who and what. Words with a '{1}' or '{2}' mean the writer (first person) and the reader (second person);
# in our own emails the council is the writer, so the roles swap.
_FIRST = r"(?:i|we|i've|we've|i'd|we'd|i\s{1,3}have|we\s{1,3}have|i\s{1,3}had|we\s{1,3}had|myself)"
_SECOND = r"(?:you|you've|you\s{1,3}have|you\s{1,3}had|your\s{1,3}(?:team|office|officer|colleague|caseworker))"
_ADVERB = r"(?:\s{1,3}(?:also|then|first|finally|already|only|just|again|eventually|even|actually|both))?"
_COUNCIL = (r"(?:the\s{1,3})?(?:council|la|lea|local\s{1,3}authority|authority|sen\w{0,2}\s{1,3}team|ehc\w?"
            r"\s{1,3}team|assessment\s{1,3}team|send\s{1,3}service|caseworker|case\s{1,3}officer)")
_PARTY = _alt(r"(?:mediation\s{1,3})?advis[eo]r", "mediator", r"mediation\s{1,3}service", "prime\\s{1,3}resolution",
              "solicitors?", "lawyers?", "barrister", "advocate", "school", r"head\s{0,3}teacher", "senco",
              "teachers?", "college", "nursery", "tribunal", "judge", r"send?iass?", "iass", "ipsea", "sossen",
              "gp", "doctor", "consultant", "paediatrician", "camhs", "nhs", "icb", "therapist", "ep", "salt",
              "ot", r"(?:educational\s{1,3})?psychologist", r"social\s{1,3}worker", r"health\s{1,3}visitor",
              "mp", "ombudsman", "lgsco", "ofsted", "advice\\s{1,3}line", "charity")
_WRITE = r"(?:wrote|written|sent|issued|decided|refused|finali[sz]ed|posted|confirmed\s{1,3}in\s{1,3}writing)"
_CONTACT = (r"(?:phoned|called|rang|spoke|spoken|visited|met|emailed|e-mailed|asked|requested|applied|submitted|"
            r"replied|responded|chased|complained|attended|went|told|contacted|commented|messaged|texted|"
            r"handed|returned|signed|gave|made)")
_PAPER = r"(?:letters?|emails?|e-mails?|requests?|calls?|complaints?|replies|reply|responses?|applications?|messages?)"

# labels: +1 tied to the wanted document, -1 tied to something else, 0 a linking word ("dated", "arrived")
# whose meaning comes from the nearest document word. Strong cues ("I phoned", "until") decide on their own.
LINK = re.compile(r"\b(?:dated|issued|sent|received|receive|got|arrived|came|posted|delivered|written|printed|"
                   r"finali[sz]ed|landed|opened|turned\s{1,3}up|on\s{1,3}it\s{1,3}is)\b", re.I)
_STRONG_NEG_ANY = (r"deadlines?|due|supposed\s{1,3}to|should\s{1,3}have|must|ought|has\s{1,3}to|have\s{1,3}to|"
                   r"had\s{1,3}to|needs?\s{1,3}to|time\s{1,3}limit|gives?\s{1,3}(?:me|us)|takes?\s{1,3}(?:me|us)|"
                   r"leaves?\s{1,3}(?:me|us)|means|expir\w{0,3}|runs?\s{1,3}out|ran\s{1,3}out|no\s{1,3}later|"
                   r"within|would|will|going\s{1,3}to|next|expected|hoped|planned|listed|booked|scheduled")
STRONG_NEG = re.compile(rf"\b(?:{_STRONG_NEG_ANY})\b", re.I)
IMMEDIATE_NEG = re.compile(r"\b(?:by|until|till|til|before|after|from|around|about|approximately|since)"
                            r"(?:\s{1,3}(?:the|on|around))?\s{0,3}$", re.I)
_ACT_NEG_COMMON = (
    rf"\b{_PARTY}(?:'s|s')?(?:\s{{1,3}}\w+){{0,2}}\s{{1,3}}(?:{_WRITE}|{_CONTACT}|said|says|confirmed|ordered|"
    r"heard|held|listed|registered|replied|rang)\b",
    r"\b(?:born|met|meet|attended|visited|took\s{1,3}place|was\s{1,3}held|held)\b",
)
_NOUN_NEG_COMMON = (
    r"\bd\.?o\.?b\b", r"\bdate\s{1,3}of\s{1,3}birth\b", r"\bbirthdays?\b", r"\bmeetings?\b", r"\breviews?\b",
    r"\bhearings?\b", r"\bpanel\b", r"\bappointments?\b", r"\bvisits?\b", r"\bminutes\b", r"\breports?\b",
    r"\bdraft(?:\s{1,3}\w+){0,2}\s{1,3}(?:plan|ehcp|letter)\b", r"\bdrafts?\b", r"\badvices?\b",
    r"\backnowledg\w{0,6}(?:\s{1,3}letter)?\b", r"\bconsultations?\b", r"\bcomplaints?\b",
    r"\b(?:ep|salt|ot|psychology|psychologist'?s?|speech(?:\s{1,3}and\s{1,3}language)?|occupational\s{1,3}"
    r"therap\w{0,3}|medical|health|paediatric\w{0,3}|cognitive|sensory|therapy)\s{1,3}(?:assessment|report|"
    r"advice|visit|observation)s?\b",
    rf"\b{_PARTY}(?:'s|s')(?:\s{{1,3}}\w+){{0,2}}\b",
    rf"\b(?:letters?|emails?|notes?|reports?|docs?|documents?|advice)\s{{1,3}}from\s{{1,3}}(?:the\s{{1,3}}|my\s{{1,3}}"
    rf"|our\s{{1,3}}|his\s{{1,3}}|her\s{{1,3}}|their\s{{1,3}})?{_PARTY}\b",
    rf"\b{_PARTY}\s{{1,3}}(?:letter|email|decision|order|judgment|decision\s{{1,3}}notice)\b",
    r"\btribunal(?:'s)?\s{1,3}(?:\w+\s{1,3})?(?:decision|order|judgment)\b",
)
_DECISION_NOUNS = (
    r"\b(?:decision|refusal|outcome|notification)(?:\s{1,3}(?:letter|notice|email))?\b",
    r"\b(?:the\s{1,3})?letters?\b", r"\bnotice\b", r"\brefus\w{0,5}\b",
    r"\b(?:final|amended|finalised|finalized|new|issued)(?:\s{1,3}(?:amended|final))?\s{1,3}(?:ehc\s{0,3}p?|"
    r"education,?\s{1,3}health\s{1,3}and\s{1,3}care\s{1,3})?plan\b",
    r"\b(?:final|amended)\s{1,3}ehcp\b", r"\behcp\b", r"\behc\s{1,3}plan\b", r"\bplan\b",
    rf"\b{_COUNCIL}(?:'s|s')\s{{1,3}}(?:\w+\s{{1,3}}){{0,2}}(?:letter|decision|notice)\b",
    rf"\b(?:letter|decision|notice)\s{{1,3}}from\s{{1,3}}(?:you|{_COUNCIL})\b",
)
_CERT_NOUNS = (r"\b(?:mediation\s{1,3})?certificate\b", r"\bcert\b")


def _cues(perspective: str, wanted: str) -> tuple[tuple[re.Pattern[str], int], ...]:
    """(pattern, label) pairs for one point of view ('parent' or 'council') and one document ('D' or 'C')."""
    me, you = (_FIRST, _SECOND) if perspective == "parent" else (_SECOND, _FIRST)
    my, your = (r"(?:my|our)", r"your") if perspective == "parent" else (r"your", r"(?:my|our)")
    strong: list[tuple[str, int]] = [
        (rf"\b{me}{_ADVERB}\s{{1,3}}(?:{_WRITE}|{_CONTACT})\b", -1),  # the writer's own letters and calls
        (rf"\b{you}{_ADVERB}\s{{1,3}}{_CONTACT}\b", -1),  # the council's calls and meetings are no letter
        *((p, -1) for p in _ACT_NEG_COMMON),
    ]
    nouns: list[tuple[str, int]] = [*((p, -1) for p in _NOUN_NEG_COMMON)]
    if wanted == "D":
        strong += [(rf"\b{you}{_ADVERB}\s{{1,3}}{_WRITE}\b", 1),
                   (rf"\b{_COUNCIL}{_ADVERB}\s{{1,3}}(?:has\s{{1,3}}|have\s{{1,3}})?{_WRITE}\b", 1)]
        nouns += [*((p, 1) for p in _DECISION_NOUNS),
                  (rf"\b{your}\s{{1,3}}(?:\w+\s{{1,3}})?(?:letter|decision|refusal|notice)\b", 1),
                  (rf"\b{my}\s{{1,3}}(?:own\s{{1,3}})?{_PAPER}\b", -1),
                  (rf"\b{your}\s{{1,3}}(?:emails?|e-mails?|requests?|calls?|messages?)\b",
                   -1 if perspective == "council" else 0),
                  (r"\b(?:mediation\s{1,3})?certificate\b", -1), (r"\bmediation\b", -1)]
    else:
        nouns += [*((p, 1) for p in _CERT_NOUNS),
                  (r"\b(?:decision|refusal)(?:\s{1,3}letter)?\b", -1), (r"\bletters?\b", -1), (r"\bplan\b", -1),
                  (r"\bmediation(?!\s{1,3}certificate)\b", -1)]
    # Strong cues are checked first; nouns only through a link word or when no strong cue is nearer.
    # One alternation per label keeps the number of scans small; within one, longer phrases come first.
    groups: dict[int, list[str]] = {}
    for p, label in [(p, label * 2) for p, label in strong] + nouns:
        groups.setdefault(label, []).append(p)
    return tuple((re.compile("|".join(f"(?:{p})" for p in ps), re.I), label) for label, ps in groups.items())


CUES = {(p, w): _cues(p, w) for p in ("parent", "council") for w in ("D", "C")}
VETO_AFTER = re.compile(r"\W{0,3}(?:\w+\W{1,3}){0,3}?(?:acknowledg\w*|confirm\w*\s{1,3}receipt|enclos\w*\s{1,3}"
                         r"(?:the\s{1,3}|a\s{1,3})?draft|with\s{1,3}the\s{1,3}draft|invit\w*|asking\s{1,3}(?:for|me|us))",
                         re.I)

