//! Phone numbers in E.164, the key of a client: every Romanian spelling of a number maps to one key.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// Nothing was given.
    #[error("the phone number is empty")]
    Empty,
    /// A character that no way of writing a phone number uses.
    #[error(
        "the phone number contains {0:?}, which is not a digit, space, '-', '.', '/', '(' or ')'"
    )]
    InvalidCharacter(char),
    /// A '+' somewhere other than at the start.
    #[error("'+' may only stand at the start of a phone number")]
    MisplacedPlus,
    /// A Romanian number has 9 digits after the leading 0 (or after +40).
    #[error("a Romanian number has 10 digits starting with 0 (07xx xxx xxx), got {digits} digits")]
    RomanianLength { digits: usize },
    /// The digit after the 0 (or +40) is not one Romanian numbering uses for callers.
    #[error("a Romanian number starts with 02, 03 or 07, got 0{0}")]
    RomanianPrefix(char),
    /// An international number has 8 to 15 digits including the country code.
    #[error("an international number has 8 to 15 digits after '+' or '00', got {digits}")]
    InternationalLength { digits: usize },
    /// Digits that fit no form: not 0…, 40…, 0040… or +….
    #[error("write the number as 07xx xxx xxx or +40 7xx xxx xxx")]
    Unrecognised,
}

/// A phone number in E.164 (`+40722123456`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneE164(String);

impl PhoneE164 {
    /// Parses a phone number as a Romanian caller or keyboard writes it.
    ///
    /// `0722 123 456`, `0722-123-456`, `+40 722 123 456`, `0040722123456` and
    /// `40722123456` all give `+40722123456`. Foreign numbers are accepted in
    /// international form only (`+44…`, `0044…`), since a caller ID can be foreign.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PhoneError::Empty);
        }
        let mut digits = String::with_capacity(16);
        let mut plus = false;
        for (i, c) in input.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => plus = true,
                '+' => return Err(PhoneError::MisplacedPlus),
                ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}' => {}
                other => return Err(PhoneError::InvalidCharacter(other)),
            }
        }
        if digits.is_empty() {
            return Err(PhoneError::Empty);
        }
        let international = if plus {
            Some(digits.as_str())
        } else {
            digits.strip_prefix("00")
        };
        match international {
            Some(rest) => match rest.strip_prefix("40") {
                // "+40 (0)722 …" is a common way to write it: drop the trunk 0.
                Some(national) => Self::romanian(national.strip_prefix('0').unwrap_or(national)),
                None => Self::foreign(rest),
            },
            None => {
                if let Some(national) = digits.strip_prefix('0') {
                    Self::romanian(national)
                } else if digits.len() == 11 && digits.starts_with("40") {
                    Self::romanian(&digits[2..])
                } else {
                    Err(PhoneError::Unrecognised)
                }
            }
        }
    }

    fn romanian(national: &str) -> Result<Self, PhoneError> {
        if national.len() != 9 {
            return Err(PhoneError::RomanianLength {
                digits: national.len() + 1,
            });
        }
        let first = national.chars().next().unwrap_or('0');
        if !matches!(first, '2' | '3' | '7') {
            return Err(PhoneError::RomanianPrefix(first));
        }
        Ok(Self(format!("+40{national}")))
    }

    fn foreign(digits: &str) -> Result<Self, PhoneError> {
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(PhoneError::InternationalLength {
                digits: digits.len(),
            });
        }
        Ok(Self(format!("+{digits}")))
    }

    /// Returns the E.164 form, `+40722123456`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns whether the number is Romanian (+40).
    pub fn is_romanian(&self) -> bool {
        self.0.starts_with("+40")
    }

    /// Returns the number as Romanians write it at home (`0722 123 456`), or E.164 for a foreign one.
    pub fn national(&self) -> String {
        match self.0.strip_prefix("+40") {
            Some(n) if n.starts_with("21") || n.starts_with("31") => {
                format!("0{} {} {} {}", &n[..2], &n[2..5], &n[5..7], &n[7..])
            }
            Some(n) => format!("0{} {} {}", &n[..3], &n[3..6], &n[6..]),
            None => self.0.clone(),
        }
    }
}

/// The words Twilio and carriers put in `From` when the caller withheld their number.
const WITHHELD: [&str; 7] = [
    "anonymous",
    "restricted",
    "unavailable",
    "blocked",
    "unknown",
    "private",
    "withheld",
];

/// Spells a word on a phone keypad (`anonymous` → `266696687`).
fn keypad(word: &str) -> String {
    word.chars()
        .filter_map(|c| {
            Some(match c.to_ascii_lowercase() {
                'a'..='c' => '2',
                'd'..='f' => '3',
                'g'..='i' => '4',
                'j'..='l' => '5',
                'm'..='o' => '6',
                'p'..='s' => '7',
                't'..='v' => '8',
                'w'..='z' => '9',
                _ => return None,
            })
        })
        .collect()
}

