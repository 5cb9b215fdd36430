//! A state file's bytes (host-<name>.json / run.json on tmpfs) → host and run state, and
//! what the updater computes from them.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (host, run) = route53_ddns::state::Store::parse(data);
    let _ = run.due(1_764_000_000);
    let _ = run.due(u64::MAX);
    let plan = route53_ddns::addresses::HostPlan {
        name: host.name.clone(),
        ipv4: route53_ddns_protocol::AddrSpec::Auto,
        ipv6: route53_ddns_protocol::AddrSpec::Keep,
        wan_ipv4: None,
        nat: None,
    };
    let _ = route53_ddns::record::needs_update(&plan, &host, 1_764_000_000, u64::MAX);
    let _ = route53_ddns::record::needs_update(&plan, &host, u64::MAX, 86_400);
});
