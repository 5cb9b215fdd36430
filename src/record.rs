//! The per-host state a pass leaves (`status` reads it): what was sent and published, and
//! the no-change check against it ([`needs_update`]).

use crate::addresses::{self, HostPlan, Nat};
use crate::state::{ErrorInfo, HostState, Store};
use route53_ddns_protocol::{AddrSpec, Last, PublishedHost, UpdateResponse, UpdateResult};

/// Records a success for every host sent: what the endpoint published and what was asked.
pub fn success(
    store: &Store,
    now: u64,
    plans: &[&HostPlan],
    states: &[HostState],
    resp: &UpdateResponse,
) {
    let result = match resp.result {
        UpdateResult::Updated => "updated",
        UpdateResult::Unchanged => "unchanged",
    };
    for (plan, old) in plans.iter().zip(states) {
        let published = resp
            .hosts
            .iter()
            .find(|h| route53_ddns_protocol::punycode::same_name(&h.name, &plan.name));
        let mut st = old.clone();
        if let Some(p) = published {
            st.ipv4 = p.a.first().map(|a| a.to_string()).or(st.ipv4);
            st.ipv6 = p.aaaa.first().map(|a| a.to_string()).or(st.ipv6);
        }
        st.last = last(resp.stamp, published);
        st.result = Some(result.into());
        st.time = Some(now);
        st.confirmed = Some(now);
        st.request_id = Some(resp.request_id.clone());
        st.observed = Some(resp.observed.to_string());
        st.wan_ipv4 = plan.wan_ipv4.map(|a| a.to_string());
        st.nat = plan.nat.map(|n| n.as_str().to_owned());
        st.diagnosis = match (plan.nat, plan.wan_ipv4, plan.ipv4) {
            (Some(nat), Some(wan), AddrSpec::Auto) if nat != Nat::None => {
                let public = published
                    .and_then(|p| p.a.first().copied().map(std::net::IpAddr::V4))
                    .or(Some(resp.observed));
                addresses::diagnosis(nat, wan, public)
            }
            _ => None,
        };
        st.error = None;
        st.sent_ipv4 = spec_text(&plan.ipv4).or(st.sent_ipv4);
        st.sent_ipv6 = spec_text(&plan.ipv6).or(st.sent_ipv6);
        if let Some(d) = &st.diagnosis {
            log::warn!("{}: {d}", plan.name);
        }
        log::info!(
            "{}: {result}: A {} AAAA {}",
            plan.name,
            st.ipv4.as_deref().unwrap_or("-"),
            st.ipv6.as_deref().unwrap_or("-")
        );
        if let Err(e) = store.save_host(&st) {
            log::warn!("cannot write state for {}: {e}", plan.name);
        }
    }
}

/// The host's `last` for the next request: the stamp this answer reports and the records it
/// published. An endpoint that reports no stamp gets no `last`.
fn last(stamp: Option<u64>, published: Option<&PublishedHost>) -> Option<Last> {
    let (stamp, p) = (stamp?, published?);
    let last = Last {
        stamp,
        a: p.a.clone(),
        aaaa: p.aaaa.clone(),
        ttl: p.ttl,
    };
    last.usable().is_some().then_some(last)
}

/// Records a failure for every host sent, keeping what was published before.
pub fn failure(
    store: &Store,
    now: u64,
    plans: &[&HostPlan],
    states: &[HostState],
    info: &ErrorInfo,
    request_id: Option<&str>,
) {
    for (plan, old) in plans.iter().zip(states) {
        let mut st = old.clone();
        st.result = Some("error".into());
        st.time = Some(now);
        st.request_id = request_id.map(str::to_owned);
        st.wan_ipv4 = plan.wan_ipv4.map(|a| a.to_string()).or(st.wan_ipv4);
        st.nat = plan.nat.map(|n| n.as_str().to_owned()).or(st.nat);
        st.error = Some(info.clone());
        if let Err(e) = store.save_host(&st) {
            log::warn!("cannot write state for {}: {e}", plan.name);
        }
    }
}