/// Returns the caller's number from Twilio's `From`, or `None` when there is no caller ID.
///
/// A withheld number comes as a word (`anonymous`, `Restricted`, …) or as that word spelled on
/// a keypad in E.164 form (`+266696687` is ANONYMOUS, `+7378742833` RESTRICTED,
/// `+86282452253` UNAVAILABLE). Some of those spellings parse as foreign numbers, and every
/// caller behind one would share a client record: they are no caller ID, never a client key.
pub fn caller_id(twilio_from: &str) -> Option<PhoneE164> {
    let raw = twilio_from.trim();
    let lower = raw.to_ascii_lowercase();
    if WITHHELD.iter().any(|w| lower.contains(w)) {
        return None;
    }
    let phone = PhoneE164::parse(raw).ok()?;
    // The number as parsed, so every spelling of a keypad word (`+94844353`, `0094844353`) is
    // caught, and a caller ID is a caller ID again when it comes back as `From`.
    let digits = &phone.as_str()[1..];
    if WITHHELD.iter().any(|w| digits == keypad(w)) {
        return None;
    }
    Some(phone)
}

impl TryFrom<String> for PhoneE164 {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PhoneE164> for String {
    fn from(p: PhoneE164) -> String {
        p.0
    }
}

impl fmt::Display for PhoneE164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_romanian_spelling_gives_one_key() {
        for s in [
            "0722 123 456",
            "0722-123-456",
            "0722.123.456",
            "0722123456",
            "+40 722 123 456",
            "+40722123456",
            "+40 (0)722 123 456",
            "0040722123456",
            "0040 722 123 456",
            "40722123456",
            "  0722 123 456 ",
        ] {
            assert_eq!(PhoneE164::parse(s).unwrap().as_str(), "+40722123456", "{s}");
        }
    }

    #[test]
    fn landlines_are_romanian_numbers_too() {
        let p = PhoneE164::parse("021 312 34 56").unwrap();
        assert_eq!(p.as_str(), "+40213123456");
        assert_eq!(p.national(), "021 312 34 56");
        assert_eq!(
            PhoneE164::parse("0264 123 456").unwrap().national(),
            "0264 123 456"
        );
    }

    #[test]
    fn foreign_numbers_are_kept_in_international_form() {
        assert_eq!(
            PhoneE164::parse("+44 20 7946 0958").unwrap().as_str(),
            "+442079460958"
        );
        assert_eq!(
            PhoneE164::parse("0049301234567").unwrap().as_str(),
            "+49301234567"
        );
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        assert_eq!(PhoneE164::parse(""), Err(PhoneError::Empty));
        assert_eq!(PhoneE164::parse("  "), Err(PhoneError::Empty));
        assert_eq!(
            PhoneE164::parse("0722 12345"),
            Err(PhoneError::RomanianLength { digits: 9 })
        );
        assert_eq!(
            PhoneE164::parse("07221234567"),
            Err(PhoneError::RomanianLength { digits: 11 })
        );
        assert_eq!(
            PhoneE164::parse("0922 123 456"),
            Err(PhoneError::RomanianPrefix('9'))
        );
        assert_eq!(
            PhoneE164::parse("0722a23456"),
            Err(PhoneError::InvalidCharacter('a'))
        );
        assert_eq!(
            PhoneE164::parse("07+22123456"),
            Err(PhoneError::MisplacedPlus)
        );
        assert_eq!(PhoneE164::parse("722123456"), Err(PhoneError::Unrecognised));
        assert_eq!(
            PhoneE164::parse("+1234"),
            Err(PhoneError::InternationalLength { digits: 4 })
        );
        assert!(PhoneE164::parse("anonymous").is_err());
    }

    #[test]
    fn withheld_caller_ids_are_no_caller_id_in_every_form() {
        for from in [
            "anonymous",
            "Anonymous",
            "ANONYMOUS",
            "restricted",
            "Restricted",
            "unavailable",
            "blocked",
            "unknown",
            "private",
            "withheld",
            "+266696687",
            "266696687",
            "+7378742833",
            "+86282452253",
            "+2562533",
            "+8656696",
            "+7748283",
            "+94844353",
            // Found by fuzzing: WITHHELD dialled as 00…, once a foreign caller ID.
            "0094844353",
            "00 266 696 687",
            "client:anonymous",
            "sip:unknown@example.com",
            "",
            "   ",
        ] {
            assert_eq!(caller_id(from), None, "{from:?}");
        }
        // The keypad spellings that parse as foreign numbers are the dangerous ones.
        assert!(PhoneE164::parse("+266696687").is_ok());
        assert!(PhoneE164::parse("+7378742833").is_ok());
        assert!(PhoneE164::parse("+86282452253").is_ok());
    }

    #[test]
    fn real_caller_ids_pass_through() {
        assert_eq!(
            caller_id("+40722123456").map(String::from),
            Some("+40722123456".to_owned())
        );
        assert_eq!(
            caller_id(" +44 20 7946 0958 ").map(String::from),
            Some("+442079460958".to_owned())
        );
        assert_eq!(keypad("anonymous"), "266696687");
        assert_eq!(keypad("unavailable"), "86282452253");
    }

    #[test]
    fn serde_parses_and_refuses() {
        let p: PhoneE164 = serde_json::from_str("\"0722 123 456\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"+40722123456\"");
        assert!(serde_json::from_str::<PhoneE164>("\"12\"").is_err());
    }
}
