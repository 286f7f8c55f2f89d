//! Tolerant readers for Lever's wire format: timestamps as numbers or strings, `null` where a list
//! or object was expected, ids that become objects under `expand=`.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Milliseconds since the Unix epoch. Reads integers, floats, numeric strings and RFC 3339
/// strings (Lever's docs show some timestamps as strings; the wire uses integers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub i64);

impl Millis {
    pub fn as_i64(self) -> i64 {
        self.0
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Millis;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a timestamp in ms (number or string)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Millis, E> {
                Ok(Millis(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Millis, E> {
                i64::try_from(v).map(Millis).map_err(|_| E::custom("timestamp out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Millis, E> {
                if v.is_finite() { Ok(Millis(v as i64)) } else { Err(E::custom("timestamp not finite")) }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Millis, E> {
                parse_millis_str(v).ok_or_else(|| E::custom("unparseable timestamp string"))
            }
        }
        d.deserialize_any(V)
    }
}

fn parse_millis_str(v: &str) -> Option<Millis> {
    let v = v.trim();
    if let Ok(n) = v.parse::<i64>() {
        return Some(Millis(n));
    }
    if let Ok(f) = v.parse::<f64>() {
        return f.is_finite().then_some(Millis(f as i64));
    }
    let t = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).ok()?;
    Some(Millis((t.unix_timestamp_nanos() / 1_000_000) as i64))
}

/// `null` or a missing field reads as the type's default (an empty list, an empty object).
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A number that may arrive as a JSON number or a numeric string (file `size` in the docs).
pub(crate) fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        U(u64),
        F(f64),
        S(String),
    }
    Ok(match Option::<N>::deserialize(d)? {
        None => None,
        Some(N::U(u)) => Some(u),
        Some(N::F(f)) => Some(f as u64),
        Some(N::S(s)) => s.trim().parse().ok(),
    })
}

/// A reference that is an id by default and the full object under `expand=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Expandable<T> {
    Id(String),
    Expanded(T),
}

/// Objects that carry their own id, so an [`Expandable`] can always answer `id()`.
pub trait HasId {
    fn id(&self) -> &str;
}

impl<T: HasId> Expandable<T> {
    pub fn id(&self) -> &str {
        match self {
            Expandable::Id(id) => id,
            Expandable::Expanded(t) => t.id(),
        }
    }

    pub fn expanded(&self) -> Option<&T> {
        match self {
            Expandable::Id(_) => None,
            Expandable::Expanded(t) => Some(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_reads_numbers_and_strings() {
        let v: Vec<Millis> = serde_json::from_str(r#"[1407460071043, "1407460071043", 1407460071043.0, "2014-08-08T01:07:51.043Z"]"#).unwrap();
        assert!(v.iter().all(|m| m.0 == 1_407_460_071_043), "{v:?}");
        assert!(serde_json::from_str::<Millis>(r#""yesterday""#).is_err());
    }
}
