//! Static cost of a document, checked against `LIMIT_MAX_COST` before any database work: a
//! paged field costs its page size times what each item selects, and a list without a page
//! argument a typical length times it, so nesting `first: 100` inside `first: 100`, or lists of
//! lists of lists, is refused up front instead of being discovered by the database. The shapes
//! (which field returns a list, which takes `first`) come from the schema itself, so a field
//! added later is costed without an annotation.

use std::collections::HashMap;
use std::sync::OnceLock;

use async_graphql::Variables;
use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};

use permit_core::domain::page::DEFAULT_PAGE_SIZE;

/// What a list without a page argument is counted as: a typical length (a permit's outlets,
/// a draw's items), so that nesting such lists (campaigns → draws → items → teams) multiplies
/// up to the cost limit instead of passing as one field each.
pub const UNPAGED_LIST_LENGTH: usize = 5;

/// The largest `first` any field accepts (the change feed's 1000).
const MAX_ANY_PAGE: i64 = 1000;

// --- The document's cost, from the schema's shapes ------------------------------------------

/// What each field of each object type returns: a list or not, and of which named type. Read
/// once from the schema's own SDL, so every field, also one added later, is costed.
struct Shapes(HashMap<String, HashMap<String, Shape>>);

struct Shape {
    list: bool,
    returns: String,
    /// For a field that takes `first`/`last`: the page it reads when the client names none.
    default_page: Option<usize>,
}

fn shapes() -> &'static Shapes {
    static SHAPES: OnceLock<Shapes> = OnceLock::new();
    SHAPES.get_or_init(|| {
        use async_graphql::parser::types::{BaseType, TypeKind, TypeSystemDefinition};
        let mut out = HashMap::new();
        let Ok(document) = async_graphql::parser::parse_schema(super::sdl()) else {
            return Shapes(out);
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(t) = definition else {
                continue;
            };
            let fields = match t.node.kind {
                TypeKind::Object(o) => o.fields,
                TypeKind::Interface(i) => i.fields,
                _ => continue,
            };
            let mut map = HashMap::new();
            for field in fields {
                let mut ty = &field.node.ty.node;
                let mut list = false;
                while let BaseType::List(inner) = &ty.base {
                    list = true;
                    ty = inner;
                }
                let paged = field
                    .node
                    .arguments
                    .iter()
                    .find(|a| matches!(a.node.name.node.as_str(), "first" | "last"));
                let default_page = paged.map(|a| {
                    a.node
                        .default_value
                        .as_ref()
                        .and_then(|v| match &v.node {
                            async_graphql::Value::Number(n) => n.as_i64(),
                            _ => None,
                        })
                        .and_then(|n| usize::try_from(n).ok())
                        .unwrap_or(DEFAULT_PAGE_SIZE as usize)
                });
                if let BaseType::Named(name) = &ty.base {
                    let shape = Shape {
                        list,
                        returns: name.to_string(),
                        default_page,
                    };
                    map.insert(field.node.name.node.to_string(), shape);
                }
            }
            out.insert(t.node.name.node.to_string(), map);
        }
        Shapes(out)
    })
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    /// Fragments being expanded (a cycle is the validator's to refuse; here it stops the walk).
    open_fragments: Vec<&'a str>,
}

impl<'a> Walk<'a> {
    fn page_argument(&self, field: &'a Field) -> Option<usize> {
        field
            .arguments
            .iter()
            .filter(|(name, _)| matches!(name.node.as_str(), "first" | "last"))
            .filter_map(|(_, value)| {
                // A variable the request leaves out (and that has no default) or sends as null
                // leaves the argument out: the field's default page, below.
                let value = value
                    .node
                    .clone()
                    .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()))
                    .unwrap_or(async_graphql::Value::Null);
                // Sizes out of range are refused by the resolver; here they count as the
                // largest page any field allows.
                match value {
                    async_graphql::Value::Null => None,
                    async_graphql::Value::Number(n) => Some(
                        usize::try_from(n.as_i64().unwrap_or(1).clamp(1, MAX_ANY_PAGE))
                            .unwrap_or(1),
                    ),
                    _ => Some(MAX_ANY_PAGE as usize),
                }
            })
            .max()
    }

    fn selection_set(&mut self, set: &'a SelectionSet, parent: &str, in_page: bool) -> usize {
        let mut total = 0usize;
        for item in &set.items {
            let cost = match &item.node {
                Selection::Field(field) => self.field(&field.node, parent, in_page),
                Selection::InlineFragment(inline) => {
                    let on = inline
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .unwrap_or(parent);
                    self.selection_set(&inline.node.selection_set.node, on, in_page)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match self.document.fragments.get(name) {
                        Some(fragment) if !self.open_fragments.contains(&name) => {
                            self.open_fragments.push(name);
                            let on = fragment.node.type_condition.node.on.node.as_str();
                            let cost =
                                self.selection_set(&fragment.node.selection_set.node, on, in_page);
                            self.open_fragments.pop();
                            cost
                        }
                        _ => 0,
                    }
                }
            };
            total = total.saturating_add(cost);
        }
        total
    }

    fn field(&mut self, field: &'a Field, parent: &str, in_page: bool) -> usize {
        let name = field.name.node.as_str();
        // Introspection is metadata, not data: the schema's size bounds it.
        if name.starts_with("__") {
            return 1;
        }
        let Some(shape) = shapes().0.get(parent).and_then(|f| f.get(name)) else {
            return 1;
        };
        let page = self.page_argument(field).or(shape.default_page);
        // A connection's page is counted at the field that takes `first`; its `edges` and
        // `nodes` lists are that page, not a further multiple.
        let times = match (page, shape.list) {
            (Some(size), _) => size,
            (None, true) if in_page => 1,
            (None, true) => UNPAGED_LIST_LENGTH,
            (None, false) => 1,
        };
        let children =
            self.selection_set(&field.selection_set.node, &shape.returns, page.is_some());
        times.saturating_mul(children).saturating_add(1)
    }
}

