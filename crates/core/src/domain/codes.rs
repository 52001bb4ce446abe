//! Natural keys that can only hold valid values: parse at the edge, trust inside.
//!
//! - Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters, the last a
//!   check character computed over the first 17.
//! - Permit number per HJ 608: the unit's credit code + 3-digit sequence + `P`.
//! - Registration number (排污登记编号): the credit code + 3-digit sequence + `W`.
//! - District code: 6 digits (GB/T 2260, or one of the management-area codes we assign).

use std::fmt;

/// The 31 symbols of GB 32100 (no I, O, S, V, Z), in value order.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Why a code was refused; rendered into a `BAD_USER_INPUT` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("must be {expected} characters, got {got}")]
    Length { expected: usize, got: usize },
    #[error("character '{0}' is not allowed (GB 32100 excludes I, O, S, V, Z)")]
    Character(char),
    #[error("check character is '{got}', expected '{expected}' (GB 32100)")]
    CheckCharacter { got: char, expected: char },
    #[error("{0}")]
    Format(&'static str),
}

fn symbol_value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// Computes the GB 32100 check character for the first 17 characters.
pub fn credit_code_check_char(first17: &str) -> Result<char, CodeError> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return Err(CodeError::Length {
            expected: 17,
            got: first17.chars().count(),
        });
    }
    let mut sum = 0u32;
    for (i, &b) in bytes.iter().enumerate() {
        let v = symbol_value(b).ok_or(CodeError::Character(b as char))?;
        sum += v * WEIGHTS[i];
    }
    let check = (31 - sum % 31) % 31;
    Ok(ALPHABET[check as usize] as char)
}

/// A unified social credit code whose check character has been verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

impl CreditCode {
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let code = input.trim().to_ascii_uppercase();
        let len = code.chars().count();
        if len != 18 || code.len() != 18 {
            return Err(CodeError::Length {
                expected: 18,
                got: len,
            });
        }
        if let Some(c) = code.bytes().find(|b| symbol_value(*b).is_none()) {
            return Err(CodeError::Character(c as char));
        }
        let expected = credit_code_check_char(&code[..17])?;
        let got = code.as_bytes()[17] as char;
        if got != expected {
            return Err(CodeError::CheckCharacter { got, expected });
        }
        Ok(Self(code))
    }

    /// Completes 17 characters with their check character (used by the demo seed).
    pub fn complete(first17: &str) -> Result<Self, CodeError> {
        let check = credit_code_check_char(first17)?;
        Self::parse(&format!("{first17}{check}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Permit number per HJ 608: credit code + 3-digit sequence + `P`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PermitNumber {
    value: String,
}

impl PermitNumber {
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let value = input.trim().to_ascii_uppercase();
        let len = value.chars().count();
        if len != 22 || value.len() != 22 {
            return Err(CodeError::Length {
                expected: 22,
                got: len,
            });
        }
        CreditCode::parse(&value[..18])?;
        if !value[18..21].bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::Format(
                "characters 19-21 must be a 3-digit sequence",
            ));
        }
        if &value[21..] != "P" {
            return Err(CodeError::Format("a permit number ends in 'P' (HJ 608)"));
        }
        Ok(Self { value })
    }

    pub fn new(unit: &CreditCode, sequence: u16) -> Result<Self, CodeError> {
        if !(1..=999).contains(&sequence) {
            return Err(CodeError::Format("permit sequence must be 001-999"));
        }
        Self::parse(&format!("{unit}{sequence:03}P"))
    }

    pub fn credit_code(&self) -> &str {
        &self.value[..18]
    }

    pub fn sequence(&self) -> u16 {
        self.value[18..21].parse().unwrap_or(0)
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for PermitNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// Registration number of a REGISTRATION-tier unit: credit code + 3-digit sequence + `W`.
pub fn registration_number(unit: &CreditCode, sequence: u16) -> String {
    format!("{unit}{sequence:03}W")
}

/// A 6-digit district code. Whether it names a known district is checked against the table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DistrictCode(String);

impl DistrictCode {
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let code = input.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::Format("a district code is 6 digits (GB/T 2260)"));
        }
        Ok(Self(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DistrictCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Outlet code: `DA###` (air) or `DW###` (water).
pub fn parse_outlet_code(input: &str) -> Result<(String, OutletMediumCode), CodeError> {
    let code = input.trim().to_ascii_uppercase();
    let medium = match code.get(..2) {
        Some("DA") => OutletMediumCode::Air,
        Some("DW") => OutletMediumCode::Water,
        _ => {
            return Err(CodeError::Format(
                "an outlet code is DA### (air) or DW### (water)",
            ));
        }
    };
    if code.len() != 5 || !code[2..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeError::Format(
            "an outlet code is DA### (air) or DW### (water)",
        ));
    }
    Ok((code, medium))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutletMediumCode {
    Air,
    Water,
}

/// GB/T 4754 industry code: section letter, then 2-4 digits (e.g. `C2614`).
pub fn parse_industry_code(input: &str) -> Result<String, CodeError> {
    let code = input.trim().to_ascii_uppercase();
    let mut chars = code.chars();
    let section_ok = chars.next().is_some_and(|c| ('A'..='T').contains(&c));
    let digits: Vec<char> = chars.collect();
    if !section_ok || !(2..=4).contains(&digits.len()) || !digits.iter().all(char::is_ascii_digit) {
        return Err(CodeError::Format(
            "an industry code is a GB/T 4754 section letter and 2-4 digits, e.g. C2614",
        ));
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brief_example_is_valid() {
        assert!(CreditCode::parse("91130200699229617X").is_ok());
        assert!(CreditCode::parse("91130200699229617x").is_ok());
    }

    #[test]
    fn wrong_check_character_is_refused() {
        assert_eq!(
            CreditCode::parse("911302006992296170"),
            Err(CodeError::CheckCharacter {
                got: '0',
                expected: 'X'
            })
        );
        assert!(matches!(
            CreditCode::parse("91130200699229617"),
            Err(CodeError::Length { .. })
        ));
        assert!(matches!(
            CreditCode::parse("9113020069922961IX"),
            Err(CodeError::Character('I'))
        ));
        assert!(matches!(
            CreditCode::parse("9113020069922961中X"),
            Err(CodeError::Length { .. })
        ));
    }

    #[test]
    fn complete_appends_a_valid_check() {
        let code = CreditCode::complete("91130200699229617").expect("valid");
        assert_eq!(code.as_str(), "91130200699229617X");
    }

    #[test]
    fn permit_numbers_follow_hj_608() {
        let n = PermitNumber::parse("91130200699229617X001P").expect("valid");
        assert_eq!(n.credit_code(), "91130200699229617X");
        assert_eq!(n.sequence(), 1);
        assert!(PermitNumber::parse("91130200699229617X001Q").is_err());
        assert!(PermitNumber::parse("91130200699229617Y001P").is_err());
        assert!(PermitNumber::parse("91130200699229617X0A1P").is_err());
    }

    #[test]
    fn outlet_and_industry_codes() {
        assert_eq!(
            parse_outlet_code("da001").map(|c| c.1),
            Ok(OutletMediumCode::Air)
        );
        assert!(parse_outlet_code("DX001").is_err());
        assert!(parse_outlet_code("DW01").is_err());
        assert_eq!(parse_industry_code("c2614").as_deref(), Ok("C2614"));
        assert!(parse_industry_code("2614").is_err());
    }
}
