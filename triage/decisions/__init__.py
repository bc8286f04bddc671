"""The caseworker's and supervisor's decisions on queue items, in one place.

The web app (triage.web.items, triage.web.safeguarding) and the CLI (`queue ...`) call these functions;
which decision is allowed in which status is the one table in `triage.domain.transitions` (a domain rule,
read by the store inside each decision's transaction). Each decision is one store transaction that checks the item's version and writes its event.

    claim / release / save_draft / change_route / reject / mark_handled_elsewhere   caseworker.py
    approve (one transaction, never parses the message; the send job sends)         approving.py
    record_safeguarding_action / clear_safeguarding_flag                            safeguarding.py

The values passed to the store's one-transaction approval are in `triage.domain.decision_records`.
"""

from ..domain.decision_records import FLAG_CLEARED, SafeguardingAction
from ..domain.transitions import TRANSITIONS, Decision, allowed, statuses_allowing
from .approving import approve
from .caseworker import change_route, claim, mark_handled_elsewhere, reject, release, save_draft
from .safeguarding import clear_safeguarding_flag, record_safeguarding_action

__all__ = ["approve", "change_route", "claim", "release", "save_draft", "reject", "mark_handled_elsewhere",
           "record_safeguarding_action", "clear_safeguarding_flag", "SafeguardingAction", "FLAG_CLEARED",
           "TRANSITIONS", "Decision", "allowed", "statuses_allowing"]
