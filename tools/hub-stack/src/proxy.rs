//! Each function's `AWS_ENDPOINT_URL`: a proxy of its own in front of DynamoDB Local and moto
//! that reads every call as IAM would (the action, and the resources it touches), holds it
//! against the function's role, and answers `AccessDenied` where the deployed role would, so
//! the run fails where `sam deploy` would. Presigned S3 URLs the function hands out carry its
//! endpoint, so a partner's upload is checked against the role that signed it, as S3 does.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::iam::{CallLog, Decision, Role};
use crate::template::{ACCOUNT, REGION};

pub struct Proxy {
    pub role: Role,
    pub log: Arc<CallLog>,
    pub dynamodb: String,
    pub moto: String,
    pub http: reqwest::Client,
    /// Secret names to ARNs (a call may name a secret either way).
    pub secret_arns: Vec<(String, String)>,
}

/// The IAM actions and resources of one request.
pub fn classify(proxy: &Proxy, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Vec<(String, String)> {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_owned();
    let table_arn = |name: &str| {
        if name.starts_with("arn:") { name.to_owned() } else { format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}") }
    };
    if let Some(op) = target.strip_prefix("DynamoDB_20120810.") {
        return match op {
            "TransactWriteItems" => json["TransactItems"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| {
                    let (kind, body) = item.as_object()?.iter().next()?;
                    let action = match kind.as_str() {
                        "Put" => "PutItem",
                        "Update" => "UpdateItem",
                        "Delete" => "DeleteItem",
                        "ConditionCheck" => "ConditionCheckItem",
                        other => other,
                    };
                    Some((format!("dynamodb:{action}"), table_arn(&text(body, "TableName"))))
                })
                .collect(),
            "TransactGetItems" => json["TransactItems"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| ("dynamodb:GetItem".to_owned(), table_arn(&text(&item["Get"], "TableName"))))
                .collect(),
            "BatchWriteItem" | "BatchGetItem" => {
                json["RequestItems"].as_object().into_iter().flatten().map(|(table, _)| (format!("dynamodb:{op}"), table_arn(table))).collect()
            }
            _ => {
                let table = table_arn(&text(&json, "TableName"));
                let index = text(&json, "IndexName");
                let resource = if index.is_empty() { table } else { format!("{table}/index/{index}") };
                vec![(format!("dynamodb:{op}"), resource)]
            }
        };
    }
    if let Some(op) = target.strip_prefix("AmazonSQS.") {
        let action = op.trim_end_matches("Batch");
        let queue = text(&json, "QueueUrl").rsplit('/').next().unwrap_or_default().to_owned();
        let queue = if queue.is_empty() { text(&json, "QueueName") } else { queue };
        return vec![(format!("sqs:{action}"), format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}"))];
    }
    if let Some(op) = target.strip_prefix("secretsmanager.") {
        let arn_of = |id: &str| {
            proxy.secret_arns.iter().find(|(name, arn)| name == id || arn == id).map(|(_, arn)| arn.clone()).unwrap_or_else(|| id.to_owned())
        };
        return match op {
            // BatchGetSecretValue has no resource-level permission, and AWS also asks for
            // GetSecretValue on every secret it returns.
            "BatchGetSecretValue" => std::iter::once(("secretsmanager:BatchGetSecretValue".to_owned(), "*".to_owned()))
                .chain(
                    json["SecretIdList"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str())
                        .map(|id| ("secretsmanager:GetSecretValue".to_owned(), arn_of(id))),
                )
                .collect(),
            _ => vec![(format!("secretsmanager:{op}"), arn_of(&text(&json, "SecretId")))],
        };
    }
    // S3's REST API, path style: /bucket/key.
    let path = percent_encoding::percent_decode_str(uri.path().trim_start_matches('/')).decode_utf8_lossy().into_owned();
    let (bucket, key) = path.split_once('/').map_or((path.as_str(), ""), |(b, k)| (b, k));
    let object = format!("arn:aws:s3:::{bucket}/{key}");
    let query = uri.query().unwrap_or_default();
    if key.is_empty() {
        let action = match *method {
            Method::GET if query.contains("uploads") => "s3:ListBucketMultipartUploads",
            Method::GET | Method::HEAD => "s3:ListBucket",
            Method::POST if query.contains("delete") => "s3:DeleteObject",
            Method::PUT => "s3:CreateBucket",
            Method::DELETE => "s3:DeleteBucket",
            _ => "s3:ListBucket",
        };
        let resource = if action == "s3:DeleteObject" { format!("arn:aws:s3:::{bucket}/*") } else { format!("arn:aws:s3:::{bucket}") };
        return vec![(action.to_owned(), resource)];
    }
    match *method {
        Method::GET | Method::HEAD => vec![("s3:GetObject".to_owned(), object)],
        Method::DELETE => vec![("s3:DeleteObject".to_owned(), object)],
        Method::PUT => {
            let mut calls = vec![("s3:PutObject".to_owned(), object)];
            if let Some(source) = headers.get("x-amz-copy-source").and_then(|v| v.to_str().ok()) {
                let source = percent_encoding::percent_decode_str(source.trim_start_matches('/')).decode_utf8_lossy().into_owned();
                calls.push(("s3:GetObject".to_owned(), format!("arn:aws:s3:::{source}")));
            }
            calls
        }
        _ => vec![("s3:PutObject".to_owned(), object)],
    }
}

fn denied(target: &str, action: &str, resource: &str, function: &str) -> Response {
    let message = format!(
        "User: arn:aws:sts::{ACCOUNT}:assumed-role/{function}-role/{function} is not authorized to perform: {action} on resource: {resource}"
    );
    if target.is_empty() {
        let xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>{message}</Message></Error>");
        return (StatusCode::FORBIDDEN, [("content-type", "application/xml")], xml).into_response();
    }
    let body = serde_json::json!({"__type": "AccessDeniedException", "message": message, "Message": message});
    (StatusCode::BAD_REQUEST, [("content-type", "application/x-amz-json-1.0"), ("x-amzn-query-error", "AccessDenied;Sender")], body.to_string())
        .into_response()
}

pub async fn handle(State(proxy): State<Arc<Proxy>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    for (action, resource) in classify(&proxy, &method, &uri, &headers, &body) {
        if proxy.log.record(&proxy.role, &action, &resource) != Decision::Allowed {
            return denied(&target, &action, &resource, &proxy.role.function);
        }
    }
    let upstream = if target.starts_with("DynamoDB_") { &proxy.dynamodb } else { &proxy.moto };
    let url = format!("{upstream}{}", uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut request = proxy.http.request(method, url).body(body);
    for (name, value) in &headers {
        if !matches!(name.as_str(), "host" | "content-length" | "transfer-encoding" | "connection") {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(answer) => {
            let mut response = Response::builder().status(answer.status().as_u16());
            for (name, value) in answer.headers() {
                if !matches!(name.as_str(), "content-length" | "transfer-encoding" | "connection") {
                    response = response.header(name, value);
                }
            }
            let bytes = answer.bytes().await.unwrap_or_default();
            response.body(Body::from(bytes)).unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("the stand-in did not answer: {e}")).into_response(),
    }
}

/// Starts the proxy on a port of its own; answers its URL.
pub async fn start(proxy: Proxy) -> anyhow::Result<String> {
    start_on(tokio::net::TcpListener::bind("127.0.0.1:0").await?, proxy)
}

/// Starts the proxy on `listener`; answers its URL.
pub fn start_on(listener: tokio::net::TcpListener, proxy: Proxy) -> anyhow::Result<String> {
    let url = format!("http://{}", listener.local_addr()?);
    let app = axum::Router::new().fallback(handle).with_state(Arc::new(proxy)).layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}