/// An address as kept in the state (`sent_ipv4`, `sent_ipv6`): none for "keep".
pub(crate) fn spec_text<T: ToString>(s: &AddrSpec<T>) -> Option<String> {
    match s {
        AddrSpec::Keep => None,
        AddrSpec::Auto => Some("auto".into()),
        AddrSpec::Set(a) => Some(a.to_string()),
    }
}

/// How often an address the router cannot see itself ("auto": behind CGNAT or another
/// NAT) is confirmed with the endpoint at the latest: the carrier can move the public
/// address without the WAN address changing, and only the endpoint sees it.
pub const AUTO_RECHECK_S: u64 = 3600;

/// Whether this host must be sent: something differs from the last success, the last
/// attempt failed, or the force interval (for "auto" addresses, at most an hour) has passed.
pub fn needs_update(plan: &HostPlan, st: &HostState, now: u64, force_interval_s: u64) -> bool {
    let Some(confirmed) = st.confirmed else {
        return true;
    };
    let auto = plan.ipv4 == AddrSpec::Auto || plan.ipv6 == AddrSpec::Auto;
    let force_interval_s = if auto {
        force_interval_s.min(AUTO_RECHECK_S)
    } else {
        force_interval_s
    };
    // A confirmation "in the future" means the clock was wrong then (or is now): resend.
    if st.result.as_deref() == Some("error")
        || confirmed > now
        || now - confirmed >= force_interval_s
    {
        return true;
    }
    let v4 = spec_text(&plan.ipv4);
    let v6 = spec_text(&plan.ipv6);
    (v4.is_some() && v4 != st.sent_ipv4)
        || (v6.is_some() && v6 != st.sent_ipv6)
        || (plan.ipv4 == AddrSpec::Auto && plan.wan_ipv4.map(|a| a.to_string()) != st.wan_ipv4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use route53_ddns_protocol::PublishedHost;

    /// The endpoint answers with a Unicode name's `xn--` form; its records are saved.
    #[test]
    fn an_idn_name_records_what_the_endpoint_published() {
        let dir = std::env::temp_dir().join(format!("r53ddns-idn-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let store = Store::new(dir.clone());
        let plan = HostPlan {
            name: "bücher.example.com".into(),
            ipv4: AddrSpec::Auto,
            ipv6: AddrSpec::Keep,
            wan_ipv4: None,
            nat: None,
        };
        let resp = UpdateResponse {
            result: UpdateResult::Updated,
            hosts: vec![PublishedHost {
                name: "xn--bcher-kva.example.com".into(),
                a: vec!["203.0.113.7".parse().expect("ip")],
                aaaa: vec![],
                ttl: 60,
            }],
            observed: "203.0.113.7".parse().expect("ip"),
            request_id: "r".into(),
            server_time: 0,
            change_id: None,
            stamp: None,
        };
        let old = store.host(&plan.name);
        success(&store, 1, &[&plan], &[old], &resp);
        let saved = store.host("bücher.example.com");
        assert_eq!(saved.ipv4.as_deref(), Some("203.0.113.7"));
        assert_eq!(saved.result.as_deref(), Some("updated"));
        assert_eq!(
            saved.last, None,
            "an endpoint that reports no stamp gets no last"
        );
        // An endpoint that reports the stamp: the name's `last` is kept across runs.
        let stamped = UpdateResponse {
            stamp: Some(1_764_115_200_123),
            ..resp
        };
        success(&store, 2, &[&plan], &[saved], &stamped);
        let saved = store.host("bücher.example.com");
        let _ = std::fs::remove_dir_all(&dir);
        let last = saved.last.expect("last kept");
        assert_eq!(last.to_text(), "1764115200123 60 203.0.113.7 -");
    }
}
