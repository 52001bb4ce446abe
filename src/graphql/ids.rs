//! Opaque IDs (CONTRACT: "IDs are opaque strings"): base64 of `Type:number`. Clients must not
//! parse them; the type prefix catches an ID of one type passed where another is expected.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{AppError, AppResult};

pub fn encode(type_name: &str, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}")))
}

pub fn decode(type_name: &str, field: &str, id: &ID) -> AppResult<i64> {
    let bad = || AppError::invalid(field, format!("not a {type_name} ID"));
    let bytes = URL_SAFE_NO_PAD.decode(id.as_str()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (prefix, number) = text.split_once(':').ok_or_else(bad)?;
    if prefix != type_name {
        return Err(bad());
    }
    number.parse().map_err(|_| bad())
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
