//! The expected boot order is not a fault. netifd often brings up `wan6` before `wan`:
//! the update that `wan6`'s ifup starts then finds no route to an endpoint reachable over
//! IPv4 only. While the IPv4 interface has no address yet, such a pass records no error,
//! logs no warning and schedules no retry: `wan`'s own ifup sends the update moments
//! later (and the safety-net timer after it, if it never comes up).

use crate::addresses::HostPlan;
use crate::config::Config;
use crate::error::Error;
use crate::transport::Failure;

/// How the transport words "no route for this address" (src/transport/connect.rs).
const NO_ROUTE: &str = "(network unreachable)";

/// Whether `err` is the endpoint being out of reach only because the IPv4 interface is not
/// up yet: hosts publish IPv4, none of the `plans` saw an IPv4 address on it, and the
/// request found no route at all.
pub fn ipv4_not_up_yet(config: &Config, plans: &[&HostPlan], err: &Error) -> bool {
    let no_route = matches!(err, Error::Transport(Failure::Network(m)) if m.ends_with(NO_ROUTE));
    no_route && config.hosts.iter().any(|h| h.ipv4) && plans.iter().all(|p| p.wan_ipv4.is_none())
}

/// The log line for such a pass (info: nothing is wrong).
pub fn note(config: &Config) {
    log::info!(
        "the endpoint cannot be reached before {} is up (no route yet); the update is sent when it comes up",
        config.ipv4_interface
    );
}
