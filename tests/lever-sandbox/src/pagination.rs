//! Lever-style cursor pagination. A page's `next` is the URL-encoded JSON array
//! `[rank, timestamp, "id"]` of its last item (the shape seen on the wire, e.g.
//! `%5B3%2C1491435120000%2C%22<uuid>%22%5D`); the next page starts after that key.
//! The last page has `hasNext: false` and no `next` key at all.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::respond::Query;

/// Sort key of one list item: rank ascending, then timestamp descending, then id.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub rank: f64,
    pub ts: i64,
    pub id: String,
}

impl Key {
    fn after(&self, cursor: &Key) -> bool {
        use std::cmp::Ordering::*;
        match self.rank.partial_cmp(&cursor.rank).unwrap_or(Equal) {
            Greater => true,
            Less => false,
            Equal => match cursor.ts.cmp(&self.ts) {
                Greater => true,
                Less => false,
                Equal => self.id > cursor.id,
            },
        }
    }
}

pub fn sort<T>(items: &mut [(Key, T)]) {
    items.sort_by(|(a, _), (b, _)| a.rank.partial_cmp(&b.rank).unwrap_or(std::cmp::Ordering::Equal).then(b.ts.cmp(&a.ts)).then(a.id.cmp(&b.id)));
}

const INVALID_OFFSET: &str = "Invalid offset token: Offset token is invalid for sort";

pub fn encode(k: &Key) -> String {
    let rank = if k.rank.fract() == 0.0 { json!(k.rank as i64) } else { json!(k.rank) };
    let raw = json!([rank, k.ts, k.id]).to_string();
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

pub fn decode(token: &str) -> Result<Key, ApiError> {
    // Clients send the token verbatim, so the query parser has already undone one
    // level of encoding; a client that re-encoded it leaves another level behind.
    let mut s = token.to_string();
    for _ in 0..2 {
        if s.starts_with('%') {
            s = url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default();
        }
    }
    let v: Value = serde_json::from_str(&s).map_err(|_| ApiError::bad_request(INVALID_OFFSET))?;
    match v.as_array().map(|a| a.as_slice()) {
        Some([Value::Number(r), Value::Number(t), Value::String(id)]) => Ok(Key {
            rank: r.as_f64().ok_or_else(|| ApiError::bad_request(INVALID_OFFSET))?,
            ts: t.as_i64().ok_or_else(|| ApiError::bad_request(INVALID_OFFSET))?,
            id: id.clone(),
        }),
        _ => Err(ApiError::bad_request(INVALID_OFFSET)),
    }
}

pub fn limit(q: &Query) -> Result<usize, ApiError> {
    match q.get("limit") {
        None => Ok(100),
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!("Invalid limit {l}: must be an integer between 1 and 100"))),
        },
    }
}

/// One page of an already-filtered list, as Lever's envelope.
pub fn page(items: Vec<(Key, Value)>, q: &Query) -> Result<Value, ApiError> {
    page_by(items, q, |v| v.clone())
}

/// Like [`page`], but renders only the items on the page: listing 10,000
/// postings 100 at a time sorts keys each time and renders 100, not 10,000.
pub fn page_by<T>(mut items: Vec<(Key, T)>, q: &Query, render: impl Fn(&T) -> Value) -> Result<Value, ApiError> {
    let limit = limit(q)?;
    sort(&mut items);
    let start = match q.get("offset").filter(|o| !o.is_empty()) {
        None => 0,
        Some(tok) => {
            let k = decode(tok)?;
            // Sorted, so the first item after the cursor is found by bisection.
            items.partition_point(|(ik, _)| !ik.after(&k))
        }
    };
    let rest = &items[start..];
    let take = rest.len().min(limit);
    let data: Vec<Value> = rest[..take].iter().map(|(_, v)| render(v)).collect();
    if rest.len() > take {
        let next = encode(&rest[take - 1].0);
        Ok(json!({"data": data, "hasNext": true, "next": next}))
    } else {
        Ok(json!({"data": data, "hasNext": false}))
    }
}

/// For fixed-order lists (stages, archive reasons): rank is the position.
pub fn positional(values: Vec<(String, Value)>) -> Vec<(Key, Value)> {
    values.into_iter().enumerate().map(|(i, (id, v))| (Key { rank: i as f64, ts: 0, id }, v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_roundtrip_matches_lever_encoding() {
        let k = Key { rank: 3.0, ts: 1491435120000, id: "5599cc20-349f-4b60-b531-6fe31e329717".into() };
        let t = encode(&k);
        assert_eq!(t, "%5B3%2C1491435120000%2C%225599cc20-349f-4b60-b531-6fe31e329717%22%5D");
        // The server sees it after one level of query decoding.
        let decoded: String = url::form_urlencoded::parse(format!("o={t}").as_bytes()).next().unwrap().1.into_owned();
        assert_eq!(decode(&decoded).unwrap(), k);
        assert_eq!(decode(&t).unwrap(), k);
        assert!(decode("garbage").is_err());
        assert!(decode("[1,2]").is_err());
    }
}
