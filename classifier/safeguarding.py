"""The independent safeguarding detector: explicit-risk phrase rules OR a recall-tuned model.

A child at risk must reach a person at once whatever the route, so this detector is tuned
for recall: the rules catch the explicit phrases, the model catches the paraphrases.
"""

from __future__ import annotations

import re

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

# Each rule: a name a caseworker understands, and a pattern over normalised (lower-case) text.
RISK_RULES: tuple[tuple[str, str], ...] = (
    ("suicidal talk",
     r"\b(suicid\w*|kill(ing)? (him|her|them|my)sel(f|ves)|end(ing)? (it all|(his|her|their|my) (own )?life)"
     r"|tak(e|ing) (his|her|their|my) (own )?life|want(s|ed|ing)? to (die|be dead)|(rather|better off) (be )?dead"
     r"|better off (if|without) (him|her|me|them|he|she|i)|(not|never) (to )?wake up|(doesn'?t|does not|don'?t) want to (live|be alive|be here)"
     r"|no (reason|point) (to|in) (live|living|being alive)|(has|have|had) (worked out|planned) how"
     r"|(hang|hanging|hanged) (him|her|them)sel(f|ves)|ligature|overdos\w*|took (a load|loads|a lot) of (my |her |his )?(tablets|pills))"),
    ("self-harm",
     r"\b(self[- ]?harm\w*|cutting (him|her|them|my)sel(f|ves)|(started|been|is|was|keeps?|begun) (cutting|burning)|(hurt|harm)(ing|s)? (him|her|them|my)sel(f|ves)"
     r"|cuts (on|to) (his|her|their|my) (arms?|legs?|wrists?|thighs?)|bang(s|ing)? (his|her|their) head|until (it|they|she|he) bleeds?"
     r"|(stash|packets?|hidden|hiding|hid|taped|wrapped)\b.{0,60}\b(tablets|pills|paracetamol|blades?|razors?)"
     r"|(tablets|pills|paracetamol|blades?|razors?)\b.{0,40}\b(hidden|hiding|taped|stashed|wrapped))"),
    ("abuse or neglect",
     r"\b(abused|sexual(ly)? (touch\w*|assault\w*|abus\w*)|molest\w*|groom(ed|ing)|exploit(ed|ation)|county lines"
     r"|touched (him|her|them) inappropriately|inappropriate(ly)? touch\w*|neglect(ed)? (at home|by)"
     r"|(hit|hits|hitting|punch\w*|kick(s|ed|ing)|beat(s|en|ing)?|slap(s|ped)|strangl\w*|chok(ed|ing)|grab(s|bed)|pinn?(ed|s)) (me|him|her|them|us|my \w+|his \w+|her \w+)"
     r"|bruis(es|ed|ing)|marks on (his|her|their) (arms?|legs?|neck|face|body)|locks? (him|her|them) in|locked (him|her|them) (in|up)"
     r"|(no|any|without|little|very little) food (in the house|until)|(concerns?|worried|worries) (about|of) neglect|signs of neglect"
     r"|(puts?|put|locks?|locked|shuts?|shut) (me|him|her|them) in (the|a|his|her|their) (cupboard|room|bedroom|cellar|shed)"
     r"|scratch\w* (at )?(his|her|their|my) (wrists?|arms?|legs?|skin)|(doesn'?t|does not|didn'?t) get (any )?food|(men|males|man) (in their|much older|twice her age|older)"
     r"|(men|males|man) (she|he)('s| has) met (online|on)|getting into (their|strangers'?) cars?)"),
    ("missing child",
     r"\b(missing (since|overnight|from (home|school|care|college|his|her|their|the))|(has|have|had) been missing|(went|gone|go|going|goes) missing"
     r"|reported (him|her|them)? ?missing|(ran|run|runs|running) away|(sleeping|staying) (rough|on the streets|at (different|other) (people'?s|peoples'?) (houses|places))"
     r"|(hasn'?t|has not|didn'?t|did not|not) (come|came|been) (back )?home"
     r"|police (were|was|are|have been|had to be) (called|out|looking|searching|informed)|absconded|whereabouts)"),
    ("cannot keep safe",
     r"((n'?t|\bnot|\bno longer|\bunable|\bstruggling)\b.{0,30}\bkeep (him|her|them|my \w+|the \w+|his \w+|her \w+|us|everyone|himself|herself|themselves)( \w+)? safe"
     r"|(his|her|their) safety (at home|is at risk)|concerns? (about|for) (his|her|their) safety|(unsafe|not safe) at home"
     r"|(no|any) sense of danger|a danger to (himself|herself|themselves|others|his|her)|afraid (he|she|they)('ll| will) (hurt|kill))"),
    ("danger signs",
     r"\b(police\b.{0,40}\b(found|brought|picked|returned|called|involved|searching|looking|out)|(found|brought back|picked up) by (the )?police"
     r"|(won'?t|will not|wouldn'?t|not) be (here|anywhere|around|alive) (any ?more|much longer)?|not being (here|alive|around)"
     r"|never been born|(make sure|sure) (i'?m|i am|he'?s|he is|she'?s|she is|they'?re) not alive|noose|tied (in|into) a loop"
     r"|(broke|broken|fractured) (his|her|their|my \w+'?s?) (arm|leg|wrist|nose|ribs?|jaw)|\brefuge\b"
     r"|(drinking|drunk|using drugs) (again|heavily|badly|every)|nothing (to eat|in the house)|(turning|turns|turned) up hungry"
     r"|(round|around|across|on) (the front of )?(his|her|their) (neck|throat)|edge of (the |a )?(roof|bridge|car park|cliff|platform|multi-storey)"
     r"|\b[1-5] ?(am|a\.m\.)\b|at [1-5] (this|in the) morning|(didn'?t|did not|hasn'?t|has not|never) (come|came) back"
     r"|picked up by (a|an unknown|a strange|someone'?s) car|cutting (the tops of )?(his|her|their|my) (arms|legs|wrists|thighs|skin)"
     r"|blades? (out of|from) (pencil )?sharpeners?|child protection|section 47|strategy (meeting|discussion)|\bmash\b"
     r"|(referral|referred) to (children'?s )?social care|crisis (team|line)|safeguarding (referral|concern))"),
    ("threat of violence",
     r"\b(threaten(ed|ing|s)? to (kill|stab|hurt|attack|harm|hit|burn)|stab(bed|bing)?\b|knife|knives|weapon"
     r"|(attacked|assaulted) (me|his|her|us|a teacher|staff|a pupil)|someone (gets|will get|is going to get) (killed|hurt))"),
)
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in RISK_RULES)


def rule_hits(text: str) -> list[str]:
    """Names of the risk rules that match normalised text."""
    return [name for name, pattern in _COMPILED if pattern.search(text)]


def build_safeguarding_pipeline(C: float = 16.0) -> Pipeline:
    """A class-balanced linear model over word and character n-grams."""
    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)),
    ])
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=3000)
    return Pipeline([("features", features), ("clf", model)])
