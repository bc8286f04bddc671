"""The independent safeguarding detector: explicit-risk phrase rules OR a recall-tuned model.

A child at risk must reach a person at once whatever the route, so this detector is tuned
for recall: the rules catch the explicit phrases, the model catches the paraphrases.
"""

from __future__ import annotations

import re

from .patterns import PatternSet, alternatives, group_end
from .text import normalise

# Each rule: a name a caseworker understands, and a pattern over normalised (lower-case) text.
# The patterns describe the general ways parents and young people say these things (verbs and their
# objects, any tense, missing apostrophes), not single phrases. Gaps are bounded (`.{0,40}`) and no
# quantifier is nested inside another unbounded one, so matching stays linear and fast.
# Shared pieces (all over normalised, lower-case text; apostrophes may be missing: "cant", "hes").
_OBJ = r"(?:him|her|them|me|us)"
_SELF = r"(?:him|her|them|my|your|our)sel(?:f|ves)"
_POSS = r"(?:his|her|their|my)"
_KIN = (r"(?:son|daughter|boy|girl|child|kids?|children|sister|brother|baby|little ones?|grandson|granddaughter"
        r"|mum|mother|dad|father|teacher|classmates?|friend|cousin)")
_WHO = rf"(?:{_OBJ}|{_POSS} (?:little |baby |younger |older |big )?{_KIN}|the (?:baby|kids|children|boy|girl|teacher))"
_BODY = r"(?:arms?|legs?|wrists?|thighs?|forearms?|tummy|stomach|belly|skin|chest|hips?|hands?|face|neck|back|body)"
_MEANS = (r"(?:tablets|pills|paracetamol|meds|medication|medicine|sleeping tablets|painkillers|antidepressants|sertraline"
          r"|fluoxetine|melatonin|ibuprofen|co-?codamol|codeine|insulin)")
# After "hit her", "hurt her": not when "her" is a possessive ("hit her head on the floor", "hurt her ankle").
_NOT_BODY = (r"(?! (?:own )?(?:head|ankle|knee|foot|feet|back|arm|leg|wrist|hand|head|finger|toe|shoulder|neck|face"
             r"|feelings|chances|progress|education|confidence)\b)")
_NEG = (r"(?:can'?t|cannot|can not|couldn'?t|could not|unable to|no longer|not able to|struggl\w* to"
        r"|(?:don'?t|do not|dont) (?:think|know (?:if|whether|how)) (?:i|we) (?:can|could)|not sure (?:i|we) (?:can|could))")

