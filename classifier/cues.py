"""Route cues: many ways of saying one thing, folded into one token the model can weigh.

Writers name the routes in countless ways ("SENDIST", "go to the judge", "tribual", "someone
neutral", "that certificate thing"). With a few hundred examples a model cannot learn every
spelling, so each cue group below adds one token such as `cue_appeal` to the text whenever any
of its phrasings appears. The groups follow ../shared/LABELLING.md's signals and precedence:
the model still decides, the cues only make the evidence easier to see.
"""

from __future__ import annotations

from .patterns import PatternSet

CUES: dict[str, str] = {
    "appeal": r"\b(appeal\w*|ap+e[ae]?l\w*|tribu\w*|tribunal|sendist|send ?35a?|hmcts|first[- ]tier|judge|hearing"
              r"|lodg(e|ed|ing)|(take|taking|took) (it|this|them|you|the council) (to|further)|legal (route|challenge|action)"
              r"|court|bundle|case (number|reference) from the tribunal)\b",
    "certificate": r"\b(cert\w*|certi?fi?cate|certifcate|certficate|that certificate|mediation cert)\b",
    "mediation": r"\b(mediat\w*|medation|meditation|mediaton|prime resolution|mediation adviser|mediator)\b",
    "independent": r"\b(disagreement resolution|dr service|independent (person|facilitator|meeting|chair|service|mediator|helper)"
                   r"|someone (independent|neutral|impartial|outside)|(neutral|impartial) (person|party|third party|chair)"
                   r"|facilitat\w*|sit down (with|together)|round the table|get everyone (together|round))\b",
    "decision": r"\b(decision|decided|decide|refus\w*|turned (us|me|him|her|it) down|turned down|said no|not to assess"
                r"|(won'?t|will not|would not|wouldn'?t) (assess|issue|reassess)|declin\w*|panel|outcome letter|decision letter)\b",
    "final_plan": r"\b(final (plan|ehcp|ehc plan|version|amended plan)|amended (plan|ehcp)|issued (the|his|her|their) (plan|ehcp)"
                  r"|ceas\w*|stop(ping|ped)? (the|his|her|their|my) (plan|ehcp)|end(ing)? (the|his|her|their|my) (plan|ehcp)"
                  r"|section [bfi]\b|sections [bfi]\b)",
    "draft_review": r"\b(draft|proposed (amendments|changes)|annual review|review meeting|the review|reassess\w*|interim review"
                    r"|early review|emergency review)\b",
    "setting_provision": r"\b(school|college|nursery|senco|setting|academy|teacher|1:1|one[- ]to[- ]one|ta\b|provision)\b",
    "not_delivered": r"\b(not (being )?(delivered|provided|followed|happening|done|in place|put in place)|isn'?t (happening|being)"
                     r"|(hasn'?t|haven'?t|has not|have not) (been )?(put|provided|delivered|happened|started)"
                     r"|(no|none of the|none of his|none of her) (support|provision|therapy|hours)|not getting)\b",
    "new_request": r"\b(request (an|for an|for|a)? ?(ehc )?(needs )?assessment|apply(ing)? for an? (ehcp|ehc plan|assessment)"
                   r"|section 36|ask (you|the council) to assess|start(ing)? the (ehcp|assessment) process)\b",
    "admin": r"\b(change (of|the) (date|address|school|contact)|copy of|transport|taxi|personal budget|invoice|paperwork"
             r"|attached|attachment|form|reschedul\w*|rearrang\w*|appointment|meeting (date|time)|phone number|caseworker)\b",
    "automatic": r"\b(out of (the )?office|automatic reply|auto-?reply|undeliver\w*|delivery (has )?failed|mail delivery"
                 r"|unsubscribe|newsletter|webinar|do not reply|no-?reply)\b",
    "certificate_request": r"\b(request\w*|ask\w*( you)? for|apply for|need|get|obtain|send (me|us)|issue (me|us)|like|want)\b"
                           r"[^.?!]{0,50}\bcert\w*",
    "certificate_held": r"\b((have|has|'ve|got|received|been (given|issued|sent)|holding|hold|attach\w*|enclos\w*|now have)"
                        r"\b[^.?!]{0,30}\bcert\w*|cert\w* ((was|were|has been|had been) )?(issued|came|arrived|dated))",
    "appeal_intent": r"\b((will|going to|gonna|want to|wish to|intend to|plan to|decided to|'ll|have|'ve|are|am|'m|'re)"
                     r"( now| definitely| going to)? (appeal\w*|lodg\w*|register\w* (an|the|our) appeal|submit\w* (an|the|our) appeal)"
                     r"|(our|my|the|an) appeal (has been|was|is) (lodged|registered|submitted|listed))\b",
    "complaint": r"\b(complain\w*|complaints procedure|stage (1|one|2|two)|ombudsman|lgsco)\b",
}
_CUES = PatternSet(CUES.items())


def cue_tokens(text: str) -> list[str]:
    """`cue_<name>` for each cue group found in normalised (lower-case) text."""
    return [f"cue_{name}" for name in _CUES.names(text)]
