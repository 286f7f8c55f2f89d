//! multipart/form-data bodies as Lever accepts them: one part per array element
//! (`emails[]`, `files[]`), nested values in bracket syntax (`archived[reason]`,
//! `phones[0][value]`), files as parts with a filename.

use axum::extract::{FromRequest, Multipart, Request};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::state::StoredFile;

pub struct Form {
    /// Non-file fields folded into a JSON object shaped like the JSON body.
    pub fields: Value,
    /// `(field name, file)` for every part that carried a filename.
    pub files: Vec<(String, StoredFile)>,
}

pub fn is_multipart(req: &Request) -> bool {
    req.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("multipart/form-data"))
}

pub async fn read(req: Request, now_ms: i64) -> ApiResult<Form> {
    let mut mp = Multipart::from_request(req, &()).await.map_err(|e| ApiError::bad_request(format!("Invalid multipart body: {e}")))?;
    let mut fields = Map::new();
    let mut files = vec![];
    while let Some(part) = mp.next_field().await.map_err(|e| ApiError::bad_request(format!("Invalid multipart body: {e}")))? {
        let name = part.name().unwrap_or("").to_string();
        if let Some(filename) = part.file_name().map(str::to_string) {
            let content_type = part.content_type().map(str::to_string);
            let bytes = part.bytes().await.map_err(|e| ApiError::bad_request(format!("Invalid file part: {e}")))?;
            if bytes.len() > 30 * 1024 * 1024 {
                return Err(ApiError::new(http::StatusCode::PAYLOAD_TOO_LARGE, "RequestTooLarge", "Files are limited to 30 MB"));
            }
            files.push((name, stored_file(&filename, content_type, bytes.to_vec(), now_ms)));
        } else {
            let text = part.text().await.map_err(|e| ApiError::bad_request(format!("Invalid text part: {e}")))?;
            insert(&mut fields, &name, text);
        }
    }
    Ok(Form { fields: Value::Object(fields), files })
}

pub fn stored_file(filename: &str, content_type: Option<String>, bytes: Vec<u8>, now_ms: i64) -> StoredFile {
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    StoredFile {
        id: uuid::Uuid::new_v4().to_string(),
        name: filename.to_string(),
        ext,
        content_type,
        size: bytes.len(),
        bytes,
        uploaded_at: now_ms,
        processed_at: now_ms,
    }
}

/// Folds `a`, `a[]`, `a[b]`, `a[0][b]`, `a[][b]` into `obj`.
fn insert(obj: &mut Map<String, Value>, name: &str, value: String) {
    let (base, rest) = match name.find('[') {
        Some(i) => (&name[..i], &name[i..]),
        None => (name, ""),
    };
    let keys: Vec<&str> = rest.trim_start_matches('[').trim_end_matches(']').split("][").filter(|_| !rest.is_empty()).collect();
    match keys.as_slice() {
        // A plain name sent more than once is a list too (`emails=a&emails=b`).
        [] if obj.contains_key(base) => push(obj, base, Value::String(value)),
        [] => {
            obj.insert(base.to_string(), Value::String(value));
        }
        [""] => push(obj, base, Value::String(value)),
        [idx, field] if idx.is_empty() || idx.parse::<usize>().is_ok() => {
            let arr = obj.entry(base.to_string()).or_insert_with(|| Value::Array(vec![]));
            if !arr.is_array() {
                *arr = Value::Array(vec![]);
            }
            let a = arr.as_array_mut().expect("made an array above");
            let pos = if idx.is_empty() {
                // `a[][field]`: start a new element when this field is already set.
                match a.last() {
                    Some(Value::Object(m)) if !m.contains_key(*field) => a.len() - 1,
                    _ => {
                        a.push(Value::Object(Map::new()));
                        a.len() - 1
                    }
                }
            } else {
                let i: usize = idx.parse().unwrap_or(0).min(1000);
                while a.len() <= i {
                    a.push(Value::Object(Map::new()));
                }
                i
            };
            if let Value::Object(m) = &mut a[pos] {
                m.insert(field.to_string(), Value::String(value));
            }
        }
        [field] => {
            let o = obj.entry(base.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = o {
                m.insert(field.to_string(), Value::String(value));
            }
        }
        _ => {
            obj.insert(name.to_string(), Value::String(value));
        }
    }
}

fn push(obj: &mut Map<String, Value>, key: &str, v: Value) {
    let e = obj.entry(key.to_string()).or_insert_with(|| Value::Array(vec![]));
    match e {
        Value::Array(a) => a.push(v),
        other => {
            let prev = other.take();
            *other = Value::Array(vec![prev, v]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_brackets() {
        let mut m = Map::new();
        insert(&mut m, "emails[]", "a@x".into());
        insert(&mut m, "emails[]", "b@x".into());
        insert(&mut m, "archived[reason]", "r".into());
        insert(&mut m, "phones[0][value]", "1".into());
        insert(&mut m, "phones[0][type]", "mobile".into());
        insert(&mut m, "name", "N".into());
        insert(&mut m, "links", "l1".into());
        insert(&mut m, "links", "l2".into());
        let v = Value::Object(m);
        assert_eq!(v["emails"], serde_json::json!(["a@x", "b@x"]));
        assert_eq!(v["archived"]["reason"], "r");
        assert_eq!(v["phones"][0]["type"], "mobile");
        assert_eq!(v["name"], "N");
        assert_eq!(v["links"], serde_json::json!(["l1", "l2"]));
    }
}