RISK_RULES: tuple[tuple[str, str], ...] = (
    ("suicidal talk",
     r"\b(?:suicid\w*|kill(?:s|ed|ing)? " + _SELF + r"|sectioned|overdos\w*|noose|ligature)"
     r"|(?:going to|gonna|gunna|want\w* to|wanna|try\w* to|tried to|will|\w+'ll|would|\w+'d) end (?:it|things|" + _POSS + r" (?:own )?life)\b"
     r"|end(?:ed|ing|s)? it all|\b(?:tak(?:e|en|ing)|took) " + _POSS + r" (?:own )?life"
     r"|\b(?:attempt\w*|tr(?:y|ied|ies|ying)) (?:to )?(?:suicide|hang|jump|overdose|die|kill)|attempt on " + _POSS + r" (?:own )?life"
     r"|\b(?:want|wish)\w* (?:to )?(?:die|be dead|not (?:be )?(?:here|alive|around))\b"
     r"|\bwish\w* (?:i|he|she|they)(?:'?d| had| was| were)? (?:never (?:been )?born|dead)"
     r"|\b(?:don'?t|do not|dont|doesn'?t|does not|didn'?t) want to (?:be here|be alive|live|exist|wake up)\b"
     r"|\bbetter off (?:dead|without (?:me|him|her|us)\b)|\b(?:rather|sooner) (?:be )?dead\b"
     r"|\b(?:better off|happier|easier) (?:\w+ ){0,3}if (?:i|he|she|they)(?:'d| had)? (?:never been born|wasn'?t|weren'?t|was not|were not|was dead|were dead|died|was gone|(?:was|were)n'?t (?:around|here|alive))"
     r"|\b(?:\w+'d|had|has|have|was) never (?:been )?born|\bnot being (?:here|alive|around)\b"
     r"|\bend(?:ing|ed|s)? (?:his|her|my|their) (?:own )?life|\b(?:has|have|had|\w+'s|\w+'ve) (?:worked|figured) out (?:how|when)\b"
     r"|\b(?:found|hidden|hiding|hid|stash\w*|lining)\b.{0,40}\b(?:packets?|boxes|box|strips?|bottles?|blister\w*|stash|load) of (?:\w+'?s? ){0,2}" + _MEANS +
     r"|\b" + _MEANS + r"\b.{0,40}\b(?:hidden|hiding|stashed|taped|wrapped|in the lining|under (?:his|her|their) (?:bed|mattress|pillow))"
     r"|\b(?:and|to|would|will|\w+'d) (?:not|never) wake up|\bnever wake up"
     r"|\b(?:won'?t|wont|will not|not going to|isn'?t going to|not gonna) be (?:here|around|alive|anywhere)"
     r"(?: (?:much |for )?(?:longer|long)\b| any ?more| to (?:see|go|worry|bother|need|care)\b|[.,!;]|$)"
     r"|\bgoodbye (?:notes?|letters?|messages?|videos?)|\b(?:suicide|farewell) (?:notes?|letters?)"
     r"|\blast time (?:they|we|you|i|he|she|anyone)(?: would| will|'?d|'?ll)?(?: ever)? (?:speak|spoke|talk|see|saw|hear)"
     r"|\bgiv(?:e|en|ing) away (?:all )?(?:of )?" + _POSS + r" (?:things|stuff|belongings|possessions|games|clothes|xbox)"
     r"|\bwon'?t need (?:them|it|this|those|anything) (?:any ?more|where)"
     r"|\b(?:jump\w*|throw\w* " + _SELF + r") (?:off|from|in front of) (?:a|the) (?:\w+ )?(?:bridge|roof|building|car park|cliff|train|bus|lorry|motorway|tower|flats|window)"
     r"|\b(?:step|walk|run|lie|lay|stood|stand\w*|sat|sit\w*|jump\w*) (?:out )?(?:in front of|on|onto) (?:a|the) (?:train|bus|lorry|railway|tracks|train tracks|motorway)"
     r"|\b(?:gone|went|go|going|climbed) up (?:there |on the roof )?to jump"
     r"|\b(?:edge|top|roof) of (?:the |a )?(?:top (?:level|floor|deck) of (?:the )?)?(?:multi[- ]?storey|car park|bridge|cliff|building|flats|block|platform)"
     r"|\b(?:found|standing|sitting|sat|stood|climbed)(?: \w+){0,3} on (?:the|a) (?:\w+ )?(?:roof|ledge|railway line|tracks|bridge|cliff edge)\b"
     r"|\b(?:research\w*|googl\w*|search\w*|look\w* up) (?:for )?(?:ways|methods|how to (?:do it|die|kill))"
     r"|\bhow (?:many|much) (?:\w+ ){0,2}(?:it )?(?:would|will|does|to) (?:it )?(?:take|kill)"
     r"|\bhow (?:she|he|i|they)(?:'d| would| will|'ll| could| might) (?:do it|kill|end it|die)"
     r"|\btook (?:a load|loads|lots|a lot|all|a handful|a bunch|a packet|packets|half)(?: of)? (?:\w+'?s? ){0,2}" + _MEANS +
     r"|\b(?:sav\w*|collect\w*|stockpil\w*|hoard\w*|stash\w*)(?: up)? (?:\w+'?s? ){0,3}" + _MEANS +
     r"|\bfound " + _OBJ + r"\b.{0,40}\bwith (?:a|the|an|an empty|half a|" + _POSS + r") (?:\w+ )?(?:bottle|packet|box|pills|tablets|rope|belt|cord|blade|razor)"
     r"|\bhang(?:ed|ing|s)? " + _SELF + r"|(?:tied|tie|tying|wrapped|wrap\w*|put\w*|pulled|tight\w*)\b.{0,30}\b(?:round|around) " + _POSS + r" (?:own )?(?:neck|throat)"
     r"|\b(?:found|hidden|hid|hiding|stash\w*|bought)\b.{0,30}\b(?:ropes?|nooses?)\b"
     r"|\b(?:tired|sick) of (?:being alive|living|life)\b|\b(?:no|see the|see no|see any|what'?s the) point (?:in |of |to )?(?:anything|living|life|being (?:alive|here)|going on|carrying on|it all)\b"
     r"|\b(?:fight\w*|struggl\w*|reason) to stay alive|\b(?:go to )?sleep (?:forever|for ever)\b|\btalk(?:ed|ing)? (?:him|her|them) down\b"
     r"|\bhow (?:many|much) (?:\w+ ){0,2}(?:would|will|to) (?:be enough|take|kill)"
     r"|\bwant\w* (?:it all|everything) to (?:stop|end)|\bit all to (?:stop|end)\b"
     r"|\b(?:want|wish)\w* to (?:be with|join|go to|see) (?:\w+ ){0,3}(?:who (?:died|passed)|in heaven)"
     r"|\bthoughts of (?:harming|hurting|killing|ending)"
     r"|\b(?:favour|better|happier|easier|fine)\b.{0,20}\bif (?:i|he|she|they) (?:just |simply )?(?:wasn'?t|weren'?t|was not|were not|wasnt|werent|didn'?t exist|was gone|were gone|disappeared|died)\b"
     r"|\b(?:research\w*|googl\w*|search\w*|look\w* up|ask\w*)\b.{0,20}\bhow (?:long|much|many|to|you|it|people)\b.{0,25}\b(?:drown|die|dying|hang|overdose|kill|suffocat\w*|bleed out)"
     r"|\b(?:left|wrote|written|writing|found) (?:a |some )?(?:notes?|letters?|messages?)\b.{0,60}\b(?:sorry for everything|goodbye|not (?:to )?be sad|miss me|love you all|forgive me)"
     r"|\b(?:problem|burden|trouble|bother|nuisance) (?:to|for|on) (?:anyone|anybody|you|everyone|everybody|us|the family)(?: (?:much longer|for (?:much )?longer|for long|any ?more))?\b"
     r"|\b(?:found|caught|stopped|pulled|spotted|saw)\b.{0,30}\b(?:on|off|at the edge of) (?:the|a) (?:\w+ )?(?:railway|bridge|tracks|roof|ledge|cliff)\b"
     r"|\b(?:his|her|my|their) (?:own )?funeral\b|\bdrown (?:him|her|them|my)sel\w*"
     r"|\b(?:swallow\w*|took|taken|downed|necked) (?:\w+ ){0,3}(?:strip|packet|box|bottle|tub|handful|load|lot)s? of"
     r"|\b(?:do|doing) something (?:stupid|silly) to (?:him|her|them|my)sel\w*"),
    ("self-harm",
     r"\bself[- ]?(?:harm|injur)\w*"
     r"|\b(?:cut\w*|burn\w*|hurt\w*|harm\w*|hit\w*|punch\w*|scratch\w*|bit\w*|starv\w*|slic\w*|stab\w*|strangl\w*|chok\w*|bruis\w*|mark\w*) " + _SELF +
     r"|\b(?:till|until|til|so (?:hard|much|tight|deep)(?: that)?) .{0,25}\b(?:bleed\w*|bled|raw|split|purple|concuss\w*)\b"
     r"|\b(?:cuts|scars|scratches|slashes|burns|lines|plasters|bandages|scabs|fresh marks)\b.{0,20}\b(?:on|all over|up|down|across|under|along|over) (?:his|her|their|my|the) (?:\w+ )?" + _BODY + r"\b"
     r"|\bhid\w* (?:the |her |his |their )?(?:cuts|scars|marks|wrists|arms)\b|\bsleeves (?:down|to hide)"
     r"|\b" + _BODY + r"(?: \w+){0,2} (?:were|was|are|is|kept|started)? ?bleeding"
     r"|\b(?:razor|sharpener) blades?|\bblades? (?:out of|from) (?:\w+ ){0,2}sharpeners?"
     r"|\b(?:cutting|cuttin|burning|scratching)\b (?:again|" + _SELF + r"|" + _POSS + r" " + _BODY + r")"
     r"|\b(?:started|been|is|was|keeps?|begun|began|back to|caught (?:him|her)) (?:\w+ )?(?:cutting|burning)\b(?! (?:out|back|down|up|off|through|the|a|an|his hours|her hours|candles|calories|money|bridges))"
     r"|\b(?:cut|cutting|cuttin|slic\w*|carv\w*|scor(?:ed|ing)|slash\w*|burnt|burned|burning|scratch\w*|stabb\w*)\b.{0,20}\b(?:into )?" + _POSS + r" (?:own )?(?:arms?|legs?|wrists?|thighs?|skin|stomach|tummy|forearms?|hands?|face|chest)\b"
     r"|\b(?:stub\w*|put\w*|press\w*|hold\w*|held) (?:\w+ ){0,2}(?:cigarettes?|lighters?|fags?)\b.{0,15}\bon " + _POSS +
     r"|\b(?:swallow\w*|burn\w*|burnt|drank|drink\w*|cut\w*|hurt\w*|hit\w*|bang\w*|scratch\w*|starv\w*|set fire|tied)\b.{0,40}\b(?:on purpose|deliberate(?:ly)?|intentional(?:ly)?)"
     r"|\b(?:on purpose|deliberately|intentionally) (?:\w+ ){0,2}(?:swallow\w*|burn\w*|burnt|drank|cut\w*|hurt\w*|hit\w*|bang\w*|tied|starv\w*)"
     r"|\b(?:drank|drink\w*|swallow\w*) (?:some |the |a )?(?:bleach|batteries|magnets|anti-?freeze|poison|screws|washing tablets)"
     r"|\bblood(?:y|stained|-stained)? (?:tissues|plasters|sleeves|sheets|towels|clothes)|\bblood on (?:his|her|their|the) (?:sheets|sleeves|clothes|towels?|pillow|duvet|jumper|shirt)"
     r"|\b(?:makes?|made|making) (?:him|her|them|my)sel(?:f|ves) (?:sick|vomit|throw up|bleed)"
     r"|\b(?:pull\w*|pick\w*|rip\w*|tear\w*|bit\w*) (?:at )?(?:his|her|their|my) (?:own )?(?:finger ?nails|nails|skin|scabs|lips|eyelashes)\b.{0,40}\b(?:bleed\w*|bled|raw)"
     r"|\b(?:did|done|does|doing) (?:it|this|them|that) to (?:him|her|them|my)sel(?:f|ves)|\b(?:covered in|full of) (?:\w+ )?(?:cuts|scars|burns|scratches)"
     r"|\bpull\w* (?:his|her|their|my) (?:own )?hair out|\bbang\w* (?:his|her|their) head"
     r"|\b(?:doing it|done it) again\b.{0,30}\b(?:arms?|legs?|wrists?|sleeves|plasters)|\b(?:arms?|legs?|wrists?|sleeves|plasters)\b.{0,40}\b(?:doing it|done it|been doing) again"),
    ("sexual abuse",
     r"\bsexual(?:ly)? (?:abus|assault|touch|act|thing|activit|harass)\w*|\brape[ds]?\b|\braping\b|\bmolest\w*|\bindecent\w*|\binappropriate(?:ly)? touch\w*"
     r"|\b(?:boyfriend|partner|step-?dad|uncle|dad|father|man|men|grand(?:ad|dad|father|pa)|brother|cousin|step-?brother|someone|he|they)\w*(?: \w+){0,2} touch(?:es|ed|ing)? (?:him|her|me|them)\b"
     r"|\btouch(?:es|ed|ing)? (?:him|her|me|them) (?:at night|inappropriately|down there|in (?:his|her|my|their) private|where)|\bprivate parts"
     r"|\b(?:takes?|took|taking|made (?:him|her|me|them) take) (?:his|her|their|my) clothes off"
     r"|\b(?:makes?|made|making) (?:him|her|me|them) (?:do (?:things|stuff)|touch|watch)"
     r"|\b(?:doing|does|did|do) (?:sexual (?:things|stuff)|things to (?:him|her|me|them))"
     r"|\b(?:not to|never to|mustn'?t|must not) tell (?:anyone|anybody|no ?one|me|you|mum|dad|his \w+|her \w+|your \w+|the \w+)"
     r"|\bkeep (?:it|this|them|things)(?: a)? secret|\bour (?:little )?secret"),
    ("physical or emotional abuse",
     r"\b(?:hit|hits|hitting|punch\w*|kick(?:s|ed|ing)?|beat(?:s|en|ing)?|slap\w*|strangl\w*|chok(?:ed|ing|es)|shak(?:es|ing)|throttl\w*|smack\w*|whip\w*|thump\w*|pinch\w*|batter\w*) " + _WHO + r"\b" + _NOT_BODY + r"(?! (?:out|off)\b)" +
     r"|\b(?:beat|beaten|battered) (?:him|her|them|me) (?:up|with)|\bbeat(?:en)? up\b"
     r"|\b(?:kept|locked|shut|confined|held|left|put) (?:\w+ ){0,2}in (?:a|the|an) (?:bathroom|toilets?|cupboard|store ?room|cellar|shed|cage|dark room|empty room|isolation room|isolation booth|booth)\b"
     r"|\b(?:gets?|got|getting|been|being) (?:hit|beaten|punched|kicked|slapped|smacked|strangled|choked|battered|attacked|assaulted|hurt|beaten up)\b"
     r"|\b(?:gets?|got|getting|is|was|been|being|turns?|can be) (?:very |really |a bit |too )?(?:rough|heavy[- ]handed|violent|physical) (?:with|towards|to) (?:him|her|them|me|us|the (?:kids|children))"
     r"|\b(?:threw|throw\w*|push\w*|shov\w*|slam\w*|pinn?\w*|drag\w*|pull\w*|grab\w*|yank\w*) " + _WHO + r"\b.{0,25}\b(?:against (?:the|a) (?:wall|door|floor|table|radiator|car)|down (?:the )?stairs|across the (?:floor|room)|by (?:his|her|the|their|my) (?:hair|arms?|neck|throat|ears?|legs?|collar|hood))"
     r"|\b(?:bruis\w*|marks|burns|welts|black eye|injur\w*|cuts)\b.{0,40}\b(?:won'?t|wont|doesn'?t|can'?t|didn'?t|does not|will not|refuses to|no one can|nobody can)(?: \w+)? (?:say|explain|tell|talk)"
     r"|\b(?:comes?|came|coming|turns? up|turned up|arriv\w*|sent) (?:in|home|back|to school|into school) (?:with|covered in) (?:\w+ ){0,2}(?:marks|bruis\w*|burns|a black eye|black eyes|injur\w*|welts|scratches|a split lip|bite marks)"
     r"|\b(?:finger|hand|belt|grip|bite|slap)[- ]?(?:shaped |mark(?:ed|s)? |prints? )?(?:bruis\w*|marks)|\bcigarette burns?"
     r"|\b(?:bruis\w*|marks|burns|injur\w*)\b.{0,60}\b(?:consistent with|non-accidental)|\bnon-accidental|\bunexplained (?:bruis\w*|injur\w*|marks|burns)|\brefuge\b"
     r"|\b(?:bruis\w*|marks) (?:on|to|round|around|all over) (?:both of )?(?:his|her|their|my|\w+'s) (?:neck|throat|face|back|bottom|wrists?|upper arms?|ribs|body)"
     r"|\b(?:calls?|called|calling) (?:him|her|them|me) (?:worthless|stupid|useless|a waste|disgusting|fat|ugly|a mistake|names)"
     r"|\b(?:tells?|told|telling|says|saying) (?:him|her|them|me) (?:that )?(?:nobody|no one)? ?(?:wants|loves|cares about) (?:him|her|them|me)"
     r"|\b(?:tells?|told|telling) (?:him|her|them|me) (?:that )?(?:he'?s|she'?s|i'?m|they'?re|he is|she is|i am) (?:worthless|stupid|useless|a waste|unwanted|a mistake)"
     r"|\b(?:scream\w*|shout\w*|yell\w*) in (?:his|her|their|my) face|\b(?:swor(?:e|n)|swearing|spat|spit\w*) at (?:him|her|them|me)"
     r"|\b(?:shout\w*|scream\w*|yell\w*|sworn|swore) at (?:\w+ ){0,3}(?:all day|every day|constantly|all the time|every night)"
     r"|\b(?:lock\w*|shut\w*|put\w*|kept|keeps?) (?:him|her|them|me|my \w+) (?:\w+ ){0,2}in (?:a|the|his|her|their|my) (?:own )?(?:room|bedroom|cupboard|cellar|shed|bathroom|garage|car)"
     r"|\blocked in (?:a|the|his|her|their) (?:\w+ )?(?:room|cupboard|cellar|shed|bathroom|garage)|\blocks? (?:him|her|them) (?:in|up)\b"
     r"|\bmade to (?:sleep on the floor|go without|stand outside|stay in (?:his|her|their) room)|\brestrain\w* (?:face[- ]down|prone)"
     r"|\b(?:hands?|fingers|arms?) (?:round|around) (?:his|her|their|my) (?:neck|throat)|\b(?:hand|finger|belt|slap|bite)[- ]?(?:prints?|marks?)\b"
     r"|\b(?:been|is|was|keeps?|kept|started) touching (?:him|her|me|them)\b"
     r"|\bmade to (?:stand|stay|sleep|sit|kneel|go without)\b.{0,40}\b(?:cold|garden|outside|punishment|hours?|floor|dark)"
     r"|\bburn(?:s|t|ed|ing)? " + _WHO + r"\b(?! out)"
     r"|\b(?:held|holds|pushed|forced|put) (?:it|his \w+|her \w+|him|her) (?:on|onto|against|under) (?:the |a )?(?:cooker|hob|radiator|iron|fire|oven|kettle|heater|hot)"
     r"|\bdomestic (?:violence|abuse)|\babus(?:ed|ive|er|ing)\b|\bphysical abuse|\bemotional abuse"
     r"|\b(?:boyfriend|partner|step-?dad|step-?mum|uncle|dad|father|mum|mother|man|he|she|they|someone|staff)(?: \w+)? (?:hurts|hurt|hurting) (?:him|her|them|me)\b" + _NOT_BODY +
     r"|\b(?:been|is|was|are|were|keeps?|kept|started|\w+'s) (?:hurting|harming|hitting|abusing) (?:him|her|them|me)\b"),
    ("neglect",
     r"\bneglect\w*"
     r"|\b(?:nobody|no one|no-one|never|doesn'?t|does not|don'?t|didn'?t|isn'?t|aren'?t|not|forgets? to|forgot to) (?:\w+ ){0,2}(?<!drip )(?<!spoon )(?:feeds?|fed|feeding)\b"
     r"|\b(?:no|never any|not any|not enough|hardly any|little) food\b.{0,25}\b(?:house|home|fridge|cupboards?|flat|at (?:his|her|their) \w+)"
     r"|\bnothing (?:for (?:him|her|them) )?(?:to eat|in the (?:house|fridge|cupboards?))"
     r"|\b(?:hungry|starving|starved)\b.{0,40}\b(?:every (?:day|morning|monday|sunday|weekend|time)|at (?:school|breakfast club)|not (?:been )?fed|steal\w*|bins)"
     r"|\b(?:comes?|came|coming) back (?:from (?:his|her|their) \w+ )?(?:starving|hungry|filthy|unwashed)|\balways (?:hungry|starving)"
     r"|\beats? (?:out of|from) (?:the )?bins|\bsteal\w* food|\bscaveng\w*"
     r"|\b(?:left|leaves?|leaving)\b.{0,40}\b(?:all night|overnight|for (?:days|hours|the (?:night|weekend))|all day|alone at night"
     r"|every (?:weekend|night|evening)|while (?:she|he|they|mum|dad|his|her|their)\b.{0,20}\b(?:out|drunk|high|asleep|away))"
     r"|\b(?:left|leaves?|leaving) (?:\w+ ){0,2}(?:alone|on (?:his|her|their) own|by (?:him|her|them)sel\w*|home alone) (?:for|all|at|while|overnight|until|till)"
     r"|\blocked out (?:of the (?:house|flat) )?(?:until|till|after|at night|overnight)"
     r"|\b(?:wander\w*|roam\w*)\b.{0,30}\b(?:at night|midnight|in (?:his|her) (?:pyjamas|pjs|nappy)|at (?:1[0-2]|[1-5])(?: ?pm| ?am| at night))"
     r"|\bsame (?:dirty |filthy |unwashed |smelly )?(?:clothes|uniform)\b|\bdirty (?:clothes|uniform)|\bhead lice|\bbare mattress|\bdog mess"
     r"|\bno (?:beds?|heating|electric\w*|gas|hot water|nappies)\b|\b(?:house|flat|home) is (?:filthy|disgusting|squalid|a tip)|\bsqualor|\bfilthy\b|\brott(?:ing|en) teeth|\bteeth are rotting"
     r"|\b(?:medication|meds|insulin|inhaler|tablets|epipen)\b.{0,20}\b(?:isn'?t|is not|aren'?t|not|never|wasn'?t|weren'?t)(?: being)? (?:given|taken|collected)"
     r"|\b(?:nobody|no one|no-one|never) (?:\w+ ){0,3}(?:(?:gives?|giving) (?:him|her|them)\b|cleans?\b|washes\b|changes\b|baths\b|bathes\b|looks? after|checks? on|gets (?:him|her|them) up|takes (?:him|her|them)\b(?! (?:seriously|on)))"
     r"|\b(?:hasn'?t|has not|never|not) (?:seen|been to) (?:a|the) (?:dentist|doctor|gp)\b.{0,10}\b(?:in|for) (?:years|ages)"
     r"|\b(?:mum|dad|mother|father|parents?|carer|step-?dad|step-?mum|partner)(?:'s)? (?:is |are |was |were )?(?:always |never |constantly |often )?(?:drunk|sober|high\b(?! up)|off (?:her|his|their) face|passed out|on drugs)"
     r"|\b(?:isn'?t|not|aren'?t|is not|never)(?: being)? (?:looked after|cared for|fed|washed|supervised)\b"
     r"|\braising (?:him|her|them)sel\w*|\bbringing (?:him|her|them)sel\w* up|\bfend(?:ing|s)? for (?:him|her|them)sel\w*"
     r"|\bno(?:body| one|-one) (?:comes?|came|goes|went) (?:looking|to (?:her|him|them))"
     r"|\bleft in (?:a |the |his |her )?(?:wet|soiled|dirty) (?:pad|nappy|clothes|bed)|\b(?:fridge|cupboards?) (?:is |are )?(?:always )?(?:empty|bare)\b"
     r"|\b(?:hasn'?t|has not|haven'?t|not) eaten\b.{0,30}\b(?:days|weeks)\b|\bflea bites|\b(?:soaked|soaking|covered|stinks?|smells?) (?:in|of) (?:urine|wee|faeces|poo)"
     r"|\b(?:no |without (?:a )?)(?:coat|jacket|shoes|socks)\b.{0,20}\b(?:snow|cold|winter|rain|freezing|every day)"
     r"|\b(?:is|\w+'s|are|been|started) (?:using|drinking) again\b|\bback on (?:the )?(?:drink|drugs|gear)|\b(?:he'?s|she'?s|is) the one (?:looking after|caring for|feeding)"
     r"|\b(?:nobody|no one|never) (?:\w+ ){0,3}(?:takes?|taken|took) (?:him|her|them) to (?:\w+ ){0,4}(?:appointments?|hospital|doctor|gp|dentist)"
     r"|\b(?:empty (?:house|flat)|home alone|on (?:his|her|their) own)\b.{0,40}\b(?:till|until) (?:\d+|ten|nine|eleven|midnight|late)|\blet\w* (?:him|her|them)sel\w* in\b"
     r"|\b(?:nappy|pad|bedding|sheets)\b.{0,15}\b(?:hadn'?t|hasn'?t|not|never|wasn'?t|isn'?t) (?:been )?(?:changed|washed|cleaned)"),
    ("missing child",
     r"\bmissing (?:since|overnight|for (?:\w+ )?(?:hours|days|nights?)|from (?:home|school|care|college|the (?:children'?s )?home|(?:his|her|their) (?:placement|home|school|unit|residential)))"
     r"|\breported (?:\w+ )?missing|\bmissing (?:child|person|children|persons?)\b"
     r"|\b(?:he|she|son|daughter|child|boy|girl|kid|young person)\b[^.]{0,20}\b(?:went|gone|go|going|goes) missing"
     r"|\b(?:hasn'?t|has not|hasnt|didn'?t|didnt|did not|haven'?t|hadn'?t|never|not) (?:been |come |came |got |gone |returned )?(?:back )?home\b(?! (?:school|educat|tuition|visit))"
     r"|\b(?:he|she|he'?s|she'?s|they) (?:still )?(?:hasn'?t|has not|hasnt|didn'?t|didnt|did not|never|had not|hadn'?t) (?:come|came|got|been) back"
     r"|\b(?:went out|left)\b.{0,40}\b(?:hasn'?t|has not|hasnt|didn'?t|didnt|did not|never|not) (?:come|came|been|got) (?:back|home)"
     r"|\b(?:don'?t|do not|dont|no one|nobody|didn'?t|did not) knows? where (?:he|she|they|he'?s|she'?s|my \w+) (?:is|was|goes|went|'?s)"
     r"|\b(?:abscond\w*|absconsion|awol)\b|\b(?:he|she|they|son|daughter|child|him|her|kids?)\b[^.]{0,20}\b(?:ran|run|runs|running) away\b(?! with)"
     r"|\b(?:ran (?:off|away|out)|run (?:off|away|out)|runs (?:off|away|out)|running (?:off|away|out)|bolt\w*|escap\w*|slip\w* (?:off|away|out)|wander\w* (?:off|away)"
     r"|walk\w* (?:out|off)|climb\w* (?:out|over)|got out|gets out|getting out|disappear\w*|took off|takes off)\b"
     r".{0,80}\b(?:found|picked up|police|999|road|dual carriageway|motorway|traffic|cars?|river|canal|hours|all night|overnight|nights?|[1-5] ?am|midnight|missing|searching|looking for|no one noticed|nobody noticed|miles)\b"
     r"|\b(?:running|run|ran|runs|dart\w*|bolt\w*) (?:\w+ ){0,2}(?:into|onto|towards|across|out into|in front of) (?:the )?(?:\w+ )?(?:road|traffic|cars|carriageway|motorway|railway)"
     r"|\b(?:got|gets|getting|escap\w*|ran|runs|running|run|bolt\w*|climb\w*|slip\w*|sneak\w*|snuck) (?:out of|out under|out over|out through|out|off|away from|from) (?:the )?(?:school|school grounds|school gates?|school site|school fence|fence|gates?|playground|grounds|site|class ?room|class|setting|nursery|college|unit|building)\b"
     r"|\bleft (?:the )?(?:school|school grounds|school site|site|building|class ?room|setting) (?:\w+ ){0,3}(?:on (?:his|her|their) own|alone|unnoticed|without (?:anyone|anybody|staff|an adult))"
     r"|\bwithout (?:anyone|anybody|staff|any adult|a member of staff) (?:noticing|knowing|seeing|realising|realizing)"
     r"|\b(?:found|picked up|brought (?:him|her|them) (?:back|home)|returned) (?:\w+ ){0,3}by (?:the )?police|\bpolice (?:\w+ ){0,3}(?:found|brought|picked|returned|searching|looking for|out looking)"
     r"|\b(?:was|were|been) found (?:wandering|walking|on (?:the|a) (?:road|motorway|dual|railway|bridge|street|hard shoulder))"
     r"|\b(?:staying|stays|stayed|stopping) out (?:all night|overnight|till|until)|\bsofa[- ]surf\w*"
     r"|\b(?:sleeping|staying|stayed|slept|living) (?:rough|on the streets|in (?:a|the) (?:park|car|tent|stairwell)|at (?:different|other|random|strangers'?|various) (?:people'?s |peoples'? |friends'? |mates'? )?(?:houses|places|flats))"
     r"|\b(?:not|haven'?t|hasn'?t|nobody has|no one has|no-one has|nobody'?s) (?:seen|heard from) (?:him|her|them|my \w+)\b.{0,15}\b(?:since|for (?:\w+ )?(?:days|nights|hours|weeks))"
     r"|\b(?:haven'?t|havent|have not|not|hasn'?t|nobody has|no one has) (?:heard from|seen|been able to (?:reach|contact|get hold of)) (?:him|her|them)\b.{0,40}\b(?:it'?s now|now \d|all night|last night|overnight|\d ?(?:am|pm)|midnight)"
     r"|\b(?:not|hasn'?t|haven'?t|never) (?:been |come |gone |got )?back (?:to|at) (?:the )?(?:\w+'?s? )?(?:home|house|placement|unit|flat|residential)\b.{0,20}\bsince"
     r"|\b(?:won'?t|doesn'?t|will not|refuses to|wouldn'?t) (?:tell|say) (?:us |me |anyone )?where (?:he|she|they)(?:'s| has| have|'ve)? (?:been|goes|going|gone|was)"
     r"|\bfound (?:him|her|them)\b.{0,60}\b(?:miles|[1-5] ?am|at night|midnight)\b|\bout (?:at|till|until) all hours"
     r"|\bbeen gone (?:since|for|all)|\bbed (?:hasn'?t|has not|wasn'?t|hadn'?t) been slept in"
     r"|\blost (?:him|her|them)\b.{0,40}\b(?:found|hours|station|police)|\b(?:couldn'?t|could not|can'?t|cannot|didn'?t|did not) find (?:him|her|them)\b"
     r"|\b(?:he|she) (?:never|didn'?t|did not) (?:arrive|arrived|turn up|turned up|get there|got there|make it)\b"
     r"|\bleft for (?:school|college|work|the bus)\b.{0,40}\b(?:never|didn'?t|did not) (?:arrive|arrived|turn up|turned up|get there|got there|make it)\b"),
    ("exploitation or grooming",
     r"\bcounty lines|\bcuckoo\w*|\btrap ?house|\bexploit\w*|\bgroom(?:ed|ing|er)\b|\bcse\b|\bcce\b"
     r"|\b(?:burner|second|secret|extra|hidden) phones?|\bphones? (?:he|she) hides"
     r"|\bdealing (?:drugs|weed|for)|\brunning (?:errands|jobs) for"
     r"|\b(?:carry|carrying|carried|hold|holding|holds|sell\w*|deliver\w*|moving|stash\w*) (?:\w+ ){0,2}(?:drugs|weed|packages|parcels|stuff|gear|bags?)\b"
     r"|\b(?:drugs|weed|cannabis|cocaine|crack|heroin)\b.{0,40}\b(?:cash|arrested|stopped)|\b(?:arrested|stopped)\b.{0,40}\b(?:drugs|weed|cannabis)"
     r"|\b(?:older|old) (?:lads|boys|men|man|guys?|kids|people|teenagers|girls|youths|males)\b.{0,50}\b(?:money|cash|phone|gifts?|trainers|clothes|lifts?|weed|drugs|alcohol|vodka|cigarettes|vapes?|paying|pay|buy\w*|gave|giving|give|cars?|flats?|parties|party|takes?|took|taken)\b"
     r"|\b(?:found|staying|stays|stayed|sleeping|spend\w* (?:time|nights)|hanging around|hangs around)\b.{0,30}\bolder (?:men|man|lads|boys|guys|males)\b"
     r"|\b(?:boyfriend|man|men|guy|lad|bloke)\b.{0,30}\b(?:who is|who'?s|aged|of) (?:1[89]|[2-5]\d)\b|\bin (?:their|his) (?:twenties|thirties|forties|20s|30s|40s)|\btwice (?:his|her) age|\bmuch older (?:man|men|boys?|lads?|guys?)"
     r"|\b(?:met|meet\w*|talking to|messag\w*|speaking to|chatting to|chats? to|chatting with|talks? to) (?:with )?(?:someone|somebody|people|a stranger|strangers|a man|men|a guy|guys|older \w+|an adult|adults|a boy|boys|a girl|girls|lads|a lad)\b.{0,30}\b(?:online|on (?:snapchat|instagram|tiktok|fortnite|discord|roblox|whatsapp|xbox|the internet|games?|an app))"
     r"|\b(?:someone|somebody|a man|men|a stranger|strangers|an adult|adults|a guy|a person|a boy|a lad)\b.{0,20}\b(?:on|from) (?:snapchat|instagram|tiktok|fortnite|discord|roblox|whatsapp|xbox|the internet|online|facebook|telegram|kik|omegle|an app|a game)"
     r"|\bnudes\b|\bnaked (?:pictures|photos|pics|images|selfies)|\b(?:explicit|indecent|sexual|intimate) (?:pictures|photos|pics|images|messages|videos)|\bsext\w*|\bblackmail\w*|\bsextort\w*"
     r"|\b(?:asking|asked|ask|pressur\w*) (?:him|her|them) (?:for|to send) (?:pictures|photos|pics|images)"
     r"|\bdelete (?:them|the messages|the chats?|it all|everything)\b"
     r"|\b(?:owes?|owed|in debt to) (?:someone|somebody|some (?:lads|boys|men|people)|people|a (?:gang|dealer|lad|man))|\bwork (?:it|the debt) off"
     r"|\b(?:taken|going|travel\w*|found|stopped|arrested|picked up|sent|carr\w*)\b.{0,30}\b(?:other|another|different) (?:towns?|cit(?:y|ies)|count(?:y|ies))"
     r"|\b(?:getting|gets|got|get|going off|goes off|went off) (?:into|in) (?:\w+ ){0,2}cars? (?:with|driven|belonging)"
     r"|\bpicked up (?:\w+ ){0,4}by (?:a|an|some) (?:car|van|man|men|older|stranger|unknown)|\b(?:cars?|vans?) (?:\w+ ){0,3}(?:none of us|we don'?t|nobody|no one) (?:know|recognise)"
     r"|\b(?:sex|sexual)\b.{0,40}\b(?:money|cash|cigarettes|drugs|alcohol|gifts|older)"
     r"|\b(?:gives?|gave|giving|buys?|bought|buying) (?:him|her|them) (?:\w+ ){0,3}(?:lifts|drugs|weed|vapes?|alcohol|vodka|cigarettes)"
     r"|\b(?:guy|man|men|lads?|stranger|someone|somebody)\b.{0,40}\b(?:gives?|gave|giving|buys?|bought|buying|paying|pays|paid) (?:him|her|them) (?:\w+ ){0,2}(?:money|cash|lifts?|gifts?|presents|phones?|trainers|clothes)"
     r"|\b(?:pay\w*|paid) (?:him|her|them) to (?:keep|hold|carry|deliver|move|look after|hide|store)"
     r"|\b(?:comes?|came|coming) (?:back|home) with (?:\w+ ){0,3}(?:cash|money|new (?:trainers|clothes|phones?)|expensive|designer|gifts|drugs|weed)"
     r"|\bgang\b|\b(?:drug|crack) (?:house|den|dealers?|runs?)|\b(?:do|doing|did|make|making) (?:drug )?runs\b"
     r"|\bor (?:they'?ll|they will|they would|they'?d) (?:come for|hurt|kill|get|find)"
     r"|\b(?:cars?|vans?|money|cash|phones?|gifts?|presents)\b.{0,40}\b(?:older|adult|grown) (?:lads|boys|men|man|guys?|males)"
     r"|\b(?:adult|grown) (?:men|males)\b|\b(?:gifts?|presents|money|cash)\b.{0,20}\bfrom (?:a|an|some|this|older) (?:man|men|guy|lad|stranger|adult|older)"
     r"|\b(?:new|second|extra) phone\b.{0,30}\b(?:cash|money)|\b(?:cash|money)\b.{0,30}\b(?:new phone|can'?t explain|won'?t explain)"),
    ("violence or threats",
     r"\bthreat\w* to (?:kill|stab|hurt|attack|harm|hit|burn|shoot|bomb|smash|beat|jump|rape|kidnap|take)"
     r"|\bthreaten\w* (?:him|her|them|me|us|my \w+)\b.{0,30}\b(?:knife|kill|stab|hurt|burn|shoot|beat|gun|weapon|dead|hammer)"
     r"|\b(?:being|been|was|were|getting|got) threatened (?:by|online|at school|in the|on)"
     r"|\b(?:going to|gonna|gunna|will|\w+'ll|\w+'d|would|wants? to|threatened to|threatening to|said (?:he|she|they)(?:'d| would| will|'ll)?) ?"
     r"(?:kill|stab|shoot|hurt|burn|smash|batter|attack|strangle|murder|jump|beat up|knife|shank|rape|slash|kidnap) "
     r"(?:him|her|them|us|me|you|everyone|somebody|someone|anyone|" + _POSS + r" (?:little |baby |younger |older )?" + _KIN + r"|the (?:baby|boy|girl|teacher|kids|children|house|school|place))\b"
     r"|\b(?:he'?s|she'?s|you'?re|you are|he is|she is) (?:a )?dead (?:man |meat )?(?:if|when)\b"
     r"|\bknows? where (?:he|she|they|you|we|i) (?:lives?|live|go(?:es)? to school)"
     r"|\b(?:smash|kick|punch|bash|cave|knock|batter)\w* (?:his|her|your|my|their) (?:face|head|teeth) in"
     r"|\b(?:bring\w*|brought|carr(?:y|ies|ying|ied)|took|takes?|taking|pull\w*|wav\w*|had|has|have|holding|held|keeps?|kept|hid\w*|found|with|grab\w*|pick\w* up|went for|came at|threaten\w*)\b.{0,20}"
     r"\b(?:a|an|the|his|her|my|their|kitchen) (?:kitchen )?(?:knife|knives|blade|machete|gun|weapon|hammer|screwdriver|baseball bat|axe|taser)\b(?![- ]edge| and fork)"
     r"|\bstab\w* (?:him|her|them|me|someone|somebody|a |the (?:boy|girl|teacher))|\b(?:was|been|got|get) stabbed|\bstab wounds?"
     r"|\bshoot (?:up|him|her|them|me|us|you|everyone|the school)"
     r"|\b(?:broke|broken|fractured|cracked|split|bust\w*) (?:my|your|\w+'s|(?:his|her|their) \w+'s) (?:\w+ )?(?:nose|arm|leg|wrist|ribs?|jaw|lip|tooth|teeth|skull|finger|eye socket)|\bsplit lip"
     r"|\bkicked (?:\w+ ){0,3}in the (?:head|face|stomach|ribs)|\b(?:needed|needing|required|went to) (?:hospital|a&e|stitches)"
     r"|\b(?:strangl\w*|chok(?:ed|ing|es)|throttl\w*) (?:his|her|their|my|him|her|them|me|a (?:classmate|pupil|child|boy|girl|teacher|member of staff|kid))\b(?! (?:food|dinner|lunch|drink))"
     r"|\b(?:attack\w*|assault\w*|went for|goes for|lash\w* out at) (?:\w+ )?(?:me|him|her|them|us|staff|a (?:teacher|pupil|member of staff|child|boy|girl)|his \w+|her \w+|my \w+|other (?:children|kids|pupils)|teachers?)\b"
     r"|\b(?:throw\w*|threw|hurl\w*|lob\w*)\b.{0,30}\bat (?:us|me|him|her|them|staff|his \w+|her \w+|my \w+)\b"
     r"|\bset fire|\bset (?:\w+ ){0,3}on fire|\bburn (?:\w+ ){0,2}(?:house|flat|school|home|place) down|\barson|\bfire ?setting"
     r"|\b(?:take|snatch|abduct|kidnap)\w* (?:him|her|them)\b.{0,30}\b(?:nobody|no one|never see|away from)|\b(?:nobody|no one) (?:would|will|\w+'ll) (?:ever )?find (?:him|her|them)|\babduct\w*|\bkidnap\w*"
     r"|\b(?:hitting|punching|kicking|biting|attacking) (?:me|us|his \w+|her \w+|my \w+)\b"),
    ("cannot keep safe",
     r"\b" + _NEG + r"\b.{0,30}\b(?:keep (?:him|her|them|us|my \w+|the \w+|his \w+|her \w+|everyone|" + _SELF + r")(?: \w+)? safe"
     r"|protect (?:him|her|them|us|my \w+|his \w+|her \w+|the \w+)|(?:physically )?(?:hold|restrain|supervise|watch|stop) (?:him|her|them)\b)"
     r"|\b(?:i|we|i'?m|we'?re|i am|we are)\b.{0,15}" + _NEG + r" (?:physically )?(?:manage|handle|control|contain|cope with) (?:him|her|them|(?:his|her|their) behaviour)\b"
     r"|\bhow (?:much )?longer (?:i|we) can (?:keep|cope|manage|hold)"
     r"|\b(?:frightened|scared|afraid|terrified|worried) (?:of )?what (?:i|he|she|they)(?:'ll| will| might| could| would|'d) do"
     r"|\b(?:don'?t|do not|dont|can'?t) trust myself"
     r"|\b(?:scared|afraid|frightened|terrified|worried|fear)\w*\b.{0,40}\b(?:hurt|harm|hit|kill|shake)\w* (?:him|her|them|myself|someone|somebody|the (?:baby|kids|children)|(?:his|her) (?:sister|brother)|one of (?:us|them))\b"
     r"|\b(?:scared|afraid|frightened|terrified|worried|fear)\w*\b.{0,40}\b(?:will|\w+'ll|is going to|going to|might|could) get (?:seriously )?(?:hurt|killed|injured)"
     r"|\b(?:something|someone|somebody) (?:(?:terrible|awful|bad|serious) )?(?:is going to|will|\w+'ll|might|could) (?:happen|get (?:seriously )?(?:hurt|killed))"
     r"|\b(?:lock\w*|hid\w*|remov\w*|take|took|taken|put|hide) (?:\w+ ){0,3}(?:knife|knives|blades|razors|medicines?|medication|tablets|pills|belts?|cords?|ligatures|laces|scissors|sharps)\b.{0,20}\b(?:away|out|up|safe|locked)\b"
     r"|\bclimb\w* (?:out of|out|through) (?:the |a |an |his |her |their )?(?:\w+ )?windows?"
     r"|\b(?:do|doing) something (?:i'?ll |i will |i'?d |i would |i might |i )?(?:regret|stupid|terrible|i can'?t take back)"
     r"|\b(?:medicines?|medication|tablets|pills|knives|blades|razors|belts|cords|scissors|sharps)\b.{0,20}\b(?:locked|lock ?box|a safe\b)"
     r"|\b(?:locks?|alarms?|bolts?) on (?:every|all the|the) (?:doors?|windows?)|\bremoved? the means\b"
     r"|\b(?:check\w*|watch\w*|sleep\w*|sit\w*)\b.{0,30}\b(?:every (?:hour|half hour|\d+ minutes)|all night|through the night|outside (?:his|her|their) (?:room|door))"
     r"|\b(?:can'?t|cannot|frightened to|scared to|afraid to|daren'?t|dare not|not safe to) leave (?:him|her|them)\b"
     r"|\bbarricad\w*|\bsafety plan|\b(?:take|put|place)\w* (?:him|her|them) (?:in|into) care"
     r"|\b(?:not|isn'?t|aren'?t|never) safe (?:with me|at home|with (?:him|her|us|them)|around (?:him|her|me))|\bunsafe at home"
     r"|\b(?:nearly|almost) (?:been )?(?:hit|run over|knocked down|killed)|\b(?:lose|losing) (?:him|her|them) (?:under|to) (?:a|the) (?:car|bus|lorry|train|road)|\brun over\b"
     r"|\bin front of (?:a |the )?(?:cars?|traffic|vans?|lorr(?:y|ies)|bus(?:es)?|trains?)|\bhad to swerve"),
    ("child protection or police involved",
     r"\bchild protection (?:plan|conference|register|investigation|enquir\w*|case|concerns?|medical)|\bsection 47\b|\bs47\b|\bstrategy (?:meeting|discussion)"
     r"|\bmash\b|\blado\b|\breferr\w*\b.{0,40}\bfront door|\bpolice (?:attended|were called|was called|came|arrived|arrested|are involved|were involved|have been (?:called|informed))"
     r"|\b(?:home treatment|crisis) team|\bcrisis line|\b(?:rang|called|had to (?:ring|call|phone)|phoned|dialled) (?:the )?(?:999|police)\b"
     r"|\bpolice\b.{0,40}\b(?:are|were|have been|got) involved"
     r"|\bsafeguarding (?:investigation|enquir\w*|inquir\w*|referral|strategy|case|team (?:are|were|is|have|got) involved)"),
)

