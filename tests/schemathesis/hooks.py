"""What the contract check does not count as a failure, and why. Narrow on purpose: a refusal is
set aside only when the answer is the documented problem for a fact no schema can carry, and the
run reports how many it set aside ("dropped by `filter_failure`").

- A made-up `cursor`. A cursor is a sealed token only the hub makes (issue 8): any other text
  is `400 invalid-cursor` by design, and the document cannot list the hub's future cursors. The
  run uses real ones where the links hand them over; the generated-input run
  (shared/tests/api_generated.rs) holds forged cursors to that 400.
- A value that is well formed but not this partner's or this Lever account's: a submission kind,
  file role, event type or setting the partner's profile does not offer, a return URL under none
  of the partner's registered ones, a Lever user, stage or posting the customer's account does
  not have. One document serves every partner and account; the profile and the account decide,
  and the 422 names the field and says which rule it broke. Anything else in the same 422 (a
  malformed value next to one of these) still fails the run.
"""

import json
import os
import re

import schemathesis

# The hub's own sentences for partner- and account-dependent refusals (shared/src/flows and
# shared/src/api); each field error of the 422 must be one of them.
NOT_THIS_PARTNER_OR_ACCOUNT = [
    re.compile(p)
    for p in (
        r"submissions are not accepted; this partner sends ",
        r"files are not accepted from this partner",
        r"is not an event of this partner's profile$",
        r"does not let customers change this$",
        r"^is not under any return URL registered for the partner$",
        r"is not a user in this Lever account$",
        r"is not a stage in this Lever account$",
        r"is not a posting in this Lever account",
        r"^unknown placeholder \{",  # the profile's custom fields name the rest
        r" is not offered by ",  # hire triggers: the profile's
        r"^a referral needs its referrer",  # required or not: the profile says
    )
]


def _problem(response) -> dict:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """True keeps the failure (it fails the run); False sets it aside as explained above."""
    if getattr(failure, "code", None) != "ST202":  # "Schema-valid request rejected" only
        return True
    problem = _problem(response)
    kind = problem.get("type")
    if response.status_code == 400 and kind == "/problems/invalid-cursor":
        return not (case.query or {}).get("cursor")
    if response.status_code == 422 and kind == "/problems/lever-rejected":
        # Lever itself refused: a posting the customer's account does not have.
        return not str(problem.get("detail", "")).startswith("Invalid posting")
    if response.status_code == 422 and kind in ("/problems/invalid-request", "/problems/return-url-not-allowed"):
        errors = problem.get("errors") or []
        dependent = errors and all(
            any(p.search(str(e.get("message", ""))) for p in NOT_THIS_PARTNER_OR_ACCOUNT) for e in errors if isinstance(e, dict)
        )
        return not dependent
    return True


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    """The run's own API key is never revoked by the run: a DELETE of it (its id comes back in
    `GET /v1/api-keys`, and schemathesis reuses ids it has seen) goes to an id that does not
    exist instead, so every later request still authenticates. Keys the run issues itself are
    revoked as usual."""
    protected = os.environ.get("HUB_PROTECTED_KEY_ID")
    if case.method.upper() == "DELETE" and case.path == "/v1/api-keys/{id}" and protected:
        if (case.path_parameters or {}).get("id") == protected:
            case.path_parameters["id"] = "not-the-runs-own-key"
