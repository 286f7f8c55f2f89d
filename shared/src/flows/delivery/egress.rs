//! The delivery client's guard against server-side request forgery, at send time: every
//! address a webhook host resolves to passes the egress policy before a connection is made.
//!
//! Resolving and connecting happen inside reqwest; this resolver is the hook between them, so
//! the address checked is the address connected to (no window for DNS rebinding). Literal
//! addresses in a URL skip resolution, so [`check_literal_host`] covers them before the request.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::core::egress::{EgressPolicy, Refused, classify_host};

/// Why the hub would not connect to a webhook host. Travels inside reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("webhook host {host} resolves to {address}, {refused}")]
pub struct EgressRefusal {
    pub host: String,
    pub address: std::net::IpAddr,
    pub refused: Refused,
}

/// The system's resolver (`getaddrinfo`, on a blocking thread).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Resolves with `inner` and refuses the name if any address it gives is not allowed. One bad
/// address refuses them all: a public server has no reason to publish a private one.
pub struct GuardedResolver {
    inner: Arc<dyn Resolve>,
    policy: EgressPolicy,
}

impl GuardedResolver {
    pub fn new(inner: Arc<dyn Resolve>, policy: EgressPolicy) -> Self {
        Self { inner, policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let policy = self.policy;
        let resolving = self.inner.resolve(name);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = resolving.await?.collect();
            for addr in &addrs {
                policy
                    .check_ip(addr.ip())
                    // Not boxed here: `?` boxes it as itself, so `refusal_in` can find it again.
                    .map_err(|refused| EgressRefusal { host: host.clone(), address: addr.ip(), refused })?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A literal address in the URL (no resolution happens for it), judged by the same policy.
pub fn check_literal_host(url: &url::Url, policy: EgressPolicy) -> Result<(), Refused> {
    match url.host() {
        Some(host @ (url::Host::Ipv4(_) | url::Host::Ipv6(_))) => policy.check(classify_host(&host)),
        _ => Ok(()),
    }
}

/// The refusal inside a failed request, if that is why it failed.
pub fn refusal_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a EgressRefusal> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(refusal) = e.downcast_ref::<EgressRefusal>() {
            return Some(refusal);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<&'static str>);

    impl Resolve for Fixed {
        fn resolve(&self, _: Name) -> Resolving {
            let addrs: Vec<SocketAddr> = self.0.iter().map(|a| SocketAddr::new(a.parse().unwrap(), 0)).collect();
            Box::pin(async move { Ok(Box::new(addrs.into_iter()) as Addrs) })
        }
    }

    async fn resolve(addrs: Vec<&'static str>, policy: EgressPolicy) -> Result<Vec<SocketAddr>, String> {
        let guard = GuardedResolver::new(Arc::new(Fixed(addrs)), policy);
        let name: Name = "hooks.partner.example".parse().unwrap();
        match guard.resolve(name).await {
            Ok(addrs) => Ok(addrs.collect()),
            Err(e) => Err(refusal_in(e.as_ref()).map(|r| r.to_string()).unwrap_or_else(|| e.to_string())),
        }
    }

    #[tokio::test]
    async fn a_name_with_any_non_public_address_is_refused() {
        let strict = EgressPolicy::default();
        assert_eq!(resolve(vec!["93.184.216.34"], strict).await.unwrap().len(), 1);
        let refused = resolve(vec!["93.184.216.34", "10.0.0.7"], strict).await.unwrap_err();
        assert_eq!(refused, "webhook host hooks.partner.example resolves to 10.0.0.7, not a public address: private (10.0.0.0/8)");
        assert!(resolve(vec!["::ffff:169.254.169.254"], strict).await.is_err());
        assert!(resolve(vec!["127.0.0.1"], strict).await.is_err());
        assert_eq!(resolve(vec!["127.0.0.1"], EgressPolicy { allow_loopback: true }).await.unwrap().len(), 1);
    }

    #[test]
    fn literal_hosts_are_checked_without_resolving() {
        let strict = EgressPolicy::default();
        let url = |u: &str| url::Url::parse(u).unwrap();
        assert!(check_literal_host(&url("https://10.0.0.5/h"), strict).is_err());
        assert!(check_literal_host(&url("https://[fd00::5]/h"), strict).is_err());
        assert!(check_literal_host(&url("https://93.184.216.34/h"), strict).is_ok());
        assert!(check_literal_host(&url("https://partner.example/h"), strict).is_ok(), "names are the resolver's");
    }
}
