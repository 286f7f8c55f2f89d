//! AWS SDK configuration shared by every adapter.
//!
//! The hub's functions (and anything built from [`crate::hub::HubEnv`]) take region, credentials
//! and any endpoint override from the variables Lambda sets ([`from_environment`]). The SDK's
//! default loader also reads profile files and knows SSO, web identity, ECS and instance
//! metadata: code a Lambda function never runs, yet carries in its binary (STS, IMDS and the
//! profile parser, ~0.5 MB) and partly runs at every cold start. Tools that a person runs
//! with an AWS profile (`hub-ops`) use [`sdk_config`], the default loader.
//!
//! Its HTTPS client trusts the roots AWS's endpoints chain to (Amazon Trust Services, and
//! Starfield's cross-sign), compiled in: the SDK's default client reads and parses the system's
//! whole certificate store (a file of ~140 certificates and a directory of them) at the first
//! call, which was the largest part of a function's start-up after the runtime itself. This also
//! means the SDK talks to AWS and nothing else over TLS: an `AWS_ENDPOINT_URL` stand-in (DynamoDB
//! Local, moto) is plain HTTP on loopback.

use std::sync::OnceLock;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};

/// Amazon Root CA 1–4 and Starfield Services Root CA G2, PEM.
const AWS_ROOTS: &str = include_str!("../certs/amazon-trust-services.pem");

/// One HTTPS client for every SDK client of the process (they share its connection pools).
fn aws_https_client() -> Result<SharedHttpClient, String> {
    static CLIENT: OnceLock<Result<SharedHttpClient, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let roots = TrustStore::empty().with_native_roots(false).with_pem_certificate(AWS_ROOTS.as_bytes());
            let context = TlsContext::builder().with_trust_store(roots).build().map_err(|e| format!("the AWS TLS roots: {e}"))?;
            Ok(aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
                .tls_context(context)
                .build_https())
        })
        .clone()
}

/// Loads the SDK configuration the default way (profiles, SSO, …), pointed at `endpoint` when
/// given (e.g. `http://127.0.0.1:8000`).
pub async fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// What [`from_environment`] reads for the region (in this order) and the endpoint override.
const REGION_VARS: [&str; 2] = ["AWS_REGION", "AWS_DEFAULT_REGION"];
const ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL";

/// The configuration from the process environment, as Lambda provides it: the region from
/// `AWS_REGION` (or `AWS_DEFAULT_REGION`), the execution role's credentials from
/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` (read again when they
/// expire), and `AWS_ENDPOINT_URL` for DynamoDB Local or moto. A missing region is an error
/// naming the variable; missing credentials surface on the first call, as the SDK's own.
pub fn from_environment() -> Result<SdkConfig, String> {
    from_lookup(|name| std::env::var(name).ok())
}

fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<SdkConfig, String> {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let region =
        REGION_VARS.iter().find_map(|name| set(name)).ok_or_else(|| format!("the AWS region is not set: set {} (Lambda sets it)", REGION_VARS[0]))?;
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(aws_https_client()?)
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(aws_config::environment::EnvironmentVariableCredentialsProvider::new()));
    if let Some(endpoint) = set(ENDPOINT_VAR) {
        config = config.endpoint_url(endpoint);
    }
    Ok(config.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn region_and_endpoint_come_from_lambdas_variables() {
        let config = from_lookup(lookup(&[("AWS_REGION", "eu-west-1"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:8000")])).unwrap();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:8000"));
        assert!(config.credentials_provider().is_some());
        assert!(config.behavior_version().is_some());
    }

    #[test]
    fn the_default_region_variable_is_the_fallback_and_blank_is_unset() {
        let config = from_lookup(lookup(&[("AWS_REGION", " "), ("AWS_DEFAULT_REGION", "us-west-2")])).unwrap();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("us-west-2"));
        assert_eq!(config.endpoint_url(), None);
    }

    /// The compiled-in roots are the five certificates AWS's chains end in, each a CA that
    /// parses (the SDK's client would panic on a PEM it cannot read).
    #[test]
    fn the_aws_roots_are_amazon_trust_services_and_starfield() {
        use rustls::pki_types::pem::PemObject as _;
        let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(AWS_ROOTS.as_bytes()).collect::<Result<_, _>>().expect("valid PEM");
        assert_eq!(certs.len(), 5);
        let mut roots = rustls::RootCertStore::empty();
        for cert in certs {
            roots.add(cert).expect("a trust anchor");
        }
        for name in
            ["Amazon Root CA 1", "Amazon Root CA 2", "Amazon Root CA 3", "Amazon Root CA 4", "Starfield Services Root Certificate Authority - G2"]
        {
            assert!(AWS_ROOTS.contains(&format!("# {name}\n")), "{name}");
        }
        assert!(aws_https_client().is_ok());
    }

    #[test]
    fn no_region_is_an_error_naming_the_variable() {
        let e = from_lookup(lookup(&[("AWS_ACCESS_KEY_ID", "x")])).unwrap_err();
        assert!(e.contains("AWS_REGION"), "{e}");
    }
}
