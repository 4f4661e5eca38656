//! Host header validation (Django's `ALLOWED_HOSTS` rules), done before a request
//! reaches Python: `example.com` exactly, `.example.com` for it and its subdomains,
//! `*` for any; ports are ignored, case too.

/// The domain of a Host header, lower case, without port or trailing dot;
/// None when it is not a plausible host (`a@b`, `x:abc`, an unclosed `[`).
fn domain_of(host: &str) -> Option<String> {
    let host = host.trim().to_ascii_lowercase();
    if let Some(rest) = host.strip_prefix('[') {
        let end = rest.find(']')?;
        let after = &rest[end + 1..];
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        return port_ok.then(|| format!("[{}]", &rest[..end]));
    }
    let (domain, port) = match host.split_once(':') {
        Some((d, p)) => (d, Some(p)),
        None => (host.as_str(), None),
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if domain.is_empty()
        || !domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        return None;
    }
    Some(domain.trim_end_matches('.').to_string())
}

/// Whether `host` (a Host header value) matches one of the `allowed` patterns.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let Some(domain) = domain_of(host) else {
        return false;
    };
    allowed.iter().any(|pattern| {
        let pattern = pattern.to_ascii_lowercase();
        pattern == "*"
            || pattern == domain
            || pattern
                .strip_prefix('.')
                .is_some_and(|bare| domain == bare || domain.ends_with(&pattern))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec!["shop.test".into(), ".example.test".into(), "[::1]".into()]
    }

    #[test]
    fn exact_subdomain_and_port_forms_match() {
        for host in [
            "shop.test",
            "SHOP.test:8000",
            "example.test",
            "api.example.test",
            "a.b.example.test.",
            "[::1]:80",
        ] {
            assert!(host_allowed(host, &allowed()), "{host}");
        }
    }

    #[test]
    fn hostile_hosts_do_not() {
        for host in [
            "evil.test",
            "shop.test.evil.test",
            "notexample.test",
            "shop.test@evil.test",
            "shop.test:abc",
            "[::1",
            "",
            " ",
            "shop.test:",
        ] {
            assert!(!host_allowed(host, &allowed()), "{host:?}");
        }
    }

    #[test]
    fn a_star_allows_any_plausible_host() {
        assert!(host_allowed("anything.test", &["*".into()]));
        assert!(!host_allowed("bad host", &["*".into()]));
    }
}
