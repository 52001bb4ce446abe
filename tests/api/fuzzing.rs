//! Regressions found by schemathesis (CI runs it against the demo; see .ci/run): inputs that once
//! produced INTERNAL_SERVER_ERROR and must be the client's error instead.

use permit_core::auth::Role;
use serde_json::json;

use crate::db_test;
use crate::helpers::error_code;

db_test!(an_int_argument_beyond_32_bits_is_bad_user_input, |app| {
    let token = app.token(Role::Admin, None);
    for query in [
        "{ violationPatterns(groupBy: [DISTRICT], limit: 190166203524) { category } }",
        "mutation { withdrawPermit(id: \"x\", reason: \"r\", expectedVersion: 206496555743) { id } }",
    ] {
        let body = app.gql(Some(&token), query, json!({})).await;
        assert_eq!(
            error_code(&body),
            Some("BAD_USER_INPUT"),
            "{query}: {body:#}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("Int")),
            "{body:#}"
        );
    }
});
