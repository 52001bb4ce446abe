//! Plain fields answered inline. async-graphql resolves every selected field of an object as a
//! boxed future of its own, run on a `FuturesUnordered`: on a page of 50 permits with their unit
//! and 5 findings each (Q2) that is up to some 1,700 futures for values already in memory, a
//! large share of the server's CPU (issue 15's profile; answering them inline took about 13 %
//! off Q2's server CPU).
//!
//! A type that lists its plain fields (answered from the loaded row alone: no arguments, no
//! context, nothing awaited) has them resolved by polling the object's own field resolver once,
//! in place; the other fields run concurrently as before. Every field still goes through the
//! resolver the `#[Object]` impl generates, so what a field answers, its errors and their paths
//! are the same either way. Selections this does not handle plainly (fragments, directives, a
//! response key given twice, which async-graphql merges) go to async-graphql's own resolution.
//!
//! The GraphQL object is declared on a view of the type (`object_with_plain_fields!`), so
//! that the type itself can implement `OutputType` with this resolution.

use std::pin::{Pin, pin};
use std::task::{Poll, Waker};

use async_graphql::futures_util::StreamExt as _;
use async_graphql::futures_util::stream::FuturesUnordered;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::resolver_utils::resolve_container;
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, Name, Positioned, ServerResult, Value,
};

/// An object some of whose fields are plain.
pub trait PlainFields: ContainerType {
    /// The GraphQL names of the fields answered from the object alone: no arguments, no
    /// context, nothing awaited (a listed field that awaits is still answered, the slow way).
    const PLAIN: &'static [&'static str];
}

/// A field resolved the usual way: its response key and its answer.
type FieldFuture<'a> =
    Pin<Box<dyn Future<Output = (Name, ServerResult<Option<Value>>)> + Send + 'a>>;

/// Resolves `object`'s selection in `ctx`: its plain fields inline, the others concurrently;
/// the answer's keys in the selection's order.
pub async fn resolve<T: PlainFields>(
    ctx: &ContextSelectionSet<'_>,
    object: &T,
) -> ServerResult<Value> {
    let Some(fields) = simple_selection(ctx) else {
        return resolve_container(ctx, object).await;
    };
    let mut results = IndexMap::with_capacity(fields.len());
    let mut others = Vec::new();
    for field in fields {
        let name = field.node.name.node.as_str();
        let key = field.node.response_key().node.clone();
        if name == "__typename" {
            let type_name = object.introspection_type_name().into_owned();
            results.insert(key, Value::String(type_name));
        } else if T::PLAIN.contains(&name)
            && let Some(answer) = resolve_now(object, &ctx.with_field(field))
        {
            keep(ctx, &mut results, key, answer);
        } else {
            // Its place in the selection's order, filled when it is answered.
            results.insert(key, Value::Null);
            others.push(field);
        }
    }
    if !others.is_empty() {
        let mut pending: FuturesUnordered<FieldFuture<'_>> = others
            .into_iter()
            .map(|field| -> FieldFuture<'_> {
                // Boxed, as async-graphql boxes them: a field's future holds its objects'
                // futures, which may hold this one's type again (a permit's unit's permits).
                Box::pin(async move {
                    let answer = object.resolve_field(&ctx.with_field(field)).await;
                    (field.node.response_key().node.clone(), answer)
                })
            })
            .collect();
        while let Some((key, answer)) = pending.next().await {
            keep(ctx, &mut results, key, answer);
        }
    }
    Ok(if results.is_empty() {
        Value::Null
    } else {
        Value::Object(results)
    })
}

/// As async-graphql keeps a field's answer: its value under its key, or its error in the
/// response's errors and no key.
fn keep(
    ctx: &ContextSelectionSet<'_>,
    results: &mut IndexMap<Name, Value>,
    key: Name,
    answer: ServerResult<Option<Value>>,
) {
    match answer {
        Ok(value) => {
            results.insert(key, value.unwrap_or_default());
        }
        Err(error) => {
            results.shift_remove(&key);
            ctx.add_error(error);
        }
    }
}

