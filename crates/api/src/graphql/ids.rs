//! The GraphQL `ID` face of `permit_core::ids` (opaque `Type:number`, base64).

use async_graphql::ID;

use permit_core::error::AppResult;
use permit_core::ids;

pub fn encode(type_name: &str, id: i64) -> ID {
    ID(ids::encode(type_name, id))
}

pub fn decode(type_name: &str, field: &str, id: &ID) -> AppResult<i64> {
    ids::decode(type_name, field, id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_type_check() {
        let id = encode("Unit", 42);
        assert_eq!(decode("Unit", "id", &id).ok(), Some(42));
        assert!(decode("Permit", "id", &id).is_err());
        assert!(decode("Unit", "id", &ID("garbage!".into())).is_err());
    }
}
