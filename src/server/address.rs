//! The client address of a request (API v1.1): the socket's peer, or behind trusted proxies the
//! right-most `X-Forwarded-For` address that is not itself a trusted proxy; and the key under which
//! limits count an address.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// `--trusted-proxies CIDR[,CIDR…]`: peers whose `X-Forwarded-For` is believed. Empty by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

/// One network: an address and a prefix length (a bare address is the network of that address alone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_matches(u128::from(u32::from(net)) << 96, u128::from(u32::from(ip)) << 96, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_matches(u128::from(net), u128::from(ip), self.prefix),
            _ => false,
        }
    }
}

/// Whether the first `prefix` bits of `a` and `b` (left-aligned in 128 bits) agree.
fn prefix_matches(a: u128, b: u128, prefix: u8) -> bool {
    prefix == 0 || (a ^ b) >> (128 - u32::from(prefix)) == 0
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = canonical(
            address
                .parse::<IpAddr>()
                .map_err(|_| format!("{text:?} is not an IP address or a CIDR network"))?,
        );
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl TrustedProxies {
    pub fn new(networks: Vec<Cidr>) -> Self {
        Self(networks)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }

    /// The client address of a request from `peer` with these `headers`. `X-Forwarded-For` is read only
    /// when the peer is trusted; from its right end, trusted proxies are skipped and the first other
    /// address is the client. An unreadable entry stops the walk at the last trusted hop: only a
    /// trusted proxy could have put it there, and anything further left may be forged.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.contains(client) {
            return client;
        }
        // A value that is not text is one unreadable entry.
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|value| value.to_str().unwrap_or("?").split(','))
            .map(str::trim)
            .collect();
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { break };
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        client
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of CIDR networks or addresses; empty for none.
    fn from_str(text: &str) -> Result<Self, String> {
        let networks = text
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(Cidr::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(networks))
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.0.iter().map(Cidr::to_string).collect();
        f.write_str(&list.join(","))
    }
}

/// An `X-Forwarded-For` entry: an address, also `[v6]`, `v4:port` or `[v6]:port` as some proxies write.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse::<Ipv6Addr>().ok().map(IpAddr::V6))?;
    Some(canonical(ip))
}

/// IPv4 addresses as themselves, also when they arrive mapped into IPv6 (`::ffff:192.0.2.1`).
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// What limits count a client under: an IPv4 address, or the /64 network of an IPv6 address (one
/// subscriber usually holds a whole /64, so counting single IPv6 addresses would be no limit at all).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddressKey {
    V4([u8; 4]),
    V6Net64([u8; 8]),
}

impl AddressKey {
    pub fn of(ip: IpAddr) -> Self {
        match canonical(ip) {
            IpAddr::V4(v4) => AddressKey::V4(v4.octets()),
            IpAddr::V6(v6) => {
                let mut net = [0u8; 8];
                net.copy_from_slice(&v6.octets()[..8]);
                AddressKey::V6Net64(net)
            }
        }
    }
}

impl fmt::Display for AddressKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressKey::V4(octets) => write!(f, "{}", std::net::Ipv4Addr::from(*octets)),
            AddressKey::V6Net64(net) => {
                let mut octets = [0u8; 16];
                octets[..8].copy_from_slice(net);
                write!(f, "{}/64", Ipv6Addr::from(octets))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn networks_parse_and_match() {
        let proxies: TrustedProxies = "10.0.0.0/8, 192.0.2.7,2001:db8::/32".parse().unwrap();
        assert_eq!(proxies.to_string(), "10.0.0.0/8,192.0.2.7/32,2001:db8::/32");
        assert!(proxies.contains(ip("10.200.1.1")));
        assert!(proxies.contains(ip("::ffff:10.1.2.3")), "IPv4 mapped into IPv6");
        assert!(proxies.contains(ip("192.0.2.7")) && !proxies.contains(ip("192.0.2.8")));
        assert!(proxies.contains(ip("2001:db8:ffff::1")) && !proxies.contains(ip("2001:db9::1")));
        assert!("0.0.0.0/0".parse::<TrustedProxies>().unwrap().contains(ip("203.0.113.9")));
        assert!(!"0.0.0.0/0".parse::<TrustedProxies>().unwrap().contains(ip("::1")));
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.example".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        let none = TrustedProxies::default();
        let h = headers(&["198.51.100.1"]);
        assert_eq!(none.client_address(ip("203.0.113.5"), &h), ip("203.0.113.5"));
        let proxies: TrustedProxies = "127.0.0.1,10.0.0.0/8".parse().unwrap();
        assert_eq!(proxies.client_address(ip("203.0.113.5"), &h), ip("203.0.113.5"), "untrusted peer");
        assert_eq!(proxies.client_address(ip("127.0.0.1"), &h), ip("198.51.100.1"));
        assert_eq!(proxies.client_address(ip("127.0.0.1"), &HeaderMap::new()), ip("127.0.0.1"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxies: TrustedProxies = "127.0.0.1,10.0.0.0/8".parse().unwrap();
        let peer = ip("127.0.0.1");
        // The client forged the left part; the proxies appended the rest.
        let h = headers(&["1.2.3.4, 198.51.100.1", "10.0.0.2"]);
        assert_eq!(proxies.client_address(peer, &h), ip("198.51.100.1"));
        assert_eq!(proxies.client_address(peer, &headers(&["[2001:db8::5]:4711"])), ip("2001:db8::5"));
        assert_eq!(proxies.client_address(peer, &headers(&["198.51.100.1:4711"])), ip("198.51.100.1"));
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(proxies.client_address(peer, &headers(&["1.2.3.4, garbage, 10.0.0.3"])), ip("10.0.0.3"));
        assert_eq!(proxies.client_address(peer, &headers(&["garbage"])), peer);
        // Only trusted hops: the left-most of them.
        assert_eq!(proxies.client_address(peer, &headers(&["10.0.0.9, 10.0.0.3"])), ip("10.0.0.9"));
    }

    #[test]
    fn limits_count_ipv6_by_its_64_bit_network() {
        assert_eq!(AddressKey::of(ip("2001:db8:1:2::1")), AddressKey::of(ip("2001:db8:1:2:ffff::9")));
        assert_ne!(AddressKey::of(ip("2001:db8:1:2::1")), AddressKey::of(ip("2001:db8:1:3::1")));
        assert_eq!(AddressKey::of(ip("::ffff:192.0.2.1")), AddressKey::of(ip("192.0.2.1")));
        assert_eq!(AddressKey::of(ip("2001:db8:1:2::1")).to_string(), "2001:db8:1:2::/64");
        assert_eq!(AddressKey::of(ip("192.0.2.1")).to_string(), "192.0.2.1");
    }
}
