"""The caseworker's and supervisor's decisions on queue items, in one place.

The web app (triage.web.items, triage.web.safeguarding) and the CLI (`queue ...`) call these functions;
which decision is allowed in which status is the one table in `transitions`. Each decision is one
store transaction that checks the item's version and writes its event.

    claim / release / save_draft / change_route / reject / mark_handled_elsewhere   caseworker.py
    approve (one transaction, never parses the message; the send job sends)         approving.py
    record_safeguarding_action / clear_safeguarding_flag                            safeguarding.py

Nothing here imports triage.store at run time, so the store can use `transitions` and `records`.
"""

from .approving import approve
from .caseworker import change_route, claim, mark_handled_elsewhere, reject, release, save_draft
from .records import FLAG_CLEARED, SafeguardingAction
from .safeguarding import clear_safeguarding_flag, record_safeguarding_action
from .transitions import TRANSITIONS, Decision, allowed, statuses_allowing

__all__ = ["approve", "change_route", "claim", "release", "save_draft", "reject", "mark_handled_elsewhere",
           "record_safeguarding_action", "clear_safeguarding_flag", "SafeguardingAction", "FLAG_CLEARED",
           "TRANSITIONS", "Decision", "allowed", "statuses_allowing"]
