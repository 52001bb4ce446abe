//! Text inputs at the edge (issue 20): NUL and other control characters, and overlong strings,
//! are `BAD_USER_INPUT` naming the field, for every mutation and on both databases, before any
//! database sees them; nothing with NUL is stored; text that PostgreSQL can hold (any Unicode
//! but NUL) never turns into an internal error.

use permit_core::auth::Role;
use serde_json::{Map, Value, json};

use crate::db_test;
use crate::fixtures::register_unit;
use crate::helpers::{TestApp, error_code, error_field};

const TYPE_REF: &str = "fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }";

/// The mutations with their arguments, and every input object and enum, by introspection.
struct Introspected {
    mutations: Vec<Value>,
    types: Map<String, Value>,
}

async fn introspect(app: &TestApp, token: &str) -> Introspected {
    let query = format!(
        "{{ __schema {{ mutationType {{ fields {{ name args {{ name type {{ ...T }} }} }} }} \
         types {{ name kind inputFields {{ name type {{ ...T }} }} enumValues {{ name }} }} }} }} \
         {TYPE_REF}"
    );
    let data = app.data(token, &query, json!({})).await;
    let mutations = data["__schema"]["mutationType"]["fields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let types = data["__schema"]["types"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t["name"].as_str()?.to_owned(), t.clone())))
        .collect();
    Introspected { mutations, types }
}

/// The GraphQL type as written in a variable definition (`[String!]!`).
fn type_text(ty: &Value) -> String {
    match ty["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_text(&ty["ofType"])),
        Some("LIST") => format!("[{}]", type_text(&ty["ofType"])),
        _ => ty["name"].as_str().unwrap_or("").to_owned(),
    }
}

impl Introspected {
    /// A value for `ty` with `text` in every string (and ID) it holds; other scalars plausible.
    /// Counts the string leaves in `strings`.
    fn value(&self, ty: &Value, text: &str, depth: usize, strings: &mut usize) -> Value {
        match ty["kind"].as_str() {
            Some("NON_NULL") => self.value(&ty["ofType"], text, depth, strings),
            Some("LIST") => json!([self.value(&ty["ofType"], text, depth, strings)]),
            Some("ENUM") => {
                let name = ty["name"].as_str().unwrap_or("");
                self.types[name]["enumValues"][0]["name"].clone()
            }
            Some("INPUT_OBJECT") if depth < 5 => {
                let name = ty["name"].as_str().unwrap_or("");
                let mut object = Map::new();
                for field in self.types[name]["inputFields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let value = self.value(&field["type"], text, depth + 1, strings);
                    object.insert(field["name"].as_str().unwrap_or("").to_owned(), value);
                }
                Value::Object(object)
            }
            Some("INPUT_OBJECT") => Value::Null,
            _ => match ty["name"].as_str() {
                Some("Int") => json!(1),
                Some("Float") => json!(1.5),
                Some("Boolean") => json!(true),
                Some("NaiveDate") => json!("2021-06-01"),
                Some("DateTime") => json!("2021-06-01T08:00:00+08:00"),
                _ => {
                    *strings += 1;
                    json!(text)
                }
            },
        }
    }

    /// Each mutation as (name, document selecting `__typename`, variables, string leaves).
    fn requests(&self, text: &str) -> Vec<(String, String, Value, usize)> {
        self.mutations
            .iter()
            .map(|mutation| {
                let name = mutation["name"].as_str().unwrap_or("").to_owned();
                let mut strings = 0;
                let (mut definitions, mut arguments, mut variables) =
                    (Vec::new(), Vec::new(), Map::new());
                for arg in mutation["args"].as_array().into_iter().flatten() {
                    let arg_name = arg["name"].as_str().unwrap_or("");
                    definitions.push(format!("${arg_name}: {}", type_text(&arg["type"])));
                    arguments.push(format!("{arg_name}: ${arg_name}"));
                    variables.insert(
                        arg_name.to_owned(),
                        self.value(&arg["type"], text, 0, &mut strings),
                    );
                }
                let definitions = if definitions.is_empty() {
                    String::new()
                } else {
                    format!("({})", definitions.join(", "))
                };
                let arguments = if arguments.is_empty() {
                    String::new()
                } else {
                    format!("({})", arguments.join(", "))
                };
                let document =
                    format!("mutation{definitions} {{ {name}{arguments} {{ __typename }} }}");
                (name, document, Value::Object(variables), strings)
            })
            .collect()
    }
}

/// Text columns holding a NUL, over every table (SQLite; PostgreSQL cannot hold one).
async fn stored_nuls(app: &TestApp) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.conn.get_database_backend();
    if backend != sea_orm::DatabaseBackend::Sqlite {
        return 0;
    }
    let columns = app
        .db
        .conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND (p.type LIKE '%CHAR%' OR p.type LIKE '%TEXT%' OR p.type = '')",
        ))
        .await
        .expect("columns");
    let mut found = 0;
    for row in columns {
        let table: String = row.try_get_by_index(0).expect("table");
        let column: String = row.try_get_by_index(1).expect("column");
        found += app
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM \"{table}\" WHERE instr(CAST(\"{column}\" AS BLOB), x'00') > 0"
            ))
            .await;
    }
    found
}

