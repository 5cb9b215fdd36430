//! netifd's `ubus call network.interface.<if> status` JSON, `ip -j addr` JSON and
//! `/proc/net/if_inet6` text, as the router reads them.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = route53_ddns::netifd::parse_status(data);
    let _ = route53_ddns::netifd::parse_ip_json(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = route53_ddns::netifd::parse_if_inet6(text, "eth0");
    }
    if let Ok(st) = route53_ddns::netifd::parse_status(data) {
        let _ = route53_ddns::addresses::pick_ipv4(&st);
        let _ = route53_ddns::addresses::pick_ipv6(&st);
        let _ = route53_ddns::addresses::lan_prefix(&st, &st, "lan");
    }
});
