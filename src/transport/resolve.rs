//! ureq's resolver for the endpoint: a name lookup bounded by the connect deadline, the
//! family filter, and the addresses in the order they are tried (families alternating).

use super::connect::fail;
use super::{Failure, Family, ENV_TEST_RESOLVE};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Instant;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

#[derive(Debug)]
pub struct Resolve {
    pub host: String,
    pub port: u16,
    pub family: Family,
    pub deadline: Instant,
}

impl Resolver for Resolve {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let found = lookup(&self.host, self.port, self.deadline)?;
        let wanted: Vec<SocketAddr> = found
            .into_iter()
            .filter(|a| match self.family {
                Family::Any => true,
                Family::V4 => a.is_ipv4(),
                Family::V6 => a.is_ipv6(),
            })
            .collect();
        if wanted.is_empty() {
            return Err(fail(Failure::Dns(format!(
                "{} has no {} address",
                self.host,
                match self.family {
                    Family::V4 => "IPv4",
                    Family::V6 => "IPv6",
                    Family::Any => "IP",
                }
            ))));
        }
        let mut out = self.empty();
        for a in interleave(wanted).into_iter().take(16) {
            out.push(a);
        }
        Ok(out)
    }
}

/// The addresses of `host`: an IP literal as is; a name through getaddrinfo on a thread,
/// abandoned at `deadline`.
fn lookup(host: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, ureq::Error> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if let Some(ips) = test_override(host) {
        return Ok(ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect());
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let name = (host.to_owned(), port);
    std::thread::Builder::new()
        .name("resolve".into())
        .spawn(move || {
            let r = name.to_socket_addrs().map(|i| i.collect::<Vec<_>>());
            let _ = tx.send(r);
        })
        .map_err(|e| fail(Failure::Dns(format!("{host}: {e}"))))?;
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(fail(Failure::Dns(format!("{host}: {e}")))),
        Err(_) => Err(fail(Failure::Timeout(format!(
            "looking up {host} (connect_timeout)"
        )))),
    }
}

fn test_override(host: &str) -> Option<Vec<IpAddr>> {
    let spec = std::env::var(ENV_TEST_RESOLVE).ok()?;
    spec.split(';').find_map(|entry| {
        let (name, ips) = entry.split_once('=')?;
        (name == host).then(|| ips.split(',').filter_map(|ip| ip.parse().ok()).collect())
    })
}

/// The lookup's order, families alternating from the first one's.
fn interleave(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let first_v6 = addrs.first().is_some_and(SocketAddr::is_ipv6);
    let (mut a, mut b): (Vec<_>, Vec<_>) = addrs.into_iter().partition(|x| x.is_ipv6() == first_v6);
    let mut out = Vec::with_capacity(a.len() + b.len());
    a.reverse();
    b.reverse();
    while !a.is_empty() || !b.is_empty() {
        out.extend(a.pop());
        out.extend(b.pop());
    }
    out
}
