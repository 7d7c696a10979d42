//! URL policy: what an address given to the app says about the connection it will make, and the
//! mistakes people make typing it, each with the fix.

/// A platform address the app cannot use, and what to type instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("`{given}` has no http:// or https:// in front; did you mean {suggested}?")]
    NoScheme { given: String, suggested: String },
    #[error("`{given}`: only http:// and https:// addresses are supported")]
    UnsupportedScheme { given: String },
    #[error("`{given}` ends with /v1, which the app adds itself; use {suggested}")]
    VersionInPath { given: String, suggested: String },
    #[error("`{given}` is not a web address: {reason}")]
    NotAUrl { given: String, reason: String },
}

/// Checks a platform address as typed and returns it without a trailing slash.
pub fn check_base_url(input: &str) -> Result<String, UrlError> {
    let given = input.trim().to_owned();
    let trimmed = given.trim_end_matches('/');
    let Some((scheme, rest)) = given.split_once("://") else {
        // `localhost:8080` parses as a URL whose scheme is "localhost": catch it before parsing.
        let scheme = if is_insecure_url(&format!("http://{trimmed}")) { "https" } else { "http" };
        return Err(UrlError::NoScheme { suggested: format!("{scheme}://{trimmed}"), given });
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return Err(UrlError::UnsupportedScheme { given });
    }
    if rest.trim_end_matches('/').is_empty() {
        return Err(UrlError::NotAUrl { given, reason: "no host name".into() });
    }
    if let Err(e) = reqwest::Url::parse(trimmed) {
        return Err(UrlError::NotAUrl { given, reason: e.to_string() });
    }
    if let Some(base) = trimmed.strip_suffix("/v1") {
        return Err(UrlError::VersionInPath { suggested: base.to_owned(), given });
    }
    Ok(trimmed.to_owned())
}

/// Plain `http://` to anything but this machine: passwords travel readable.
pub fn is_insecure_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    !loopback
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_url_mistake_names_its_fix() {
        assert_eq!(check_base_url("https://p.example/").as_deref(), Ok("https://p.example"));
        assert_eq!(check_base_url(" http://127.0.0.1:8080 ").as_deref(), Ok("http://127.0.0.1:8080"));
        let v1 = check_base_url("https://p.example/v1").unwrap_err().to_string();
        assert!(v1.contains("drop") || v1.contains("adds it"), "{v1}");
        assert!(v1.contains("use https://p.example"), "{v1}");
        let local = check_base_url("localhost:8080").unwrap_err().to_string();
        assert!(local.contains("did you mean http://localhost:8080?"), "{local}");
        let remote = check_base_url("platform.example.com").unwrap_err().to_string();
        assert!(remote.contains("did you mean https://platform.example.com?"), "{remote}");
        let ftp = check_base_url("ftp://x").unwrap_err().to_string();
        assert!(ftp.contains("only http:// and https://") && !ftp.contains("nexpected"), "{ftp}");
        assert!(matches!(check_base_url("http://"), Err(UrlError::NotAUrl { .. })));
    }

    #[test]
    fn insecure_only_for_plain_http_to_another_machine() {
        assert!(is_insecure_url("http://platform.example.com"));
        assert!(is_insecure_url("http://10.0.0.5:8080/"));
        assert!(!is_insecure_url("https://platform.example.com"));
        assert!(!is_insecure_url("http://127.0.0.1:8080"));
        assert!(!is_insecure_url("http://127.1.2.3"));
        assert!(!is_insecure_url("http://localhost:3000"));
        assert!(!is_insecure_url("HTTP://LOCALHOST"));
        assert!(!is_insecure_url("http://[::1]:8080"));
        assert!(is_insecure_url("http://[2001:db8::1]:8080"));
        assert!(is_insecure_url("http://localhost.evil.example"));
    }
}