db_test!(
    nul_in_a_read_or_a_write_is_bad_user_input_naming_the_field,
    |app| {
        let admin = app.token(Role::Admin, None);
        let unit = register_unit(&app, "500103", 1, "文本检查单位", "KEY").await;
        let id = unit["id"].as_str().expect("id").to_owned();
        let read = app
            .gql(
                Some(&admin),
                "query($n: String) { units(filter: { nameContains: $n }) { totalCount } }",
                json!({ "n": "a\u{0}b" }),
            )
            .await;
        assert_eq!(error_code(&read), Some("BAD_USER_INPUT"), "{read:#}");
        assert_eq!(error_field(&read), Some("filter.nameContains"), "{read:#}");
        // The write would succeed on SQLite (the version is right): refused at the edge instead.
        let write = app
        .gql(
            Some(&admin),
            "mutation($id: ID!, $n: String) { updateUnit(id: $id, expectedVersion: 1, input: { name: $n }) { id name } }",
            json!({ "id": id, "n": "a\u{0}b" }),
        )
        .await;
        assert_eq!(error_code(&write), Some("BAD_USER_INPUT"), "{write:#}");
        assert_eq!(error_field(&write), Some("input.name"), "{write:#}");
        // Written inline, the same.
        let inline = app
        .gql(
            Some(&admin),
            &format!(
                r#"mutation {{ updateUnit(id: "{id}", expectedVersion: 1, input: {{ name: "a\u0000b" }}) {{ id }} }}"#
            ),
            json!({}),
        )
        .await;
        assert_eq!(error_code(&inline), Some("BAD_USER_INPUT"), "{inline:#}");
        assert_eq!(error_field(&inline), Some("input.name"), "{inline:#}");
        // Free text takes line breaks; a name does not.
        let name = app
        .gql(
            Some(&admin),
            "mutation($id: ID!, $n: String) { updateUnit(id: $id, expectedVersion: 1, input: { name: $n }) { id } }",
            json!({ "id": id, "n": "一行\n两行" }),
        )
        .await;
        assert_eq!(error_field(&name), Some("input.name"), "{name:#}");
        let renamed = app
        .data(
            &admin,
            "mutation($id: ID!, $n: String) { updateUnit(id: $id, expectedVersion: 1, input: { name: $n }) { name version } }",
            json!({ "id": id, "n": "文本检查单位（新）😀" }),
        )
        .await;
        assert_eq!(renamed["updateUnit"]["version"], 2, "{renamed:#}");
        assert_eq!(stored_nuls(&app).await, 0);
    }
);

db_test!(
    every_mutation_refuses_control_characters_and_overlong_text,
    |app| {
        let admin = app.token(Role::Admin, None);
        let schema = introspect(&app, &admin).await;
        assert!(
            schema.mutations.len() >= 20,
            "{} mutations",
            schema.mutations.len()
        );
        let probes = [
            "a\u{0}b".to_owned(),
            "\u{0}".to_owned(),
            "tab\u{1b}[31m".to_owned(),
            "\u{7f}".to_owned(),
            "x".repeat(20_001),
        ];
        for probe in &probes {
            for (name, document, variables, strings) in schema.requests(probe) {
                let body = app.gql(Some(&admin), &document, variables).await;
                let code = error_code(&body);
                assert_ne!(code, Some("INTERNAL_SERVER_ERROR"), "{name}: {body:#}");
                if strings > 0 {
                    assert_eq!(code, Some("BAD_USER_INPUT"), "{name}: {body:#}");
                    assert!(
                        error_field(&body).is_some_and(|f| !f.is_empty()),
                        "{name}: {body:#}"
                    );
                } else {
                    assert!(code.is_some(), "{name}: {body:#}");
                }
            }
        }
        assert_eq!(stored_nuls(&app).await, 0);
    }
);

