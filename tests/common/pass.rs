//! One update pass (`updater::Pass::deliver`) as failures*.rs and delivery.rs drive it: a
//! router set up against a local HTTPS endpoint with 2 s timeouts, a plan of one host with
//! an IPv4 address, and a fake clock.

use super::FakeClock;
use route53_ddns::addresses::{HostPlan, Nat};
use route53_ddns::updater::{Exit, Pass};
use route53_ddns_protocol::AddrSpec;

pub type Setup = super::router::Router;

pub fn setup(port: u16, ca_pem: &str, extra: &str) -> Setup {
    let options = format!("\toption connect_timeout '2'\n\toption timeout '2'\n{extra}");
    super::router::router("fail", &format!("localhost:{port}"), ca_pem, &options)
}

pub fn plan_v4(ip: &str) -> Vec<HostPlan> {
    vec![HostPlan {
        name: "home.example.com".into(),
        ipv4: AddrSpec::Set(ip.parse().expect("ip")),
        ipv6: AddrSpec::Keep,
        wan_ipv4: ip.parse().ok(),
        nat: Some(Nat::None),
    }]
}

pub fn run(s: &Setup, clock: &mut FakeClock, force: bool, plans: &[HostPlan]) -> Exit {
    Pass {
        config: &s.config,
        store: &s.store,
        key: &s.key,
        next: None,
        force,
        clock_synced: false,
        clock,
    }
    .deliver(plans)
}
