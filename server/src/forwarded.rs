//! What the client of a request is, when a reverse proxy may stand between:
//! its address, for limits kept per client (guessing portal access codes),
//! and whether it speaks HTTPS, for `Secure` cookies and the links printed
//! on minutes.
//!
//! Directly connected, the address is the peer's. Behind a reverse proxy every
//! request comes from the proxy, so one guesser would lock out every
//! establishment; the proxy then appends the client's address to
//! `X-Forwarded-For`. That header is anyone's to write, so it is believed
//! only from a proxy the operator named (`serve --trusted-proxy IP`), and
//! only its rightmost entries: walking from the right, past the trusted
//! proxies, the first address is the one the outermost trusted proxy saw.
//! Whatever a client wrote further left is never reached. A proxy that ends
//! TLS says so with `X-Forwarded-Proto: https`, believed on the same terms.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::app::AppState;

/// The client's address as the limits count it. Without connection info (a
/// server embedded without it) every client shares one address: a stricter
/// limit, never a looser one.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = peer(parts).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(client_ip(peer, &parts.headers, &state.trusted_proxies)))
    }
}

/// Whether the client reached us over HTTPS: our own TLS, or a trusted proxy's.
pub struct Https(pub bool);

impl FromRequestParts<AppState> for Https {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let proxied = peer(parts)
            .is_some_and(|p| state.trusted_proxies.contains(&normal(p)) && forwarded_https(&parts.headers));
        Ok(Https(state.secure_cookies || proxied))
    }
}

/// The connected peer's address, when the server was started with connection info.
fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The proxy nearest us says the client spoke HTTPS (its value is the last one).
fn forwarded_https(headers: &HeaderMap) -> bool {
    headers
        .get_all("x-forwarded-proto")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// The client behind `peer`, given the proxies trusted to say who it is.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&normal(peer)) {
        return peer;
    }
    // Several headers are one list, in order (RFC 9110 §5.3).
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // An entry we cannot read ends the walk: what lies left of it is unverifiable.
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !trusted.contains(&normal(ip)) {
            break;
        }
    }
    client
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:a.b.c.d`) as IPv4,
/// so that `--trusted-proxy 10.0.0.2` matches either way.
fn normal(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let h = forwarded(&["203.0.113.5"]);
        assert_eq!(client_ip(ip("198.51.100.1"), &h, &[]), ip("198.51.100.1"));
        assert_eq!(
            client_ip(ip("198.51.100.1"), &h, &[ip("10.0.0.2")]),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let proxies = [ip("10.0.0.2"), ip("10.0.0.3")];
        let h = forwarded(&["203.0.113.5"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &proxies), ip("203.0.113.5"));
        // A client's own entry on the left is never reached.
        let spoofed = forwarded(&["1.2.3.4, 203.0.113.5, 10.0.0.3"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &spoofed, &proxies), ip("203.0.113.5"));
        // Two headers are one list.
        let split = forwarded(&["1.2.3.4", "203.0.113.5"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &split, &proxies), ip("203.0.113.5"));
        // IPv4 through an IPv6 socket.
        assert_eq!(client_ip(ip("::ffff:10.0.0.2"), &h, &proxies), ip("203.0.113.5"));
    }

    #[test]
    fn the_nearest_proxy_says_the_scheme() {
        let mut h = HeaderMap::new();
        assert!(!forwarded_https(&h));
        h.append("x-forwarded-proto", HeaderValue::from_static("http, HTTPS"));
        assert!(forwarded_https(&h));
        h.append("x-forwarded-proto", HeaderValue::from_static("http"));
        assert!(!forwarded_https(&h));
    }

    #[test]
    fn a_proxy_that_says_nothing_readable_is_the_client() {
        let proxies = [ip("10.0.0.2")];
        assert_eq!(
            client_ip(ip("10.0.0.2"), &HeaderMap::new(), &proxies),
            ip("10.0.0.2")
        );
        let garbage = forwarded(&["unknown"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &garbage, &proxies), ip("10.0.0.2"));
        let partly = forwarded(&["203.0.113.5, unknown"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &partly, &proxies), ip("10.0.0.2"));
    }
}
