//! Outbound HTTPS clients (Lever, partner webhooks) with the Mozilla root store compiled in
//! (`webpki-roots`): building a client then costs microseconds instead of reading and parsing the
//! system's certificate files (hundreds of them) — milliseconds of every Lambda cold start — and
//! behaves the same on every host. The hub only talks to public HTTPS endpoints (Lever, partners'
//! registered public URLs), all of which chain to these roots.

use std::sync::{Arc, OnceLock};

fn tls() -> Option<&'static rustls::ClientConfig> {
    static TLS: OnceLock<Option<rustls::ClientConfig>> = OnceLock::new();
    TLS.get_or_init(|| {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .ok()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        // HTTP/1.1 only: one request at a time per connection is all Lever and partners see from
        // us, and HTTP/2 would link a second copy of h2 into every binary.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Some(config)
    })
    .as_ref()
}

/// A client builder with the compiled-in roots (falls back to reqwest's platform verifier if
/// the TLS configuration could not be made, which only a broken crypto provider would cause).
pub fn client_builder() -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder();
    match tls() {
        Some(config) => builder.tls_backend_preconfigured(config.clone()),
        None => builder,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clients_build_with_the_compiled_in_roots() {
        assert!(super::tls().is_some_and(|c| c.alpn_protocols == [b"http/1.1".to_vec()]));
        super::client_builder().build().expect("a client");
    }
}
