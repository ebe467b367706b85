//! Command-line and config-file parsing shared by the commands.
//!
//! Counts are read in integer-valued scientific notation (`1e4`), and anything named twice is
//! refused.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Parses `--method`: flow, gd, both-flow or both-gd.
pub fn parse_method(s: &str) -> Result<train::Method, String> {
    train::Method::parse(s).map_err(|e| e.to_string())
}

/// Parses `--solver`: auto, full or reduced.
pub fn parse_solver(s: &str) -> Result<train::Solver, String> {
    match s {
        "auto" => Ok(train::Solver::Auto),
        "full" => Ok(train::Solver::Full),
        "reduced" => Ok(train::Solver::Reduced),
        other => Err(format!("solver {other:?}: expected one of \"auto\", \"full\", \"reduced\"")),
    }
}

/// Parses a count: a plain integer (`10000`) or integer-valued scientific notation (`1e4`, `2.5E3`).
/// A value that is not a whole number, is negative, or does not fit a u64 is refused by name.
pub fn parse_count(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if let Ok(v) = t.parse::<u64>() {
        return Ok(v);
    }
    if t.contains(['e', 'E'])
        && let Ok(v) = t.parse::<f64>()
    {
        if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 18_446_744_073_709_551_616.0 {
            return Ok(v as u64);
        }
        return Err(format!("{s} is not a whole number that fits a 64-bit count"));
    }
    Err(format!("{s} is not a count: give a whole number such as 1000 or 1e3"))
}

/// [`parse_count`] for a `usize` (widths).
pub fn parse_usize_count(s: &str) -> Result<usize, String> {
    let v = parse_count(s)?;
    usize::try_from(v).map_err(|_| format!("{s} does not fit this machine's word size"))
}

/// The first item named twice in `items`, if any.
pub fn first_repeated<T: PartialEq + Clone>(items: &[T]) -> Option<T> {
    // i is an enumerate() index of items, ≤ len.
    items.iter().enumerate().find(|(i, x)| items[..*i].contains(x)).map(|(_, x)| x.clone())
}

/// The first key repeated inside one JSON object of `text`, with its path (e.g. `"lem-2.2"."seeds"`),
/// or `None`. serde_json keeps the last value of a repeated key silently; a config file must not.
/// Text that is not JSON gives `None` (the caller's own parse then names the problem).
pub fn json_repeated_key(text: &str) -> Option<String> {
    let found = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let _ = Walk { path: String::new(), found: &found }.deserialize(&mut de);
    found.into_inner()
}

struct Walk<'a> {
    path: String,
    found: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while seq.next_element_seed(Walk { path: format!("{}[{i}]", self.path), found: self.found })?.is_some() {
            i += 1;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() { format!("\"{key}\"") } else { format!("{}.\"{key}\"", self.path) };
            if !seen.insert(key) && self.found.borrow().is_none() {
                *self.found.borrow_mut() = Some(path.clone());
            }
            map.next_value_seed(Walk { path, found: self.found })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accept_integer_scientific_notation_only() {
        assert_eq!(parse_count("10000"), Ok(10000));
        assert_eq!(parse_count("1e4"), Ok(10000));
        assert_eq!(parse_count("2.5E3"), Ok(2500));
        assert!(parse_count("1.5").unwrap_err().contains("not a count"));
        assert!(parse_count("1e-3").unwrap_err().contains("whole number"));
        assert!(parse_count("1e30").unwrap_err().contains("fits"));
        assert!(parse_count("-1e3").unwrap_err().contains("whole number"));
    }

    #[test]
    fn repeated_keys_and_items_are_found_with_their_path() {
        assert_eq!(json_repeated_key(r#"{"a": {"seeds": 1, "seeds": 2}}"#), Some("\"a\".\"seeds\"".into()));
        assert_eq!(json_repeated_key(r#"{"a": {}, "b": [{"x": 1}], "a": {}}"#), Some("\"a\"".into()));
        assert_eq!(json_repeated_key(r#"{"a": {"x": 1}, "b": {"x": 1}}"#), None);
        assert_eq!(first_repeated(&[1, 2, 3, 2]), Some(2));
        assert_eq!(first_repeated(&[1, 2, 3]), None);
    }
}
