//! Text inputs, checked once at the edge (issue 20), before execution and on both databases
//! alike: every string in a field's arguments, whether written in the document or sent as a
//! variable (or a variable's default), at any depth of input objects and lists.
//!
//! PostgreSQL `text` cannot hold NUL, and SQLite stores it, so the same write failed on one
//! database (as an internal error) and succeeded on the other, leaving data that could not move.
//! Beyond NUL, control characters have no place in the register's text: one-line values (names,
//! codes, addresses, filters) take none; free text (`FREE_TEXT`) takes tab and line breaks.
//! Lengths are bounded here too (`LIMIT_MAX_LINE_CHARS`, `LIMIT_MAX_TEXT_CHARS`); the domain's
//! own, per-field maxima are stricter and still apply.
//!
//! A string is judged by the name of the argument or input field it is given for, which needs
//! no type information: enum values and custom scalars sent as strings pass as one-line text.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Positioned};
use async_graphql_value::{ConstValue, Value};
use serde_json::Value as Json;

use crate::config::Limits;
use permit_core::error::AppError;

/// Arguments and input fields that hold free text: several lines, up to `max_text_chars`.
pub const FREE_TEXT: &[&str] = &[
    "answer",
    "body",
    "description",
    "note",
    "notes",
    "positiveListReason",
    "reason",
    "recommendationText",
];

/// Checks every string argument of `document` (with `variables`) against the text rules.
/// `Err` is `BAD_USER_INPUT` naming the first offending field as `argument.field[index]…`.
pub fn check(
    document: &ExecutableDocument,
    variables: &serde_json::Map<String, Json>,
    limits: &Limits,
) -> Result<(), AppError> {
    let mut walk = Walk {
        variables,
        defaults: HashMap::new(),
        checked: HashSet::new(),
        limits,
    };
    for (_, operation) in document.operations.iter() {
        for definition in &operation.node.variable_definitions {
            if let Some(default) = &definition.node.default_value {
                walk.defaults
                    .insert(definition.node.name.node.clone(), &default.node);
            }
        }
    }
    for (_, operation) in document.operations.iter() {
        for directive in &operation.node.directives {
            walk.arguments(&directive.node.arguments)?;
        }
        walk.selection_set(&operation.node.selection_set.node)?;
    }
    for fragment in document.fragments.values() {
        walk.selection_set(&fragment.node.selection_set.node)?;
    }
    // Variables no argument uses are refused by validation; checked anyway, as sent.
    for (name, value) in variables {
        if !walk.checked.contains(name.as_str()) {
            walk.json(&format!("${name}"), name, value)?;
        }
    }
    Ok(())
}

struct Walk<'a> {
    variables: &'a serde_json::Map<String, Json>,
    defaults: HashMap<Name, &'a ConstValue>,
    /// Variables already checked (each once, under the first path that uses it).
    checked: HashSet<String>,
    limits: &'a Limits,
}

impl Walk<'_> {
    fn selection_set(&mut self, set: &SelectionSet) -> Result<(), AppError> {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    self.arguments(&field.node.arguments)?;
                    for directive in &field.node.directives {
                        self.arguments(&directive.node.arguments)?;
                    }
                    self.selection_set(&field.node.selection_set.node)?;
                }
                Selection::FragmentSpread(spread) => {
                    for directive in &spread.node.directives {
                        self.arguments(&directive.node.arguments)?;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    for directive in &fragment.node.directives {
                        self.arguments(&directive.node.arguments)?;
                    }
                    self.selection_set(&fragment.node.selection_set.node)?;
                }
            }
        }
        Ok(())
    }

    fn arguments(
        &mut self,
        arguments: &[(Positioned<Name>, Positioned<Value>)],
    ) -> Result<(), AppError> {
        for (name, value) in arguments {
            self.value(name.node.as_str(), name.node.as_str(), &value.node)?;
        }
        Ok(())
    }

    /// A value written in the document; `key` is the argument or input field it is given for.
    fn value(&mut self, path: &str, key: &str, value: &Value) -> Result<(), AppError> {
        match value {
            Value::String(text) => self.text(path, key, text),
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.value(&format!("{path}[{i}]"), key, item)?;
                }
                Ok(())
            }
            Value::Object(fields) => {
                for (name, item) in fields {
                    self.value(&format!("{path}.{name}"), name.as_str(), item)?;
                }
                Ok(())
            }
            Value::Variable(name) => {
                if !self.checked.insert(name.to_string()) {
                    return Ok(());
                }
                if let Some(sent) = self.variables.get(name.as_str()) {
                    self.json(path, key, sent)
                } else if let Some(default) = self.defaults.get(name) {
                    let default = (*default).clone().into_json().unwrap_or(Json::Null);
                    self.json(path, key, &default)
                } else {
                    Ok(())
                }
            }
            Value::Null | Value::Number(_) | Value::Boolean(_) | Value::Enum(_) => Ok(()),
            Value::Binary(_) => Ok(()),
        }
    }

    /// A value sent as (part of) a variable.
    fn json(&self, path: &str, key: &str, value: &Json) -> Result<(), AppError> {
        match value {
            Json::String(text) => self.text(path, key, text),
            Json::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.json(&format!("{path}[{i}]"), key, item)?;
                }
                Ok(())
            }
            Json::Object(fields) => {
                for (name, item) in fields {
                    // A key is text too (an unknown one is refused later, by coercion).
                    self.text(&format!("{path}.{name}"), name, name)?;
                    self.json(&format!("{path}.{name}"), name, item)?;
                }
                Ok(())
            }
            Json::Null | Json::Bool(_) | Json::Number(_) => Ok(()),
        }
    }

    fn text(&self, path: &str, key: &str, text: &str) -> Result<(), AppError> {
        let free = FREE_TEXT.contains(&key);
        let max = if free {
            self.limits.max_text_chars
        } else {
            self.limits.max_line_chars
        };
        judge(text, free, max).map_err(|reason| AppError::invalid(path, reason))
    }
}

