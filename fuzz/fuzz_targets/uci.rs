//! UCI config text → parse → validate against the schema (what `update` does with
//! /etc/config/route53-ddns).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(package) = route53_ddns::uci::parse(text) {
        let loaded = route53_ddns::config::Loaded {
            package,
            fingerprint: String::new(),
        };
        let _ = route53_ddns::config::is_enabled(&loaded.package);
        let _ = route53_ddns::config::Config::from_package(std::path::Path::new("fuzz"), &loaded);
    }
});
