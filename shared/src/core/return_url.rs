//! Where the hub may send a customer's browser back to after Lever's consent screen.
//!
//! Only to URLs the partner registered: same scheme, host and port, and a path under the
//! registered path. Anything else would make the hub an open redirector.

use url::Url;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReturnUrlError {
    #[error("not an absolute URL")]
    NotAbsolute,
    #[error("must use https (http only for loopback hosts)")]
    Insecure,
    #[error("must not carry credentials or a fragment")]
    Credentials,
    #[error("is not under any return URL registered for the partner")]
    NotRegistered,
}

/// A URL a partner may register: https, or http on a loopback host for local runs and tests.
pub fn check_registrable(url: &str) -> Result<Url, ReturnUrlError> {
    let url = Url::parse(url).map_err(|_| ReturnUrlError::NotAbsolute)?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(ReturnUrlError::Insecure),
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(ReturnUrlError::Credentials);
    }
    if url.host_str().is_none() {
        return Err(ReturnUrlError::NotAbsolute);
    }
    Ok(url)
}

/// Checks `candidate` against the partner's registered return URLs.
pub fn check_allowed(candidate: &str, registered: &[String]) -> Result<Url, ReturnUrlError> {
    let url = check_registrable(candidate)?;
    let under = |base: &Url| {
        let base_path = base.path().trim_end_matches('/');
        let path = url.path();
        base.scheme() == url.scheme()
            && base.host_str() == url.host_str()
            && base.port_or_known_default() == url.port_or_known_default()
            && (path == base_path || path.starts_with(&format!("{base_path}/")) || base_path.is_empty())
    };
    if registered.iter().filter_map(|r| Url::parse(r).ok()).any(|base| under(&base)) { Ok(url) } else { Err(ReturnUrlError::NotRegistered) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered() -> Vec<String> {
        vec!["https://app.partner.example/integrations/lever".into(), "http://127.0.0.1:9000/".into()]
    }

    #[test]
    fn accepts_registered_prefixes() {
        assert!(check_allowed("https://app.partner.example/integrations/lever", &registered()).is_ok());
        assert!(check_allowed("https://app.partner.example/integrations/lever/done?x=1", &registered()).is_ok());
        assert!(check_allowed("http://127.0.0.1:9000/anything", &registered()).is_ok());
    }

    #[test]
    fn refuses_everything_else() {
        use ReturnUrlError::*;
        let r = registered();
        assert_eq!(check_allowed("https://evil.example/integrations/lever", &r), Err(NotRegistered));
        assert_eq!(check_allowed("https://app.partner.example/integrations/leverage", &r), Err(NotRegistered));
        assert_eq!(check_allowed("https://app.partner.example:444/integrations/lever", &r), Err(NotRegistered));
        assert_eq!(check_allowed("http://app.partner.example/integrations/lever", &r), Err(Insecure));
        assert_eq!(check_allowed("https://user:pw@app.partner.example/integrations/lever", &r), Err(Credentials));
        assert_eq!(check_allowed("/relative", &r), Err(NotAbsolute));
        assert_eq!(check_allowed("javascript:alert(1)", &r), Err(Insecure));
        assert_eq!(check_allowed("http://127.0.0.1:9001/", &r), Err(NotRegistered));
    }
}