/// The field's answer if its resolver gives it without waiting; `None` if it would wait.
fn resolve_now<T: ContainerType>(
    object: &T,
    ctx: &Context<'_>,
) -> Option<ServerResult<Option<Value>>> {
    let future = pin!(object.resolve_field(ctx));
    match future.poll(&mut std::task::Context::from_waker(Waker::noop())) {
        Poll::Ready(answer) => Some(answer),
        Poll::Pending => {
            // Answered again the slow way. A plain field has nothing in flight to lose.
            debug_assert!(false, "plain field {} awaited", ctx.item.node.name.node);
            None
        }
    }
}

/// The selection's fields when it is only fields, without directives, each response key once.
fn simple_selection<'a>(ctx: &ContextSelectionSet<'a>) -> Option<Vec<&'a Positioned<Field>>> {
    let items = &ctx.item.node.items;
    let mut fields: Vec<&Positioned<Field>> = Vec::with_capacity(items.len());
    for selection in items {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let key = field.node.response_key();
        let repeated = fields
            .iter()
            .any(|seen| seen.node.response_key().node == key.node);
        if repeated || !field.node.directives.is_empty() {
            return None;
        }
        fields.push(field);
    }
    Some(fields)
}

/// `object_with_plain_fields!(Finding => FindingObject { finding })`: `Finding` is the GraphQL
/// object that `FindingObject<'a> { finding: &'a Finding }` declares with `#[Object(name =
/// "Finding")]` and `PlainFields`; the view derefs to the type, so its resolvers read `self.0`
/// or `self.row` as they would on the type.
macro_rules! object_with_plain_fields {
    ($type:ident => $view:ident { $field:ident }) => {
        /// The GraphQL object of the type it borrows.
        pub struct $view<'a> {
            $field: &'a $type,
        }

        impl std::ops::Deref for $view<'_> {
            type Target = $type;
            fn deref(&self) -> &$type {
                self.$field
            }
        }

        impl async_graphql::OutputType for $type {
            fn type_name() -> std::borrow::Cow<'static, str> {
                <$view<'static> as async_graphql::OutputType>::type_name()
            }

            fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
                <$view<'static> as async_graphql::OutputType>::create_type_info(registry)
            }

            async fn resolve(
                &self,
                ctx: &async_graphql::ContextSelectionSet<'_>,
                _field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
            ) -> async_graphql::ServerResult<async_graphql::Value> {
                $crate::graphql::plain::resolve(ctx, &$view { $field: self }).await
            }
        }
    };
}
pub(crate) use object_with_plain_fields;

#[cfg(test)]
mod tests {
    use async_graphql::registry::{MetaType, Registry};

    use super::PlainFields;
    use crate::graphql::enforcement::FindingObject;
    use crate::graphql::permits::PermitObject;
    use crate::graphql::units::UnitObject;

    /// Every listed field is a field of the type, takes no argument and is a scalar or an
    /// enum (a list of fields that drifted from the type would fail here, not in production).
    fn listed_fields_are_argumentless_leaves<T: PlainFields>() {
        let mut registry = Registry::default();
        T::create_type_info(&mut registry);
        let object = &registry.types[T::type_name().as_ref()];
        for name in T::PLAIN {
            let field = object
                .field_by_name(name)
                .unwrap_or_else(|| panic!("{} has no field {name}", T::type_name()));
            assert!(field.args.is_empty(), "{name} takes arguments");
            let base = field.ty.trim_matches(|c| matches!(c, '[' | ']' | '!'));
            assert!(
                matches!(
                    registry.types.get(base),
                    Some(MetaType::Scalar { .. } | MetaType::Enum { .. })
                ),
                "{name} is a {base}, not a scalar or an enum"
            );
        }
    }

    #[test]
    fn plain_fields_are_argumentless_leaves() {
        listed_fields_are_argumentless_leaves::<FindingObject<'static>>();
        listed_fields_are_argumentless_leaves::<PermitObject<'static>>();
        listed_fields_are_argumentless_leaves::<UnitObject<'static>>();
    }
}
