//! `LeverHttpClient`: the reqwest adapter for [`LeverApi`] and [`LeverOAuth`].
//!
//! Every Data API call: per-connection rate limit (`rate`) → request → typed error mapping →
//! retry per the request's [`RetryClass`] (`retry` documents the rule) → tolerant decoding.
//! Redirects are followed by hand, only to Lever's own hosts ([`redirect`] documents the rule).
//! Tokens travel only in the `Authorization` header (reqwest marks it sensitive) or the token
//! request body; errors and logs carry the endpoint path, status and Lever's error code — never
//! tokens, secrets, query strings (emails) or bodies.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use backon::Retryable;
use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::{LeverError, LeverResult};
use super::model::*;
use super::oauth::{TokenSet, authorize_url, token_error};
use super::page::{Page, PageRequest};
use super::port::{Credential, LeverApi, LeverAuth, LeverOAuth};
use super::rate::{self, ConnectionLimiter, RateGate, RateLimit};
use super::retry::{RetryClass, RetryPolicy, parse_retry_after};
use super::secret::{ClientSecret, RefreshToken};

mod data_api;
pub mod redirect;

/// Where Lever lives and how to behave towards it.
#[derive(Debug, Clone)]
pub struct LeverConfig {
    /// Data API root, e.g. `https://api.lever.co/v1`.
    pub api_base: Url,
    /// OAuth server root (`/authorize`, `/oauth/token` below it), e.g. `https://auth.lever.co`.
    pub auth_base: Url,
    /// OAuth `audience`, e.g. `https://api.lever.co/v1/`.
    pub audience: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub rate_limit: RateLimit,
    pub retry: RetryPolicy,
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Origins besides Lever's own hosts ([`redirect::LEVER_HOSTS`]) that a redirect may lead to
    /// and a remembered API root may point at: the project's sandbox in local runs.
    pub trusted_origins: Vec<url::Origin>,
}

impl LeverConfig {
    fn with_bases(api: &str, auth: &str, audience: &str, client_id: String, client_secret: ClientSecret) -> LeverResult<Self> {
        let parse = |s: &str| Url::parse(s).map_err(|e| LeverError::Config(format!("bad base url {s}: {e}")));
        Ok(Self {
            api_base: parse(api)?,
            auth_base: parse(auth)?,
            audience: audience.to_owned(),
            client_id,
            client_secret,
            rate_limit: RateLimit::LEVER,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            trusted_origins: Vec::new(),
        })
    }

    /// Lets the client follow Lever's redirects to `url`'s origin (a local stand-in's second
    /// listener, such as the sandbox's EU data centre).
    pub fn trust(&mut self, url: &str) -> LeverResult<()> {
        let url = Url::parse(url).map_err(|e| LeverError::Config(format!("bad origin {url}: {e}")))?;
        self.trusted_origins.push(url.origin());
        Ok(())
    }

    /// Lever production (US/global).
    pub fn production(client_id: impl Into<String>, client_secret: ClientSecret) -> Self {
        Self::with_bases("https://api.lever.co/v1", "https://auth.lever.co", "https://api.lever.co/v1/", client_id.into(), client_secret)
            .expect("static urls")
    }

    /// Lever's own sandbox environment (partner development accounts).
    pub fn lever_sandbox(client_id: impl Into<String>, client_secret: ClientSecret) -> Self {
        Self::with_bases(
            "https://api.sandbox.lever.co/v1",
            "https://sandbox-lever.auth0.com",
            "https://api.sandbox.lever.co/v1/",
            client_id.into(),
            client_secret,
        )
        .expect("static urls")
    }

    /// A Lever stand-in serving OAuth at `{base}/authorize`, `{base}/oauth/token` and the Data API
    /// under `{base}/v1` (the project's Lever sandbox). The audience stays Lever's production one,
    /// which the stand-in accepts like Lever does. `base` may name, after a comma each, the
    /// stand-in's other origins that its redirects lead to (the sandbox's EU data centre), as
    /// `HUB_LEVER` does in local runs.
    pub fn local(base: &str, client_id: impl Into<String>, client_secret: ClientSecret) -> LeverResult<Self> {
        let mut origins = base.split(',').map(str::trim).filter(|o| !o.is_empty());
        let base = origins.next().unwrap_or_default().trim_end_matches('/');
        let mut cfg = Self::with_bases(&format!("{base}/v1"), base, "https://api.lever.co/v1/", client_id.into(), client_secret)?;
        cfg.trust(base)?;
        for origin in origins {
            cfg.trust(origin)?;
        }
        Ok(cfg)
    }
}

