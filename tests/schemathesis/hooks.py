"""What the contract check does not count as a failure, and why. Narrow on purpose: a refusal is
set aside only when the answer is the documented problem for a fact no schema can carry, and the
run reports how many it set aside ("dropped by `filter_failure`").

- A made-up `cursor`. A cursor is a sealed token only the hub makes (issue 8): any other text
  is `400 invalid-cursor` by design, and the document cannot list the hub's future cursors
  (an empty `cursor=` is the first page and is checked like any other value). The
  generated-input run (shared/tests/api_generated.rs) holds forged cursors to that 400, and
  shared/tests/api_contract.rs pages with real ones.
- An `Idempotency-Key` sent again with another body: generated keys repeat, and a key belongs
  to the first request that used it (422 `idempotency-key-reused`, as documented).
- A disconnected connection that is still readable after its `DELETE` (status `disconnected`),
  as documented.
- A value that is well formed but not this partner's or this Lever account's: a submission kind,
  file role, custom field, event type, hire trigger or setting the partner's profile does not
  offer (or a candidates route for a profile that pushes none), a return URL under none of the
  partner's registered ones, an upload the connection never made or never filled, a Lever user,
  stage or posting the customer's account does not have, a Lever scope the profile never asks
  for. One document serves every partner and account; the profile and the account decide,
  and the 422 names the field and says which rule it broke. Anything else in the same 422 (a
  malformed value next to one of these) still fails the run.
- What no JSON Schema can say of a request: that a file's bytes are what its type says, that two
  files do not name the same upload, that an upload is not already another submission's, a
  format character beyond the Basic Multilingual Plane in a file name.
"""

import atexit
import collections
import json
import os
import re

import schemathesis
from hypothesis.internal import lambda_sources

# CPython 3.11 before 3.11.8 can raise "SystemError: AST constructor recursion depth mismatch"
# when `ast.parse` runs deep in a stack (python/cpython gh-106905). hypothesis parses source
# only to *name* a filter lambda in a strategy's repr, and schemathesis's coverage phase asks for
# that name deep in its recursion, so the run broke off on a description, not on a finding. A
# plain name instead; nothing generated or checked changes.
_describe_lambda = lambda_sources.lambda_description


def _lambda_description_or_plain(f):
    try:
        return _describe_lambda(f)
    except SystemError:
        return "lambda"


lambda_sources.lambda_description = _lambda_description_or_plain

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
        r"^not a field this partner declares",  # custom fields: the profile declares them
        r"is not an upload of this connection",  # an upload id the connection never made
        r"^nothing was uploaded yet",  # an upload whose bytes never came
        r"the upload was made for ",  # an upload's own type and size, fixed when it was made
        r" bytes; this partner sends at most ",  # the profile's file size limit
        r"^this partner's profile pushes no candidates$",
        r"^a referral needs its referrer",  # required or not: the profile says
        # File contents: the bytes must be what the declared type is (their signature); random
        # base64 is not a PDF, and no schema can say what a PDF's bytes are.
        r"^the bytes are ",
        r"^binary content declared as text/plain",
        r"^not UTF-8 text \(byte \d+\); send text as UTF-8",
        # A format character beyond the BMP (a tag character, U+E0001…) in a name: as for file
        # names below, the schema's pattern can list only the BMP's.
        r"a control or invisible character; send the name as it is written$",
        # A format character outside the Basic Multilingual Plane (U+E0001, …) in a file name:
        # the schema's pattern lists the BMP's; ECMA regular expressions without the `u` flag
        # cannot name the rest.
        r"is not a file name: it contains control or format characters",
        # One upload named by two files of a submission: JSON Schema cannot say that two items'
        # `upload_id`s differ (`uniqueItems` compares whole items).
        r"is named twice; an upload is one file$",
    )
]


# Why each set-aside failure was set aside, written where run.py reads it for its summary.
SET_ASIDE: collections.Counter = collections.Counter()


@atexit.register
def _write_set_aside() -> None:
    path = os.environ.get("HUB_SCHEMATHESIS_SET_ASIDE")
    if path:
        with open(path, "w") as f:
            json.dump(dict(SET_ASIDE), f, indent=1, sort_keys=True)


