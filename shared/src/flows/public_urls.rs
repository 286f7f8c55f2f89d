//! Where the hub itself is reachable: Lever redirects consent back to `<base>/oauth/callback`,
//! delivers webhooks to `<base>/lever/webhooks/<connection>`, and partners hand their customers
//! `<base>/connect/<state>`.
//!
//! The base is configured (`HUB_PUBLIC_URL`, e.g. a custom domain registered with Lever) or, when
//! it is not, taken from the request being served: behind API Gateway the `Host` a request
//! arrived on is the API's own domain. That keeps the SAM template free of a function → API → function
//! reference cycle, and a stack whose API is recreated keeps working.

use std::future::Future;

tokio::task_local! {
    static REQUEST_BASE: url::Url;
}

/// Runs `serve` with `base` as the hub's public URL for this request (when none is configured).
pub async fn with_request_base<F: Future>(base: url::Url, serve: F) -> F::Output {
    REQUEST_BASE.scope(base, serve).await
}

#[derive(Debug, thiserror::Error)]
#[error("the hub's public URL is not known: set HUB_PUBLIC_URL, or serve the request behind the public URL layer")]
pub struct NoPublicUrl;

#[derive(Clone, Debug, Default)]
pub struct PublicUrls {
    /// The configured base; `None` = the request's own.
    pub base: Option<url::Url>,
}

impl PublicUrls {
    pub fn fixed(base: url::Url) -> Self {
        Self { base: Some(base) }
    }

    fn base(&self) -> Result<String, NoPublicUrl> {
        let trimmed = |u: &url::Url| u.as_str().trim_end_matches('/').to_owned();
        match &self.base {
            Some(b) => Ok(trimmed(b)),
            None => REQUEST_BASE.try_with(trimmed).map_err(|_| NoPublicUrl),
        }
    }

    pub fn oauth_callback(&self) -> Result<String, NoPublicUrl> {
        Ok(format!("{}/oauth/callback", self.base()?))
    }

    /// The link a partner hands its customer: the hub's own page, which binds the browser and
    /// then sends it on to Lever's consent screen.
    pub fn connect(&self, state: &str) -> Result<String, NoPublicUrl> {
        Ok(format!("{}/connect/{state}", self.base()?))
    }

    pub fn lever_webhook(&self, connection_id: &str) -> Result<String, NoPublicUrl> {
        Ok(format!("{}/lever/webhooks/{connection_id}", self.base()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_configured_base_wins_else_the_requests_own_else_a_clear_error() {
        let fixed = PublicUrls::fixed(url::Url::parse("https://hub.example.com/").unwrap());
        let learned = PublicUrls::default();
        assert!(learned.oauth_callback().is_err(), "outside a request and unconfigured");
        let request = url::Url::parse("https://abc123.execute-api.eu-west-1.amazonaws.com").unwrap();
        with_request_base(request, async {
            assert_eq!(fixed.oauth_callback().unwrap(), "https://hub.example.com/oauth/callback");
            assert_eq!(learned.connect("s").unwrap(), "https://abc123.execute-api.eu-west-1.amazonaws.com/connect/s");
            assert_eq!(learned.lever_webhook("c1").unwrap(), "https://abc123.execute-api.eu-west-1.amazonaws.com/lever/webhooks/c1");
        })
        .await;
    }
}
