//! The published SDL must match the code.

#[test]
fn published_sdl_matches_the_code() {
    let published = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/schema.graphql"
    ))
    .expect("schema/schema.graphql exists");
    let generated = permit_api::graphql::sdl();
    assert!(
        published == generated,
        "schema/schema.graphql is out of date: run `cargo run -q -- schema > schema/schema.graphql`"
    );
}

/// Argument and input-field structure of the schema: for each argument name, the input types
/// it takes (an argument name like `input` has a different type per operation), and for each
/// input type its fields.
struct InputPaths {
    /// (argument name, type name, is a list)
    arguments: Vec<(String, String, bool)>,
    /// input type name -> (field name, type name, is a list)
    inputs: std::collections::HashMap<String, Vec<(String, String, bool)>>,
}

fn named(ty: &async_graphql::parser::types::Type) -> (String, bool) {
    use async_graphql::parser::types::BaseType;
    match &ty.base {
        BaseType::Named(name) => (name.to_string(), false),
        BaseType::List(inner) => (named(inner).0, true),
    }
}

fn input_paths() -> InputPaths {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let document =
        async_graphql::parser::parse_schema(permit_api::graphql::sdl()).expect("the SDL parses");
    let mut paths = InputPaths {
        arguments: Vec::new(),
        inputs: Default::default(),
    };
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        match &ty.node.kind {
            TypeKind::Object(object) => {
                for field in &object.fields {
                    for argument in &field.node.arguments {
                        let (name, list) = named(&argument.node.ty.node);
                        paths
                            .arguments
                            .push((argument.node.name.node.to_string(), name, list));
                    }
                }
            }
            TypeKind::InputObject(input) => {
                let fields = input
                    .fields
                    .iter()
                    .map(|f| {
                        let (name, list) = named(&f.node.ty.node);
                        (f.node.name.node.to_string(), name, list)
                    })
                    .collect();
                paths.inputs.insert(ty.node.name.node.to_string(), fields);
            }
            _ => {}
        }
    }
    paths
}

/// Whether `path` (`input.outlets[0].limits[1].pollutant`) names an argument and the input
/// fields below it, for some field of the schema.
fn is_input_path(paths: &InputPaths, path: &str) -> bool {
    let mut segments = Vec::new();
    for part in path.split('.') {
        let (name, indexed) = match part.split_once('[') {
            Some((name, _)) => (name, true),
            None => (part, false),
        };
        segments.push((name.to_owned(), indexed));
    }
    let Some(((root, root_indexed), rest)) = segments.split_first() else {
        return false;
    };
    paths
        .arguments
        .iter()
        .filter(|(name, _, list)| name == root && (*list || !root_indexed))
        .any(|(_, ty, _)| {
            let mut current = ty.clone();
            for (name, indexed) in rest {
                if name == "*" {
                    return paths.inputs.contains_key(&current);
                }
                let Some(fields) = paths.inputs.get(&current) else {
                    return false;
                };
                let Some((_, ty, list)) = fields.iter().find(|(f, _, _)| f == name) else {
                    return false;
                };
                if *indexed && !list {
                    return false;
                }
                current = ty.clone();
            }
            true
        })
}

/// Every string literal of the source that is, or starts, an error's field path: literals
/// beginning with `input.` / `input[`, and the first argument of `AppError::invalid` and
/// `code_error` (which may sit on the next line). Format placeholders in brackets become an
/// index; a path built on another (`{field}.code`) is checked by its last segment.
fn emitted_fields() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![root.join("src"), root.join("crates")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read source");
            let file = path.display().to_string();
            for marker in ["invalid(", "code_error(", "\"input."] {
                let mut rest = text.as_str();
                while let Some(at) = rest.find(marker) {
                    rest = &rest[at + marker.len()..];
                    let literal = if marker.starts_with('"') {
                        rest.split('"').next().map(|tail| format!("input.{tail}"))
                    } else {
                        let trimmed = rest
                            .trim_start()
                            .trim_start_matches('&')
                            .trim_start_matches("format!(");
                        trimmed
                            .strip_prefix('"')
                            .and_then(|t| t.split('"').next())
                            .map(str::to_owned)
                    };
                    if let Some(literal) = literal {
                        found.push((file.clone(), literal));
                    }
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

// Issue #14.8: error paths named fields that do not exist (`input.inspectionDate`,
// `input.sampling[0].share`).
#[test]
fn every_error_field_names_an_input_path() {
    let paths = input_paths();
    let all_fields: std::collections::HashSet<&str> = paths
        .inputs
        .values()
        .flatten()
        .map(|(name, _, _)| name.as_str())
        .chain(paths.arguments.iter().map(|(name, _, _)| name.as_str()))
        .collect();
    let mut wrong = Vec::new();
    let emitted = emitted_fields();
    assert!(
        emitted.len() > 100,
        "found only {} field paths",
        emitted.len()
    );
    for (file, literal) in emitted {
        // Unit tests and messages are not field paths.
        if literal.contains(' ') || literal.is_empty() || file.ends_with("tests.rs") {
            continue;
        }
        // `[{i}]` is an index; a whole segment `.{name}` is any field (checked no further).
        let mut path = String::new();
        let mut in_placeholder = false;
        for c in literal.chars() {
            match c {
                '{' => in_placeholder = true,
                '}' => {
                    in_placeholder = false;
                    path.push(if path.ends_with('[') { '0' } else { '*' });
                }
                _ if !in_placeholder => path.push(c),
                _ => {}
            }
        }
        let ok = if literal.starts_with('{') {
            // `{field}.code`: the segment after the prefix must be some input field.
            path.rsplit('.').next().is_some_and(|last| {
                let last = last.split('[').next().unwrap_or(last);
                last == "*" || all_fields.contains(last)
            })
        } else {
            is_input_path(&paths, path.trim_end_matches('.'))
        };
        if !ok {
            wrong.push(format!("{file}: {literal}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "field paths naming no input:\n{}",
        wrong.join("\n")
    );
}