def _set_aside(reason: str) -> bool:
    SET_ASIDE[reason] += 1
    return False


def _problem(response) -> dict:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """True keeps the failure (it fails the run); False sets it aside as explained above."""
    code = getattr(failure, "code", None)
    if code == "ST301" and _problem(response).get("status") == "disconnected":
        # "Deleted resource still available": `DELETE /v1/connections/{id}` disconnects, and the
        # document says a disconnected connection stays readable (status `disconnected`, its
        # feed and history kept); any other resource still there after its DELETE fails the run.
        return _set_aside("a disconnected connection, readable as documented")
    if code == "ST302" and (case.path_parameters or {}).get("id") == "not-the-runs-own-key":
        # "Created resource not found" on a DELETE that `before_call` sent to a made-up id so as
        # not to revoke the run's own key: the 404 is the rewrite's, not the hub's.
        return _set_aside("the run's own API key, kept from the run's DELETE")
    if code != "ST202":  # otherwise only "Schema-valid request rejected" is ever set aside
        return True
    problem = _problem(response)
    kind = problem.get("type")
    if response.status_code == 400 and kind == "/problems/invalid-cursor" and (case.query or {}).get("cursor"):
        return _set_aside("a made-up cursor (400 invalid-cursor)")
    if response.status_code == 422 and kind == "/problems/lever-rejected" and str(problem.get("detail", "")).startswith("Invalid posting"):
        # Lever itself refused: a posting the customer's account does not have.
        return _set_aside("Lever: a posting the account does not have")
    if response.status_code == 409 and kind == "/problems/upload-used":
        # A generated upload id came back in a second submission: an upload serves one.
        return _set_aside("an upload another submission had taken")
    if response.status_code == 422 and kind == "/problems/idempotency-key-reused":
        # The same generated key came back with another body: the key was used, as documented.
        return _set_aside("an Idempotency-Key the run had used for another body")
    if response.status_code == 422 and kind == "/problems/lever-rejected" and "missing scope" in str(problem.get("detail", "")):
        # Lever refused a read the partner's profile never asked consent for (HR Cloud: stages).
        return _set_aside("Lever: a scope the partner's profile does not ask for")
    if response.status_code == 422 and kind in ("/problems/invalid-request", "/problems/return-url-not-allowed"):
        errors = [e for e in problem.get("errors") or [] if isinstance(e, dict)]
        # A refusal of the whole request for what the profile is has no field errors.
        errors = errors or [{"message": problem.get("detail", "")}]
        rules = [next((p.pattern for p in NOT_THIS_PARTNER_OR_ACCOUNT if p.search(str(e.get("message", "")))), None) for e in errors]
        if errors and all(rules):
            return _set_aside("partner or account: " + " + ".join(sorted(set(rules))))
    return True


ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[!-~]+$")
RETURN_URL_OPERATIONS = {("POST", "/v1/connections"), ("POST", "/v1/connections/{id}/reconnect")}


def _positive(case) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and str(meta.generation.mode.value) == "positive"


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    """Two facts of this hub that no schema carries, put into the requests:

    - A schema-valid `return_url` (positive cases only) is the one hub-local registered for the
      partner, so creating a connection gets past that rule to everything behind it; negative
      cases keep their broken one.
    - The run's own API key is never revoked by the run: a DELETE of it (its id comes back in
      `GET /v1/api-keys`, and schemathesis reuses ids it has seen) goes to an id that does not
      exist instead, so every later request still authenticates. Keys the run issues itself
      are revoked as usual."""
    return_url = os.environ.get("HUB_RETURN_URL")
    if (case.method.upper(), case.path) in RETURN_URL_OPERATIONS and return_url and _positive(case):
        given = case.body.get("return_url") if isinstance(case.body, dict) else None
        # Only a well-formed URI is swapped: a case whose broken part is the return URL keeps it.
        if isinstance(given, str) and ABSOLUTE_URI.match(given):
            case.body["return_url"] = return_url
    protected = os.environ.get("HUB_PROTECTED_KEY_ID")
    if case.method.upper() == "DELETE" and case.path == "/v1/api-keys/{id}" and protected:
        if (case.path_parameters or {}).get("id") == protected:
            case.path_parameters["id"] = "not-the-runs-own-key"
