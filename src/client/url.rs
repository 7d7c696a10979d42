//! URL policy: what an address given to the app says about the connection it will make.

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
