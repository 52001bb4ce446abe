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

# Text as an attacker sends it (issue 20): NUL and other control characters, lone surrogates
# (the JSON encoder writes them as `\ud800` escapes, which no server can decode into text), very
# long strings, and Unicode that is valid but unusual (BOM, zero-width and bidi controls, line
# and paragraph separators, noncharacters, the last code point, combining marks, emoji). The
# server must answer each with a coded error or a normal answer, on SQLite and on PostgreSQL
# (whose text cannot hold NUL), never with an internal error.
EDGE_STRINGS = [
    "\x00", "a\x00b", "\x00" * 3, "\x01\x02\x1f", "\x1b[31mred", "\x7f", "\x85", "\x9f",
    "tab\there", "line\nbreak", "cr\rlf\r\n", "\ud800", "\udfff", "a\ud83db", "\ude00",
    "\ufeff", "\u200b\u200d", "\u202e\u2066", "\u2028\u2029", "\ufffe\uffff", "\U0010ffff",
    "\U0001f600\U0001f1e8\U0001f1f3", "e\u0301\u0301\u0301", "\ufb03", "\u0130\u00df",
    "\u91cd\u5e86\u5e02", "", " ", "'; DROP TABLE units; --", "%s%n%x", "${jndi:ldap://x}",
    "\\", "\"", "../../etc/passwd",
]
LONG_STRINGS = st.builds(
    lambda unit, count: unit * count,
    st.sampled_from(["x", "\u91cd", "\U0001f600", "\x00", "a\nb"]),
    st.sampled_from([999, 1000, 1001, 4001, 20001]),
)
TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(EDGE_STRINGS),
    st.builds(lambda a, b, c: a + b + c, st.text(max_size=8), st.sampled_from(EDGE_STRINGS),
              st.text(max_size=8)),
    LONG_STRINGS,
)
schemathesis.graphql.scalar("String", TEXT.map(nodes.String))

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
        st.sampled_from(EDGE_STRINGS),
    ).map(nodes.String),
)


# `Upload` is a file part of a multipart request (GraphQL multipart request spec); over JSON a
# client can only send what stands in for one: the index the multipart map would have put there,
# or anything else. The server must refuse each with a coded error (no file is attached here).
schemathesis.graphql.scalar(
    "Upload",
    st.one_of(
        st.integers(min_value=-1, max_value=3).map(str),
        st.text(max_size=12),
        st.sampled_from(EDGE_STRINGS),
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
