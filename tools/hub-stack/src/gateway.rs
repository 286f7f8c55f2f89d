//! API Gateway's HTTP API in front of the functions: the template's routes (`Method` + `Path`
//! of every `HttpApi` event, `$default` last), chosen as API Gateway chooses (the most specific
//! path, an exact method over `ANY`, a greedy `{proxy+}` after fixed segments), each request
//! sent as a payload format 2.0 event (stage `$default`, `requestContext`, `cookies`, base64
//! bodies) and each answer turned back into HTTP. A request no route takes is API Gateway's
//! own 404 `{"message":"Not Found"}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crate::runtime::{FunctionHost, Outcome};

/// HTTP API's payload limit (10 MB); Lambda's synchronous invocation takes 6 MB.
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;
const MAX_INVOKE_BYTES: usize = 6 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub function: String,
}

impl Route {
    pub fn key(&self) -> String {
        if self.path == "$default" { "$default".into() } else { format!("{} {}", self.method, self.path) }
    }
}

/// A route's match: how specific it is, and the path parameters it binds.
struct Match {
    rank: (u8, usize, usize, u8),
    parameters: BTreeMap<String, String>,
}

fn matches(route: &Route, method: &str, path: &str) -> Option<Match> {
    let method_rank = match route.method.as_str() {
        m if m == method => 1,
        "ANY" => 0,
        _ => return None,
    };
    if route.path == "$default" {
        return Some(Match { rank: (0, 0, 0, method_rank), parameters: BTreeMap::new() });
    }
    let want: Vec<&str> = route.path.trim_start_matches('/').split('/').collect();
    let got: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut parameters = BTreeMap::new();
    let mut literal = 0;
    for (i, segment) in want.iter().enumerate() {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
            let rest = got.get(i..).filter(|r| !r.is_empty() && !r[0].is_empty())?;
            parameters.insert(name.to_owned(), rest.join("/"));
            return Some(Match { rank: (1, literal, i, method_rank), parameters });
        }
        let value = got.get(i)?;
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if value.is_empty() {
                return None;
            }
            parameters.insert(name.to_owned(), (*value).to_owned());
        } else if segment != value {
            return None;
        } else {
            literal += 1;
        }
    }
    (want.len() == got.len()).then_some(Match { rank: (2, literal, want.len(), method_rank), parameters })
}

/// The route API Gateway picks for a request, and its path parameters.
pub fn route<'r>(routes: &'r [Route], method: &str, path: &str) -> Option<(&'r Route, BTreeMap<String, String>)> {
    routes.iter().filter_map(|r| matches(r, method, path).map(|m| (r, m))).max_by_key(|(_, m)| m.rank).map(|(r, m)| (r, m.parameters))
}

pub struct Gateway {
    pub routes: Vec<Route>,
    pub functions: BTreeMap<String, Arc<FunctionHost>>,
    pub domain: String,
}

fn is_text(headers: &HeaderMap) -> bool {
    let kind = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    kind.starts_with("text/") || kind.contains("json") || kind.contains("x-www-form-urlencoded") || kind.contains("xml") || kind.contains("yaml")
}

fn gateway_answer(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "message": message }))).into_response()
}

/// One HTTP request as API Gateway receives it.
pub struct Incoming {
    pub method: Method,
    pub uri: axum::http::Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The client's address (`requestContext.http.sourceIp`).
    pub peer: String,
}