/// The HTTP adapter. Cheap to clone; clones share the connection pool and the rate gate.
#[derive(Clone)]
pub struct LeverHttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: LeverConfig,
    http: reqwest::Client,
    /// Asked before every request of a connection, told about every 429.
    gate: Arc<dyn RateGate>,
}

impl std::fmt::Debug for LeverHttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeverHttpClient")
            .field("api_base", &self.inner.cfg.api_base.as_str())
            .field("auth_base", &self.inner.cfg.auth_base.as_str())
            .finish_non_exhaustive()
    }
}

enum Payload {
    Empty,
    Json(Bytes),
    Form(Vec<(&'static str, String)>),
    Multipart { fields: Vec<(String, String)>, files: Vec<(String, FileUpload)> },
}

struct Call {
    op: &'static str,
    method: Method,
    url: Url,
    payload: Payload,
    class: RetryClass,
    token_endpoint: bool,
}

/// Characters that go into an `offset` value unchanged: unreserved ones and `%`, because Lever's
/// tokens arrive already percent-encoded and must go back verbatim (never `%25`-escaped again).
const OFFSET_KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'%');

/// The `offset` query value for a `next` token as Lever sent it.
pub fn offset_param(token: &str) -> String {
    utf8_percent_encode(token, OFFSET_KEEP).to_string()
}

#[derive(Deserialize)]
struct ApiErrorBody {
    code: Option<String>,
    message: Option<String>,
}

fn api_error(status: u16, body: &[u8], retry_after: Option<Duration>) -> LeverError {
    let parsed: Option<ApiErrorBody> = serde_json::from_slice(body).ok();
    let code = parsed.as_ref().and_then(|b| b.code.clone()).unwrap_or_default();
    let message = parsed.and_then(|b| b.message).unwrap_or_default();
    match status {
        401 => LeverError::Unauthorized { message },
        403 => LeverError::Forbidden { code, message },
        404 => LeverError::NotFound { message },
        429 => LeverError::RateLimited { retry_after },
        s if s >= 500 => LeverError::Server { status: s },
        s => LeverError::Invalid { status: s, code, message },
    }
}

fn transport_error(e: reqwest::Error) -> LeverError {
    // `without_url`: URLs carry query strings (emails); the cause chain does not.
    let sent = !e.is_connect();
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    LeverError::Transport { message, sent }
}

fn decode<T: DeserializeOwned>(path: &str, body: &[u8]) -> LeverResult<T> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| LeverError::Decode { path: format!("{path} {}", e.path()), message: e.inner().to_string() })
}

fn multipart_form(fields: &[(String, String)], files: &[(String, FileUpload)]) -> LeverResult<reqwest::multipart::Form> {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.clone(), v.clone());
    }
    for (k, f) in files {
        let part = reqwest::multipart::Part::bytes(f.bytes.to_vec())
            .file_name(f.file_name.clone())
            .mime_str(&f.content_type)
            .map_err(|_| LeverError::Config(format!("bad content type for {k}")))?;
        form = form.part(k.clone(), part);
    }
    Ok(form)
}

impl LeverHttpClient {
    /// A client whose rate limit is kept in this process ([`ConnectionLimiter`]).
    pub fn new(cfg: LeverConfig) -> LeverResult<Self> {
        let gate = Arc::new(ConnectionLimiter::new(cfg.rate_limit));
        Self::with_rate_gate(cfg, gate)
    }