# --- Compiling the rules for speed -------------------------------------------------------------
# Every match starts at the start of a word (so "'ll" is written "\w+'ll"), and the alternatives of each rule are regrouped by
# their first letter (the same language, tested equal on the corpus), so that a word start is tried
# only against the few alternatives that could begin there.

def _word_led(pattern: str) -> tuple[list[str], list[str]]:
    """The pattern as alternatives: those that start with a plain letter, and the others."""
    if pattern.startswith(r"\b"):
        pattern = pattern[2:]
    if pattern.startswith("(?:"):
        end = group_end(pattern, 0)
        rest = pattern[end + 1:]
        if rest[:1] not in ("?", "*", "+", "{"):
            led, others = [], []
            for alternative in alternatives(pattern[3:end]):
                more_led, more_others = _word_led(alternative + rest)
                led += more_led
                others += more_others
            return led, others
    if pattern[:1].isalnum() and pattern[1:2] not in ("?", "*", "+", "{"):
        return [pattern], []
    return [], [pattern]


def _dispatched(pattern: str) -> str:
    """The same pattern, arranged so each word start is tried only against branches that begin with its letter.

    sre skips an alternative that begins with a literal character that is not the next one, without
    entering it; grouping the alternatives by first letter makes a failed position cost a few
    character comparisons rather than one attempt per alternative.
    """
    by_letter: dict[str, list[str]] = {}
    others = []
    for branch in alternatives(pattern):
        led, rest = _word_led(branch)
        others += rest
        for alternative in led:
            by_letter.setdefault(alternative[0], []).append(alternative[1:])
    groups = [f"{letter}(?:{'|'.join(rests)})" for letter, rests in sorted(by_letter.items())]
    return r"\b(?=\w)(?:" + "|".join(groups + others) + ")"


