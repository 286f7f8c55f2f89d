//! Minimal HTTP/1.1 client on hyper, enough to deliver webhooks to local
//! receivers (and for tests). Plain `http://` only: the sandbox has no TLS.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

#[derive(Debug, Clone)]
pub struct ClientResponse {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl ClientResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends one request on a fresh connection (no pooling: simpler, and each
/// webhook attempt should be independent anyway).
pub async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>, timeout: Duration) -> anyhow::Result<ClientResponse> {
    let u = url::Url::parse(url)?;
    if u.scheme() != "http" {
        anyhow::bail!("only http:// URLs are supported by the sandbox client, got {url}");
    }
    let host = u.host_str().ok_or_else(|| anyhow::anyhow!("no host in {url}"))?.to_string();
    let port = u.port_or_known_default().unwrap_or(80);
    let mut target = u.path().to_string();
    if let Some(q) = u.query() {
        target.push('?');
        target.push_str(q);
    }
    let fut = async move {
        let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut req = http::Request::builder().method(method).uri(target).header("host", format!("{host}:{port}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(Bytes::from(body)))?;
        let resp = sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok::<_, anyhow::Error>(ClientResponse { status, headers, body })
    };
    tokio::time::timeout(timeout, fut).await.map_err(|_| anyhow::anyhow!("request to {url} timed out"))?
}

pub async fn post_json(url: &str, body: &[u8], extra: &[(&str, &str)], timeout: Duration) -> anyhow::Result<ClientResponse> {
    let mut h: Vec<(&str, &str)> = vec![("content-type", "application/json")];
    h.extend_from_slice(extra);
    send("POST", url, &h, body.to_vec(), timeout).await
}
