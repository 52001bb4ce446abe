"""Schemathesis hooks for CI: strategies for the schema's custom scalars it does not know.

Loaded through SCHEMATHESIS_HOOKS=schemathesis_hooks with this folder on PYTHONPATH (.ci/run).
"""

import base64

from hypothesis import strategies as st

import schemathesis
from schemathesis.graphql import nodes

# `NaiveDate` is a calendar date, `YYYY-MM-DD` (CONTRACT: dates). Mostly plausible dates, so
# operations get past input checks; arbitrary strings too, so the parser is exercised.
schemathesis.graphql.scalar(
    "NaiveDate",
    st.one_of(
        st.dates().map(lambda d: d.isoformat()),
        st.text(max_size=12),
    ).map(nodes.String),
)

# IDs are opaque (base64 of `Type:number`); random strings never name a record, so most
# operations would stop at NOT_FOUND. Real-looking IDs of the demo's records (small numbers)
# reach the resolvers' logic; random strings and mismatched types still come up.
ID_TYPES = [
    "AuditEvent", "Bulletin", "Campaign", "EnforcementAction", "Feedback", "Finding",
    "Inspection", "Inspector", "Outlet", "Permit", "PermitLimit", "RandomDraw",
    "Registration", "SummaryReport", "Unit",
]
schemathesis.graphql.scalar(
    "ID",
    st.one_of(
        st.builds(
            lambda kind, n: base64.urlsafe_b64encode(f"{kind}:{n}".encode()).decode().rstrip("="),
            st.sampled_from(ID_TYPES),
            st.integers(min_value=-1, max_value=60),
        ),
        st.text(max_size=20),
    ).map(nodes.String),
)


@schemathesis.check
def no_server_error(ctx, response, case):
    """No 5xx and no GraphQL error that is INTERNAL_SERVER_ERROR or carries no code at all.

    Used instead of schemathesis' `not_a_server_error`, which counts every resolver error whose
    code is not one of Apollo's client codes as a server error; ours are typed by CONTRACT
    (FORBIDDEN, NOT_FOUND, CONFLICT, INVALID_TRANSITION, ... are the client's), so only an
    internal error or a missing code is a bug here.
    """
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:500]}")
    try:
        payload = response.json()
    except ValueError as err:
        raise AssertionError(f"the body is not JSON: {err}") from err
    for error in payload.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code is None or code == "INTERNAL_SERVER_ERROR":
            raise AssertionError(f"{code or 'an error without a code'}: {error.get('message')}")