    /// A client that asks `gate` before every request (the hub wires the store-backed
    /// `rate_budget::StoreRateBudget`, shared by every process).
    pub fn with_rate_gate(cfg: LeverConfig, gate: Arc<dyn RateGate>) -> LeverResult<Self> {
        for base in [&cfg.api_base, &cfg.auth_base] {
            if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
                return Err(LeverError::Config(format!("not an http(s) base url: {base}")));
            }
        }
        let http = crate::http::client_builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .user_agent(concat!("lever-integration-hub/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| LeverError::Config(format!("http client: {e}")))?;
        Ok(Self { inner: Arc::new(Inner { cfg, http, gate }) })
    }

    pub fn config(&self) -> &LeverConfig {
        &self.inner.cfg
    }

    fn url(&self, segments: &[&str], query: &[(&str, String)], page: Option<&PageRequest>) -> Url {
        let mut url = self.inner.cfg.api_base.clone();
        url.path_segments_mut().expect("checked in new").pop_if_empty().extend(segments);
        if !query.is_empty() || page.is_some() {
            let mut qp = url.query_pairs_mut();
            for (k, v) in query {
                qp.append_pair(k, v);
            }
            if let Some(p) = page {
                qp.append_pair("limit", &p.limit().to_string());
            }
        }
        if let Some(offset) = page.and_then(|p| p.offset.as_deref()) {
            let q = url.query().unwrap_or_default().to_owned();
            let sep = if q.is_empty() { "" } else { "&" };
            url.set_query(Some(&format!("{q}{sep}offset={}", offset_param(offset))));
        }
        url
    }

    fn call(op: &'static str, method: Method, url: Url, payload: Payload, class: RetryClass) -> Call {
        Call { op, method, url, payload, class, token_endpoint: false }
    }

    fn json_body<B: serde::Serialize + ?Sized>(body: &B) -> LeverResult<Payload> {
        serde_json::to_vec(body).map(|v| Payload::Json(v.into())).map_err(|e| LeverError::Config(format!("cannot encode request body: {e}")))
    }

    /// Run a call with rate limiting and retries; returns the 2xx body.
    async fn execute(&self, auth: Option<&LeverAuth>, call: &Call) -> LeverResult<Bytes> {
        let policy = &self.inner.cfg.retry;
        let connection = auth.map(|a| a.connection.as_str()).unwrap_or("-");
        (|| self.attempt(auth, call))
            .retry(policy.backoff())
            .when(|e| call.class.may_retry(e))
            // No retry that would start after the task's send deadline ([`rate::send_by`]).
            .adjust(|e, next| policy.next_wait(e, next).filter(|wait| rate::send_deadline().is_none_or(|by| tokio::time::Instant::now() + *wait < by)))
            .notify(|e, wait| {
                tracing::warn!(op = call.op, connection, path = call.url.path(), wait_ms = wait.as_millis() as u64, error = %e, "retrying Lever request")
            })
            .await
            .inspect_err(|e| tracing::info!(op = call.op, connection, path = call.url.path(), error = %e, "Lever request failed"))
    }

    /// One call, following Lever's redirects (see [`redirect`]).
    async fn attempt(&self, auth: Option<&LeverAuth>, call: &Call) -> LeverResult<Bytes> {
        let cfg = &self.inner.cfg;
        let (mut url, mut root) = self.start(auth, call);
        for _ in 0..=redirect::MAX_REDIRECTS {
            let resp = self.send(auth, call, &url).await?;
            let status = resp.status().as_u16();
            if !redirect::is_redirect(status) {
                return self.answer(auth, call, resp).await;
            }
            let next = redirect::target(&url, resp.headers(), &cfg.trusted_origins)?;
            root = root.and_then(|r| redirect::moved_root(&r, &url, &next));
            if let (Some(r), Some(a)) = (&root, auth)
                && *r != cfg.api_base
            {
                a.learn_base(r.clone());
            }
            tracing::info!(op = call.op, status, to = %next.origin().ascii_serialization(), "following Lever's redirect");
            url = next;
        }
        Err(LeverError::TooManyRedirects { hops: redirect::MAX_REDIRECTS })
    }

    /// Where a call starts, and the Data API root it is under (`None` for the token endpoint):
    /// the account's own root when the auth knows one that Lever's hosts include.
    fn start(&self, auth: Option<&LeverAuth>, call: &Call) -> (Url, Option<Url>) {
        let cfg = &self.inner.cfg;
        if call.token_endpoint {
            return (call.url.clone(), None);
        }
        let Some(base) = auth.and_then(LeverAuth::base) else {
            return (call.url.clone(), Some(cfg.api_base.clone()));
        };
        match redirect::rebase(&call.url, &cfg.api_base, &base).filter(|u| redirect::is_lever(u, &cfg.trusted_origins)) {
            Some(url) => (url, Some(base)),
            None => {
                tracing::warn!(op = call.op, "the remembered Lever API root is not one of Lever's hosts; using the configured one");
                (call.url.clone(), Some(cfg.api_base.clone()))
            }
        }
    }

    async fn send(&self, auth: Option<&LeverAuth>, call: &Call, url: &Url) -> LeverResult<reqwest::Response> {
        if let Some(a) = auth {
            match rate::send_deadline() {
                Some(by) => {
                    // No send time before the task's deadline: said at once, nothing sent.
                    self.inner.gate.acquire_by(&a.connection, by).await.map_err(|wait| LeverError::RateLimited { retry_after: Some(wait) })?
                }
                None => self.inner.gate.acquire(&a.connection).await,
            }
        }
        let mut rb = self.inner.http.request(call.method.clone(), url.clone());
        rb = match auth.map(|a| &a.credential) {
            Some(Credential::Bearer(t)) => rb.bearer_auth(t.expose()),
            Some(Credential::ApiKey(k)) => rb.basic_auth(k.expose(), Some("")),
            None => rb,
        };
        rb = match &call.payload {
            Payload::Empty => rb,
            Payload::Json(b) => rb.header(CONTENT_TYPE, "application/json").body(b.clone()),
            Payload::Form(pairs) => rb.form(pairs),
            Payload::Multipart { fields, files } => rb.multipart(multipart_form(fields, files)?),
        };
        rb.send().await.map_err(transport_error)
    }

    /// A final (non-redirect) answer: the 2xx body or the typed error.
    async fn answer(&self, auth: Option<&LeverAuth>, call: &Call, resp: reqwest::Response) -> LeverResult<Bytes> {
        let status = resp.status().as_u16();
        let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| parse_retry_after(v, SystemTime::now()));
        let body = resp.bytes().await.map_err(transport_error)?;
        tracing::debug!(op = call.op, path = call.url.path(), status, "Lever response");
        if (200..300).contains(&status) {
            return Ok(body);
        }
        if status == 429
            && let Some(a) = auth
        {
            // Every process calling Lever for this connection pauses, not only this request.
            self.inner.gate.back_off(&a.connection, retry_after).await;
        }
        Err(if call.token_endpoint { token_error(status, &body, retry_after) } else { api_error(status, &body, retry_after) })
    }