db_test!(
    every_mutation_takes_any_unicode_text_without_an_internal_error,
    |app| {
        let admin = app.token(Role::Admin, None);
        let schema = introspect(&app, &admin).await;
        // Not control characters: valid text on both databases, and each write is decided by
        // its own rules (most refuse such values as codes or ids, some store them).
        let probes = [
            "é😀\u{2028}\u{feff}\u{10ffff}\u{fffe}".to_owned(),
            "\u{200b}\u{202e}ﬃ\u{301}".to_owned(),
            "'; DROP TABLE units; --".to_owned(),
            "重".repeat(1000),
        ];
        for probe in &probes {
            for (name, document, variables, _) in schema.requests(probe) {
                let body = app.gql(Some(&admin), &document, variables).await;
                for error in body["errors"].as_array().into_iter().flatten() {
                    let code = error["extensions"]["code"].as_str();
                    assert!(
                        code.is_some() && code != Some("INTERNAL_SERVER_ERROR"),
                        "{name}: {body:#}"
                    );
                }
            }
        }
    }
);

db_test!(
    text_longer_than_its_column_is_bad_user_input_on_both_databases,
    |app| {
        // PostgreSQL refuses a value longer than its varchar column (SQLite stores it): each such
        // field is bounded by the domain first, below the edge's general line limit.
        let supervisor = app.token(Role::Supervisor, None);
        let label = "组".repeat(65);
        let groups = app
            .gql(
                Some(&supervisor),
                "mutation($g: [String!]!) { drawJointGroups(input: { groups: $g }) { kind } }",
                json!({ "g": ["第一组", label] }),
            )
            .await;
        assert_eq!(error_code(&groups), Some("BAD_USER_INPUT"), "{groups:#}");
        assert_eq!(error_field(&groups), Some("input.groups[1]"), "{groups:#}");
        let fits = app
            .gql(
                Some(&supervisor),
                "mutation($g: [String!]!) { drawJointGroups(input: { groups: $g }) { items { groupLabel } } }",
                json!({ "g": ["组".repeat(64)] }),
            )
            .await;
        assert!(fits["errors"].is_null(), "{fits:#}");

        let admin = app.token(Role::Admin, None);
        let unit = register_unit(&app, "500103", 2, "长文本检查单位", "KEY").await;
        let unit_id = unit["id"].as_str().expect("id");
        let mut input = crate::fixtures::permit_input(unit_id, "2026-01-01");
        input["outlets"][0]["name"] = json!("口".repeat(101));
        let named = app
            .gql(
                Some(&admin),
                crate::fixtures::ISSUE_PERMIT,
                json!({ "input": input }),
            )
            .await;
        assert_eq!(
            error_field(&named),
            Some("input.outlets[0].name"),
            "{named:#}"
        );
        let mut input = crate::fixtures::permit_input(unit_id, "2026-01-01");
        input["outlets"][1]["limits"][0] = json!({
            "pollutant": "氨氮", "annualQuantityTpa": 1.0, "concentrationUnit": "m".repeat(17)
        });
        let unit_text = app
            .gql(
                Some(&admin),
                crate::fixtures::ISSUE_PERMIT,
                json!({ "input": input }),
            )
            .await;
        assert_eq!(
            error_field(&unit_text),
            Some("input.outlets[1].limits[0].concentrationUnit"),
            "{unit_text:#}"
        );
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM permits").await, 0);
        // An operation name is provenance: a long one is kept cut to its column, not a failure.
        let name = "Op".repeat(100);
        let named = app
            .gql(
                Some(&admin),
                &format!("mutation {name} {{ drawJointGroups(input: {{ groups: [\"长名组\"] }}) {{ kind }} }}"),
                json!({}),
            )
            .await;
        assert!(named["errors"].is_null(), "{named:#}");
    }
);