impl Gateway {
    /// The payload format 2.0 event for `request` on `route`.
    pub fn event(&self, route: &Route, parameters: BTreeMap<String, String>, request: &Incoming) -> serde_json::Value {
        let Incoming { method, uri, headers, body, peer } = request;
        let mut joined: BTreeMap<String, String> = BTreeMap::new();
        let mut cookies = vec![];
        for (name, value) in headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if name == "cookie" {
                cookies.extend(value.split(';').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()));
                continue;
            }
            joined.entry(name.as_str().to_owned()).and_modify(|v| *v = format!("{v},{value}")).or_insert(value);
        }
        let raw_query = uri.query().unwrap_or("").to_owned();
        let mut query: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(raw_query.as_bytes()) {
            query.entry(k.into_owned()).and_modify(|old| *old = format!("{old},{v}")).or_insert_with(|| v.into_owned());
        }
        let now = jiff::Timestamp::now();
        let request_id = base64::engine::general_purpose::STANDARD.encode(&uuid::Uuid::new_v4().as_bytes()[..11]);
        let (body_text, base64) = if body.is_empty() {
            (None, false)
        } else if is_text(headers) && std::str::from_utf8(body).is_ok() {
            (Some(String::from_utf8_lossy(body).into_owned()), false)
        } else {
            (Some(base64::engine::general_purpose::STANDARD.encode(body)), true)
        };
        let mut event = serde_json::json!({
            "version": "2.0",
            "routeKey": route.key(),
            "rawPath": uri.path(),
            "rawQueryString": raw_query,
            "headers": joined,
            "requestContext": {
                "accountId": crate::template::ACCOUNT,
                "apiId": "local",
                "domainName": self.domain,
                "domainPrefix": self.domain.split('.').next().unwrap_or_default(),
                "http": {
                    "method": method.as_str(),
                    "path": uri.path(),
                    "protocol": "HTTP/1.1",
                    "sourceIp": peer,
                    "userAgent": headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default(),
                },
                "requestId": request_id,
                "routeKey": route.key(),
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000").to_string(),
                "timeEpoch": now.as_millisecond(),
            },
            "isBase64Encoded": base64,
        });
        if !cookies.is_empty() {
            event["cookies"] = serde_json::json!(cookies);
        }
        if !query.is_empty() {
            event["queryStringParameters"] = serde_json::json!(query);
        }
        if !parameters.is_empty() {
            event["pathParameters"] = serde_json::json!(parameters);
        }
        if let Some(b) = body_text {
            event["body"] = serde_json::json!(b);
        }
        event
    }

    /// One request through API Gateway to its function and back.
    pub async fn handle(&self, request: Incoming) -> Response {
        if request.body.len() > MAX_REQUEST_BYTES {
            return gateway_answer(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
        }
        let Some((route, parameters)) = route(&self.routes, request.method.as_str(), request.uri.path()) else {
            return gateway_answer(StatusCode::NOT_FOUND, "Not Found");
        };
        let Some(function) = self.functions.get(&route.function) else {
            return gateway_answer(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        };
        let event = self.event(route, parameters, &request);
        let payload = Bytes::from(serde_json::to_vec(&event).unwrap_or_default());
        if payload.len() > MAX_INVOKE_BYTES {
            return gateway_answer(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
        }
        match function.invoke(payload).await {
            Outcome::Response(bytes) => http_response(&bytes),
            Outcome::TimedOut => gateway_answer(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
            _ => gateway_answer(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        }
    }
}

/// A function's answer in payload format 2.0: `statusCode`, `headers`, `cookies`, `body`,
/// `isBase64Encoded`; an answer without `statusCode` is a 200 JSON body, as API Gateway reads it.
fn http_response(bytes: &[u8]) -> Response {
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return gateway_answer(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let Some(status) = answer.get("statusCode").and_then(serde_json::Value::as_u64) else {
        return (StatusCode::OK, [("content-type", "application/json")], bytes.to_vec()).into_response();
    };
    let mut response = Response::builder().status(StatusCode::from_u16(status as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    if let Some(headers) = response.headers_mut() {
        for (name, value) in answer.get("headers").and_then(|h| h.as_object()).into_iter().flatten() {
            if let (Ok(n), Some(Ok(v))) = (HeaderName::try_from(name.as_str()), value.as_str().map(HeaderValue::from_str)) {
                headers.append(n, v);
            }
        }
        for (name, values) in answer.get("multiValueHeaders").and_then(|h| h.as_object()).into_iter().flatten() {
            for value in values.as_array().into_iter().flatten().filter_map(|v| v.as_str()) {
                if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value)) {
                    headers.append(n, v);
                }
            }
        }
        for cookie in answer.get("cookies").and_then(|c| c.as_array()).into_iter().flatten().filter_map(|c| c.as_str()) {
            if let Ok(v) = HeaderValue::from_str(cookie) {
                headers.append("set-cookie", v);
            }
        }
    }
    let text = answer.get("body").and_then(|b| b.as_str()).unwrap_or_default();
    let body = if answer.get("isBase64Encoded").and_then(serde_json::Value::as_bool) == Some(true) {
        base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    };
    response.body(Body::from(body)).unwrap_or_else(|_| gateway_answer(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: &str, path: &str, function: &str) -> Route {
        Route { method: method.into(), path: path.into(), function: function.into() }
    }

    #[test]
    fn the_most_specific_route_wins_and_default_comes_last() {
        let routes = vec![
            r("ANY", "/v1/{proxy+}", "api"),
            r("ANY", "$default", "api"),
            r("ANY", "/v1/connections/{id}/candidates", "candidates"),
            r("ANY", "/v1/connections/{id}/candidates/{candidate_id}", "candidates"),
            r("GET", "/connect/{state}", "oauth"),
            r("POST", "/lever/webhooks/{connection_id}", "hooks"),
        ];
        let pick = |m: &str, p: &str| route(&routes, m, p).map(|(r, params)| (r.function.clone(), params));
        let (f, params) = pick("POST", "/v1/connections/c1/candidates").unwrap();
        assert_eq!((f.as_str(), params["id"].as_str()), ("candidates", "c1"));
        assert_eq!(pick("GET", "/v1/connections/c1/candidates/s1").unwrap().1["candidate_id"], "s1");
        let (f, params) = pick("GET", "/v1/connections/c1/jobs").unwrap();
        assert_eq!((f.as_str(), params["proxy"].as_str()), ("api", "connections/c1/jobs"));
        assert_eq!(pick("GET", "/connect/abc").unwrap().0, "oauth");
        // A method the route does not take falls through to $default, as API Gateway does.
        assert_eq!(pick("POST", "/connect/abc").unwrap().0, "api");
        assert_eq!(pick("GET", "/docs").unwrap().0, "api");
        // A path no route names goes to $default.
        assert_eq!(pick("GET", "/console").unwrap().0, "api");
        assert_eq!(pick("GET", "/console/assets/0123456789abcdef/app.js").unwrap().0, "api");
        let without_default: Vec<Route> = routes.iter().filter(|r| r.path != "$default").cloned().collect();
        assert!(route(&without_default, "GET", "/docs").is_none());
        assert!(route(&without_default, "GET", "/v1").is_none(), "a greedy variable needs a segment");
    }

    #[test]
    fn answers_are_read_as_payload_format_2() {
        let answer = serde_json::json!({"statusCode": 201, "headers": {"x-a": "1"}, "cookies": ["a=1; Path=/", "b=2"], "body": "aGk=", "isBase64Encoded": true});
        let response = http_response(answer.to_string().as_bytes());
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers().get_all("set-cookie").iter().count(), 2);
        assert_eq!(response.headers()["x-a"], "1");
        let plain = http_response(br#"{"hello": "world"}"#);
        assert_eq!(plain.status(), 200);
    }
}