/// Why `text` is refused, if it is: a control character (tab and line breaks are allowed in
/// free text), or more than `max` characters.
pub fn judge(text: &str, free_text: bool, max: usize) -> Result<(), String> {
    // Bytes first: most text is short, and a long one is refused without counting it all.
    if text.len() > max && text.chars().nth(max).is_some() {
        return Err(format!("must be at most {max} characters"));
    }
    let allowed = |c: char| free_text && matches!(c, '\t' | '\n' | '\r');
    if let Some(c) = text.chars().find(|c| c.is_control() && !allowed(*c)) {
        let what = if c == '\0' {
            "a NUL character".to_owned()
        } else {
            format!("the control character U+{:04X}", c as u32)
        };
        let rule = if free_text {
            "free text may contain tab and line breaks, no other control characters"
        } else {
            "one-line text may not contain control characters"
        };
        return Err(format!("contains {what}: {rule}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(query: &str, variables: Json) -> Result<(), (String, String)> {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        let Json::Object(variables) = variables else {
            panic!("variables are an object")
        };
        let limits = Limits {
            max_line_chars: 10,
            max_text_chars: 20,
            ..Limits::default()
        };
        check(&document, &variables, &limits).map_err(|e| match e {
            AppError::InvalidInput { field, reason } => (field, reason),
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn nul_and_control_characters_are_refused_wherever_they_are() {
        let nul = serde_json::json!({ "n": "a\u{0}b" });
        let (field, reason) = run(
            "query($n: String) { units(filter: { nameContains: $n }) { totalCount } }",
            nul,
        )
        .expect_err("refused");
        assert_eq!(field, "filter.nameContains");
        assert!(reason.contains("NUL"), "{reason}");
        let (field, _) = run(
            r#"mutation { updateUnit(id: "1", input: { name: "a\u0000b" }) { id } }"#,
            serde_json::json!({}),
        )
        .expect_err("a literal too");
        assert_eq!(field, "input.name");
        let (field, _) = run(
            "mutation($i: PostFeedbackInput!) { postFeedback(input: $i) { id } }",
            serde_json::json!({ "i": { "codes": ["NP-1", "x\u{7}"] } }),
        )
        .expect_err("in a list of a variable");
        assert_eq!(field, "input.codes[1]");
        let (field, _) = run(
            "query($n: String = \"a\\u0001\") { units(filter: { nameContains: $n }) { totalCount } }",
            serde_json::json!({}),
        )
        .expect_err("a default");
        assert_eq!(field, "filter.nameContains");
        let (field, _) = run(
            "query { ...F } fragment F on Query { unit(id: \"a\\u0000\") { id } }",
            serde_json::json!({}),
        )
        .expect_err("in a fragment");
        assert_eq!(field, "id");
    }

    #[test]
    fn free_text_takes_line_breaks_and_one_line_text_does_not() {
        let query = "mutation($r: String!, $n: String) { cancelPermit(id: \"1\", expectedVersion: 1, reason: $r) { id } units(filter: { nameContains: $n }) { totalCount } }";
        assert!(run(query, serde_json::json!({ "r": "line 1\n\tline 2\r\n" })).is_ok());
        assert!(run(query, serde_json::json!({ "r": "a\u{0}" })).is_err());
        let (field, _) =
            run(query, serde_json::json!({ "r": "ok", "n": "a\nb" })).expect_err("one line");
        assert_eq!(field, "filter.nameContains");
        // Unicode that is not a control character is text: PostgreSQL and SQLite hold it.
        assert!(
            run(
                query,
                serde_json::json!({ "r": "é😀\u{2028}\u{feff}\u{10ffff}" })
            )
            .is_ok()
        );
    }

    #[test]
    fn lengths_are_bounded_in_characters() {
        let query = "mutation($r: String!, $n: String) { cancelPermit(id: \"1\", expectedVersion: 1, reason: $r) { id } units(filter: { nameContains: $n }) { totalCount } }";
        assert!(
            run(
                query,
                serde_json::json!({ "r": "重".repeat(20), "n": "庆".repeat(10) })
            )
            .is_ok()
        );
        let (field, reason) =
            run(query, serde_json::json!({ "r": "x".repeat(21) })).expect_err("too long");
        assert_eq!(field, "reason");
        assert!(reason.contains("at most 20"), "{reason}");
        let (field, _) =
            run(query, serde_json::json!({ "r": "x", "n": "x".repeat(11) })).expect_err("too long");
        assert_eq!(field, "filter.nameContains");
    }
}
