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
    ("suicidal talk", r"\b(suicid\w*|kill (him|her|them)sel(f|ves)|end (his|her|their|my) (own )?life|take (his|her|their|my) (own )?life"
                      r"|wants? to die|want(s|ed)? to be dead|wish(es|ed)? (he|she|they|i) (was|were) dead|better off without (him|her|me|them)"
                      r"|not (want|wanting) to (be alive|live|be here)|no reason to live|(hang|hanging|hanged) (him|her|them)sel(f|ves)"
                      r"|overdos\w*|took (an )?overdose|jump (off|in front))"),
    ("self-harm", r"\b(self[- ]?harm\w*|cutting (him|her|them)sel(f|ves)|(been|is|was|started|keeps?) cutting|cuts on (his|her|their) (arms?|legs?|wrists?)"
                  r"|burn(ing|ed|t)? (him|her|them)sel(f|ves)|hurt(ing|s)? (him|her|them)sel(f|ves)|harm(ing|s)? (him|her|them)sel(f|ves)"
                  r"|bang(s|ing)? (his|her|their) head|hit(s|ting)? (him|her|them)sel(f|ves)|scratch(es|ing)? (him|her|them)sel(f|ves) (until|till) (it|they) bleed"
                  r"|ligature|hidden (tablets|pills|blades|razors?)|(tablets|pills|blades|razors?) hidden)"),
    ("abuse or neglect", r"\b(abus(e|ed|ing|ive)|neglect(ed|ing)?|assault(ed)?|molest\w*|groom(ed|ing)|sexual(ly)? (touch\w*|assault\w*|abuse\w*)"
                         r"|touched (him|her|them) inappropriately|inappropriate(ly)? touch\w*|(hit|hits|hitting|punched|kicked|beat|beats|beaten|slapped|strangled|choked) (him|her|them|my (son|daughter|child))"
                         r"|(bruises|bruising|marks) on (his|her|their)|left alone (for|all) (days?|night)|no food in the house|locked (him|her|them) in)"),
    ("missing child", r"\b((has|have|had|went|gone|is|was) missing|(ran|run|runs|running) away|(hasn'?t|has not|didn'?t|did not|not) (come|came|been) home"
                      r"|police (were|was|have been) (called|informed)|reported (him|her|them) missing|absconded|whereabouts)"),
    ("cannot keep safe", r"\b((can'?t|cannot|can not|unable to|not able to) keep (him|her|them|my (son|daughter|child|kids?)|us|everyone|the family) safe"
                         r"|(can'?t|cannot) cope (with|any) .{0,20}(danger|violen)|(he|she|they)('s| is| are) a danger to"
                         r"|afraid (he|she|they)('ll| will) (hurt|kill))"),
    ("threat of violence", r"\b(threaten(ed|ing|s)? to (kill|stab|hurt|attack|harm|hit|burn)|(stab|kill) (his|her|their|my) (brother|sister|mum|mother|dad|father|teacher)"
                           r"|(with|holding|brought|carrying|had) a (knife|blade|weapon)|knife to|strangl\w*|(attacked|assaulted) (me|his|her|us|a teacher|staff))"),
)
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in RISK_RULES)


def rule_hits(text: str) -> list[str]:
    """Names of the risk rules that match normalised text."""
    return [name for name, pattern in _COMPILED if pattern.search(text)]


def build_safeguarding_pipeline(C: float = 4.0) -> Pipeline:
    """A class-balanced linear model over word and character n-grams."""
    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True, min_df=1)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)),
    ])
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=3000)
    return Pipeline([("features", features), ("clf", model)])
