//! The schema as introspection reports it, and the documents that walk it: every root query
//! field, every object field below it to a bounded depth, with ids and arguments drawn from a
//! pool of what earlier answers returned.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// How deep below a root field objects are walked (a connection's edges and node count).
const DEPTH: usize = 5;

pub(super) const INTROSPECTION: &str = r#"{ __schema { queryType { name } types { name kind fields {
  name type { ...T } args { name type { ...T } } } } } }
  fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"#;

#[derive(Debug, Clone)]
struct TypeRef {
    /// The named type at the bottom of the wrappers.
    name: String,
    kind: String,
    non_null: bool,
}

fn type_ref(value: &Value) -> TypeRef {
    let non_null = value["kind"] == "NON_NULL";
    let mut t = value;
    while t["name"].is_null() && !t["ofType"].is_null() {
        t = &t["ofType"];
    }
    TypeRef {
        name: t["name"].as_str().unwrap_or_default().to_owned(),
        kind: t["kind"].as_str().unwrap_or_default().to_owned(),
        non_null,
    }
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    ty: TypeRef,
    args: Vec<(String, TypeRef)>,
}

pub(super) struct Schema {
    types: HashMap<String, Vec<Field>>,
    query: String,
}

pub(super) fn parse_schema(data: &Value) -> Schema {
    let mut types = HashMap::new();
    for t in data["__schema"]["types"].as_array().expect("types") {
        let name = t["name"].as_str().unwrap_or_default();
        if name.starts_with("__") || t["kind"] != "OBJECT" {
            continue;
        }
        let fields = t["fields"]
            .as_array()
            .map(|fs| {
                fs.iter()
                    .map(|f| Field {
                        name: f["name"].as_str().unwrap_or_default().to_owned(),
                        ty: type_ref(&f["type"]),
                        args: f["args"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .map(|a| {
                                        (
                                            a["name"].as_str().unwrap_or_default().to_owned(),
                                            type_ref(&a["type"]),
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        types.insert(name.to_owned(), fields);
    }
    Schema {
        types,
        query: data["__schema"]["queryType"]["name"]
            .as_str()
            .unwrap_or("Query")
            .to_owned(),
    }
}

/// Values for required arguments, learnt from what an administrator's walk returned.
#[derive(Default)]
pub(super) struct Pool {
    /// Ids by GraphQL type name.
    pub(super) ids: BTreeMap<String, Vec<String>>,
    /// String values by field name (credit codes, permit numbers).
    pub(super) strings: BTreeMap<String, Vec<String>>,
    pub(super) districts: Vec<String>,
}

impl Pool {
    pub(super) fn learn(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                if let (Some(Value::String(t)), Some(Value::String(id))) =
                    (map.get("__typename"), map.get("id"))
                {
                    let ids = self.ids.entry(t.clone()).or_default();
                    if !ids.contains(id) {
                        ids.push(id.clone());
                    }
                }
                for (key, v) in map {
                    if let Value::String(s) = v {
                        let seen = self.strings.entry(key.clone()).or_default();
                        if seen.len() < 50 && !seen.contains(s) {
                            seen.push(s.clone());
                        }
                    }
                    self.learn(v);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.learn(v)),
            _ => {}
        }
    }

    /// A few values spread over what was seen (first, middle, last).
    fn sample(values: &[String]) -> Vec<String> {
        let n = values.len();
        let mut picks: Vec<String> = [0, n / 3, n / 2, 2 * n / 3, n.saturating_sub(1)]
            .into_iter()
            .filter(|i| *i < n)
            .map(|i| values[i].clone())
            .collect();
        picks.dedup();
        picks
    }

    /// Literal values for a required argument, or none (the field is then not walked).
    fn values_for(&self, arg: &str, ty: &TypeRef, returns: &str) -> Vec<String> {
        let quote = |s: &String| serde_json::to_string(s).unwrap_or_default();
        if ty.name == "ID" {
            return self
                .ids
                .get(returns)
                .map(|ids| Self::sample(ids).iter().map(quote).collect())
                .unwrap_or_default();
        }
        if ty.name == "String" && arg.to_lowercase().contains("district") {
            return self.districts.iter().map(quote).collect();
        }
        if ty.name == "String" {
            return self
                .strings
                .get(arg)
                .map(|v| Self::sample(v).iter().map(quote).collect())
                .unwrap_or_default();
        }
        Vec::new()
    }
}

/// The selection of every field of `type_name`, objects to `depth`; nested required arguments
/// take the first pool value (or the field is left out).
fn selection(schema: &Schema, pool: &Pool, type_name: &str, depth: usize) -> String {
    let Some(fields) = schema.types.get(type_name) else {
        return String::new();
    };
    let mut out = vec!["__typename".to_owned()];
    for field in fields {
        let mut args = Vec::new();
        let mut walkable = true;
        for (name, ty) in &field.args {
            if name == "first" {
                args.push("first: 2".to_owned());
            } else if ty.non_null {
                match pool.values_for(name, ty, &field.ty.name).first() {
                    Some(v) => args.push(format!("{name}: {v}")),
                    None => walkable = false,
                }
            }
        }
        if !walkable {
            continue;
        }
        let args = if args.is_empty() {
            String::new()
        } else {
            format!("({})", args.join(", "))
        };
        match field.ty.kind.as_str() {
            "OBJECT" if depth > 0 => {
                let inner = selection(schema, pool, &field.ty.name, depth - 1);
                out.push(format!("{}{args} {{ {inner} }}", field.name));
            }
            "SCALAR" | "ENUM" => out.push(format!("{}{args}", field.name)),
            _ => {}
        }
    }
    out.join(" ")
}

/// One document per root field and value of its required arguments.
pub(super) fn root_queries(schema: &Schema, pool: &Pool) -> Vec<String> {
    let mut out = Vec::new();
    for field in schema.types.get(&schema.query).into_iter().flatten() {
        if field.ty.kind != "OBJECT" {
            continue;
        }
        let inner = selection(schema, pool, &field.ty.name, DEPTH);
        let required: Vec<&(String, TypeRef)> =
            field.args.iter().filter(|(_, t)| t.non_null).collect();
        let optional_first = field.args.iter().any(|(n, _)| n == "first");
        let first = if optional_first {
            vec!["first: 3".to_owned()]
        } else {
            vec![]
        };
        match required.as_slice() {
            [] => {
                let args = if first.is_empty() {
                    String::new()
                } else {
                    format!("({})", first.join(", "))
                };
                out.push(format!("{{ {}{args} {{ {inner} }} }}", field.name));
            }
            [(name, ty)] => {
                for value in pool.values_for(name, ty, &field.ty.name) {
                    out.push(format!(
                        "{{ {}({name}: {value}) {{ {inner} }} }}",
                        field.name
                    ));
                }
            }
            _ => {}
        }
    }
    out
}