_COMPILED = tuple((name, re.compile(_dispatched(pattern))) for name, pattern in RISK_RULES)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_SENTENCE_END = re.compile(r"[.!?\n]+")
EVIDENCE_CHARS = 300


def _matchable(text: str) -> str:
    """Normalised text with typographic apostrophes made plain (the patterns use ')."""
    return text.translate(_APOSTROPHES)


_RULES = PatternSet(RISK_RULES, exact=dict(_COMPILED), combined=False)


def rule_hits(text: str) -> list[str]:
    """Names of the risk rules that match normalised text (one RE2 pass; `re` only to confirm a hit)."""
    return _RULES.names(_matchable(text))


def _sentences(text: str) -> list[str]:
    """The original text cut on . ! ? and newlines, stripped, empty pieces dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _trim(sentence: str, at: int = 0) -> str:
    """One line of at most EVIDENCE_CHARS characters; a longer sentence is cut around position `at`."""
    sentence = " ".join(sentence.split())
    if len(sentence) <= EVIDENCE_CHARS:
        return sentence
    start = min(max(0, at - 100), len(sentence) - (EVIDENCE_CHARS - 2))
    window = sentence[start: start + EVIDENCE_CHARS - 2]
    return ("\u2026" if start else "") + window + ("\u2026" if start + len(window) < len(sentence) else "")


def rule_evidence(text: str) -> list[tuple[str, str]]:
    """(rule name, the sentence of the original text that raised it) for each rule that fires.

    `text` is the writer's own text (any case); it is normalised here for matching, and the sentence
    is returned as written (cut on . ! ? and line breaks, at most 300 characters) so a caseworker
    reads the writer's words. The rules are the ones `rule_hits` gives for the same text.
    """
    whole = _matchable(normalise(text))
    fired = set(_RULES.names(whole))
    if not fired:
        return []
    pieces = [(s, _matchable(normalise(s))) for s in _sentences(text)]
    evidence = []
    for name, pattern in _COMPILED:
        found = pattern.search(whole) if name in fired else None
        if not found:
            continue
        shown = ""
        for original, flat in pieces:
            inside = pattern.search(flat)
            if inside:
                shown = _trim(original, inside.start())
                break
        if not shown:  # the match runs over a sentence end: show the sentence where it starts
            head = _SENTENCE_END.split(found.group(0))[0].strip()
            for original, flat in pieces:
                if head and head in flat:
                    shown = _trim(original, flat.index(head))
                    break
        evidence.append((name, shown or _trim(whole[found.start():])))
    return evidence