/// The static cost of the operation a request runs: every field costs 1, and what a list
/// returns costs again for each item it may hold (its `first`/`last`, or `UNPAGED_LIST_LENGTH`
/// for lists without a page argument). Refused above `LIMIT_MAX_COST` before any database work.
pub fn document_cost(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> usize {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let operation = match &document.operations {
        DocumentOperations::Single(op) => Some(op),
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops.get(name),
            None => ops.values().next(),
        },
    };
    let Some(operation) = operation else {
        return 0;
    };
    let root = match operation.node.ty {
        OperationType::Query => "Query",
        OperationType::Mutation => "Mutation",
        OperationType::Subscription => "Subscription",
    };
    // The operation's own defaults stand for variables the request leaves out, as they do
    // when it executes (`query($first: Int = 50)`).
    let mut effective = variables.clone();
    for definition in &operation.node.variable_definitions {
        let name = &definition.node.name.node;
        if !effective.contains_key(name)
            && let Some(default) = &definition.node.default_value
        {
            effective.insert(name.clone(), default.node.clone());
        }
    }
    let mut walk = Walk {
        document,
        variables: &effective,
        open_fragments: Vec::new(),
    };
    walk.selection_set(&operation.node.selection_set.node, root, false)
}

/// The cost check of a request, before any database work: its cost (what admission weighs it
/// by), or `Err` naming the cost and the limit.
pub fn check(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &serde_json::Map<String, serde_json::Value>,
    max_cost: usize,
) -> Result<usize, String> {
    let variables = Variables::from_json(serde_json::Value::Object(variables.clone()));
    let cost = document_cost(document, operation_name, &variables);
    if cost > max_cost {
        return Err(format!(
            "the query's cost is {cost}, over the limit of {max_cost} (a list or connection \
             costs its page size, or {UNPAGED_LIST_LENGTH} for a list without one, times what \
             each item selects): ask for smaller pages or fewer fields"
        ));
    }
    Ok(cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(query: &str) -> usize {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        document_cost(&document, None, &Variables::default())
    }

    #[test]
    fn cost_grows_with_the_page_size_and_with_unpaged_lists() {
        // units(first) × edges (the page) × node × id.
        let small = cost("{ units(first: 10) { edges { node { id } } } }");
        let large = cost("{ units(first: 100) { edges { node { id } } } }");
        assert_eq!(small, 1 + 10 * (1 + 2));
        assert_eq!(large, 1 + 100 * (1 + 2));
        // Without `first`, the field's default page.
        assert_eq!(cost("{ units { edges { node { id } } } }"), 1 + 20 * 3);
        // A variable counts as given.
        let document = async_graphql::parser::parse_query(
            "query($n: Int) { units(first: $n) { edges { node { id } } } }",
        )
        .expect("parses");
        let variables = Variables::from_json(serde_json::json!({ "n": 7 }));
        assert_eq!(document_cost(&document, None, &variables), 1 + 7 * 3);
        // A variable left out counts as its default, or as no argument when it has none.
        let defaulted = async_graphql::parser::parse_query(
            "query($n: Int = 7) { units(first: $n) { edges { node { id } } } }",
        )
        .expect("parses");
        assert_eq!(
            document_cost(&defaulted, None, &Variables::default()),
            1 + 7 * 3
        );
        assert_eq!(
            document_cost(&document, None, &Variables::default()),
            1 + 20 * 3
        );
        let null = Variables::from_json(serde_json::json!({ "n": null }));
        assert_eq!(document_cost(&document, None, &null), 1 + 20 * 3);
        // Lists of lists multiply, without any annotation on the fields.
        let flat = cost("{ violationCodes { code } }");
        let nested = cost(r#"{ unit(id: "x") { permits { outlets { limits { id } } } } }"#);
        assert_eq!(flat, 1 + UNPAGED_LIST_LENGTH);
        assert!(nested >= UNPAGED_LIST_LENGTH.pow(3), "{nested}");
        // Fragments count where they are spread; a cycle stops the walk.
        let spread =
            cost("{ violationCodes { ...C } } fragment C on ViolationCode { code article }");
        assert_eq!(spread, 1 + UNPAGED_LIST_LENGTH * 2);
        let cyclic = cost("{ violationCodes { ...C } } fragment C on ViolationCode { ...C }");
        assert_eq!(cyclic, 1);
        // Introspection is not data.
        assert_eq!(cost("{ __schema { types { fields { name } } } }"), 1);
    }
}
