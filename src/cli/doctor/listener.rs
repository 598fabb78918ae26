//! Doctor's check of the metrics and health listener: the address can be bound, or a cvmbot
//! already answers `/healthz` there.

use super::Report;
use crate::config::Config;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The address the metrics and health endpoints are configured to listen on (`[service] listen`,
/// off by default), if any.
pub(super) fn metrics_listen_address(config: &Config) -> Option<SocketAddr> {
    config.service.listen
}

/// What is at the listener's address.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Listener {
    /// No listener is configured.
    Off,
    /// Nothing listens there: cvmbot can.
    Free,
    /// Something answering `/healthz` with 2xx listens there: a running cvmbot.
    Answering(String),
    /// Something else holds the port.
    Taken(String),
    /// The address cannot be listened on at all.
    Unusable(String),
}

/// Where to reach a listener bound to `addr` from this machine (an unspecified address is
/// reached on loopback).
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port()),
        _ => addr,
    }
}

/// Looks at `addr`: binds it for a moment, or asks what holds it for `/healthz`.
pub(super) async fn probe(addr: Option<SocketAddr>) -> Listener {
    let Some(addr) = addr else {
        return Listener::Off;
    };
    match std::net::TcpListener::bind(addr) {
        Ok(listener) => {
            drop(listener);
            Listener::Free
        }
        Err(e) if e.kind() == ErrorKind::AddrInUse => {
            let url = format!("http://{}/healthz", reachable(addr));
            match crate::cli::healthcheck::probe(&url).await {
                Ok(line) => Listener::Answering(line),
                Err(problem) => Listener::Taken(problem),
            }
        }
        Err(e) if e.kind() == ErrorKind::PermissionDenied => Listener::Unusable(format!(
            "{addr}: not allowed to listen there ({e}); ports below 1024 need privileges"
        )),
        Err(e) if e.kind() == ErrorKind::AddrNotAvailable => {
            Listener::Unusable(format!("{addr} is not an address of this machine ({e})"))
        }
        Err(e) => Listener::Unusable(format!("{addr}: {e}")),
    }
}

/// Reports what [`probe`] found at `addr`.
pub(super) async fn check(addr: Option<SocketAddr>, report: &mut Report) {
    const WHAT: &str = "metrics listener";
    let exposed = addr.is_some_and(|a| !a.ip().is_loopback());
    let reach = if exposed {
        " (reachable from other machines: fine in a container, elsewhere firewall it)"
    } else {
        ""
    };
    match probe(addr).await {
        Listener::Off => report.ok(WHAT, "off: no metrics or health endpoint is served"),
        Listener::Free => report.ok(
            WHAT,
            format!(
                "{} is free for cvmbot{reach}",
                addr.map_or_else(String::new, |a| a.to_string())
            ),
        ),
        Listener::Answering(line) => report.ok(WHAT, format!("a cvmbot already answers there: {line}{reach}")),
        Listener::Taken(problem) => report.fail(
            WHAT,
            format!("the port is taken by something that is not a healthy cvmbot: {problem}"),
            "stop what holds it (`ss -ltnp` names it) or choose another address for the listener",
        ),
        Listener::Unusable(problem) => report.fail(
            WHAT,
            problem,
            "choose an address of this machine and a port above 1023 (or grant CAP_NET_BIND_SERVICE)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_free_port_a_healthy_cvmbot_a_stranger_and_a_foreign_address_are_told_apart() {
        assert_eq!(probe(None).await, Listener::Off);
        let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let free_addr = free.local_addr().expect("address");
        drop(free);
        assert_eq!(probe(Some(free_addr)).await, Listener::Free);

        let healthy = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let healthy_addr = healthy.local_addr().expect("address");
        tokio::spawn(async move {
            let (mut socket, _) = healthy.accept().await.expect("a connection");
            let mut request = [0u8; 1024];
            let n = socket.read(&mut request).await.expect("the request");
            let asked = String::from_utf8_lossy(&request[..n]).into_owned();
            let answer = if asked.starts_with("GET /healthz ") {
                "200 OK"
            } else {
                "404 Not Found"
            };
            let reply = format!("HTTP/1.1 {answer}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = socket.write_all(reply.as_bytes()).await;
        });
        assert!(matches!(probe(Some(healthy_addr)).await, Listener::Answering(line) if line.contains("200")));

        let stranger = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let stranger_addr = stranger.local_addr().expect("address");
        tokio::spawn(async move {
            let (mut socket, _) = stranger.accept().await.expect("a connection");
            let _ = socket.write_all(b"SSH-2.0-OpenSSH\r\n").await;
        });
        assert!(matches!(probe(Some(stranger_addr)).await, Listener::Taken(_)));

        let foreign: SocketAddr = "192.0.2.1:9464".parse().expect("a documentation address");
        assert!(matches!(probe(Some(foreign)).await, Listener::Unusable(why) if why.contains("not an address")));
    }
}