    async fn fetch<T: DeserializeOwned>(&self, auth: &LeverAuth, call: Call) -> LeverResult<T> {
        let body = self.execute(Some(auth), &call).await?;
        decode(call.url.path(), &body)
    }

    async fn get_page<T: DeserializeOwned>(
        &self,
        auth: &LeverAuth,
        op: &'static str,
        segments: &[&str],
        query: &[(&str, String)],
        page: &PageRequest,
    ) -> LeverResult<Page<T>> {
        let url = self.url(segments, query, Some(page));
        self.fetch(auth, Self::call(op, Method::GET, url, Payload::Empty, RetryClass::Read)).await
    }

    async fn get_one<T: DeserializeOwned>(&self, auth: &LeverAuth, op: &'static str, segments: &[&str], query: &[(&str, String)]) -> LeverResult<T> {
        let url = self.url(segments, query, None);
        let d: Data<T> = self.fetch(auth, Self::call(op, Method::GET, url, Payload::Empty, RetryClass::Read)).await?;
        Ok(d.data)
    }

    #[allow(clippy::too_many_arguments)] // one private helper for six endpoints of the same shape
    async fn opportunity_update<B: serde::Serialize + ?Sized>(
        &self,
        auth: &LeverAuth,
        op: &'static str,
        method: Method,
        opportunity_id: &str,
        action: &str,
        body: &B,
        perform_as: Option<&str>,
    ) -> LeverResult<Opportunity> {
        let query: Vec<(&str, String)> = perform_as.map(|p| ("perform_as", p.to_owned())).into_iter().collect();
        let url = self.url(&["opportunities", opportunity_id, action], &query, None);
        let d: Data<Opportunity> = self.fetch(auth, Self::call(op, method, url, Self::json_body(body)?, RetryClass::IdempotentWrite)).await?;
        Ok(d.data)
    }

    async fn token_request(&self, op: &'static str, form: Vec<(&'static str, String)>) -> LeverResult<TokenSet> {
        let mut url = self.inner.cfg.auth_base.clone();
        url.path_segments_mut().expect("checked in new").pop_if_empty().extend(["oauth", "token"]);
        let call = Call { op, method: Method::POST, url, payload: Payload::Form(form), class: RetryClass::Create, token_endpoint: true };
        let body = self.execute(None, &call).await?;
        decode(call.url.path(), &body)
    }
}

#[async_trait]
impl LeverOAuth for LeverHttpClient {
    fn authorize_url(&self, redirect_uri: &str, state: &str, scopes: &[String], code_challenge: Option<&str>) -> Url {
        let c = &self.inner.cfg;
        let mut url = authorize_url(&c.auth_base, &c.client_id, &c.audience, redirect_uri, state, scopes);
        if let Some(challenge) = code_challenge {
            url.query_pairs_mut().append_pair("code_challenge", challenge).append_pair("code_challenge_method", "S256");
        }
        url
    }

