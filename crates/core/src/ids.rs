//! Opaque IDs (CONTRACT: "IDs are opaque strings"): base64 of `Type:number`. Clients must not
//! parse them; the type prefix catches an ID of one type passed where another is expected.
//! The GraphQL layer, exports and the change-feed export all speak this one format.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{AppError, AppResult};

pub fn encode(type_name: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}"))
}

/// The number inside an ID of `type_name`; anything else is `BAD_USER_INPUT` on `field`.
pub fn decode(type_name: &str, field: &str, id: &str) -> AppResult<i64> {
    let bad = || AppError::invalid(field, format!("not a {type_name} ID"));
    let bytes = URL_SAFE_NO_PAD.decode(id).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (prefix, number) = text.split_once(':').ok_or_else(bad)?;
    if prefix != type_name {
        return Err(bad());
    }
    number.parse().map_err(|_| bad())
}