    async fn exchange_code(&self, code: &str, redirect_uri: &str, code_verifier: Option<&str>) -> LeverResult<TokenSet> {
        let c = &self.inner.cfg;
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("client_id", c.client_id.clone()),
            ("client_secret", c.client_secret.expose().to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", redirect_uri.to_owned()),
        ];
        if let Some(verifier) = code_verifier {
            form.push(("code_verifier", verifier.to_owned()));
        }
        self.token_request("exchange_code", form).await
    }

    async fn refresh(&self, refresh_token: &RefreshToken) -> LeverResult<TokenSet> {
        let c = &self.inner.cfg;
        let form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("client_id", c.client_id.clone()),
            ("client_secret", c.client_secret.expose().to_owned()),
            ("refresh_token", refresh_token.expose().to_owned()),
        ];
        self.token_request("refresh", form).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lever::secret::Secret;

    fn client() -> LeverHttpClient {
        LeverHttpClient::new(LeverConfig::production("cid", Secret::new("shh"))).unwrap()
    }

    #[test]
    fn offset_tokens_go_back_verbatim() {
        let token = "%5B3%2C1491435120000%2C%225599cc20-349f-4b60-b531-6fe31e329717%22%5D";
        assert_eq!(offset_param(token), token, "already encoded: unchanged");
        assert_eq!(offset_param("0.1414895548650.a6070140-33db-407c-91f5-2760e15c8e94"), "0.1414895548650.a6070140-33db-407c-91f5-2760e15c8e94");
        assert_eq!(offset_param("[3,1,\"a b\"]"), "%5B3%2C1%2C%22a%20b%22%5D", "raw JSON gets encoded once");
        let url = client().url(&["opportunities"], &[("email", "a+b@x.io".into())], Some(&PageRequest::after(100, token)));
        assert_eq!(url.as_str(), format!("https://api.lever.co/v1/opportunities?email=a%2Bb%40x.io&limit=100&offset={token}"));
    }

    #[test]
    fn ids_are_path_segments_not_paths() {
        let url = client().url(&["opportunities", "../users?x", "notes"], &[], None);
        assert_eq!(url.path(), "/v1/opportunities/..%2Fusers%3Fx/notes");
        assert_eq!(url.query(), None);
    }

    #[test]
    fn api_errors_are_typed() {
        assert!(matches!(api_error(401, b"{}", None), LeverError::Unauthorized { .. }));
        assert!(matches!(api_error(403, br#"{"code":"Forbidden","message":"no"}"#, None), LeverError::Forbidden { .. }));
        assert!(matches!(api_error(404, br#"{"code":"ResourceNotFound","message":"m"}"#, None), LeverError::NotFound { .. }));
        match api_error(400, br#"{"code":"BadRequestError","message":"Invalid offset token"}"#, None) {
            LeverError::Invalid { status: 400, code, message } => {
                assert_eq!((code.as_str(), message.as_str()), ("BadRequestError", "Invalid offset token"))
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(api_error(422, b"not json", None), LeverError::Invalid { status: 422, .. }));
        assert!(
            matches!(api_error(429, b"", Some(Duration::from_secs(2))), LeverError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(2))
        );
        assert!(matches!(api_error(503, b"", None), LeverError::Server { status: 503 }));
    }

    #[test]
    fn a_local_stand_in_names_the_origins_its_redirects_lead_to() {
        let cfg = LeverConfig::local("http://127.0.0.1:8089/, http://127.0.0.1:8090", "c", Secret::new("s")).unwrap();
        assert_eq!(cfg.api_base.as_str(), "http://127.0.0.1:8089/v1");
        let trusted: Vec<String> = cfg.trusted_origins.iter().map(|o| o.ascii_serialization()).collect();
        assert_eq!(trusted, ["http://127.0.0.1:8089", "http://127.0.0.1:8090"]);
        assert!(LeverConfig::local("http://127.0.0.1:8089,not a url", "c", Secret::new("s")).is_err());
        assert!(LeverConfig::production("c", Secret::new("s")).trusted_origins.is_empty(), "production trusts Lever's hosts only");
    }

    #[test]
    fn debug_of_client_and_auth_hides_secrets() {
        let auth = LeverAuth::bearer("conn-1", Secret::new("eyJ-access-token"));
        let c = client();
        let s = format!("{auth:?} {c:?} {:?}", c.config());
        assert!(!s.contains("eyJ-access-token") && !s.contains("shh"), "{s}");
    }
}
