//! The endpoint's JSON answer body (success or error), as the router reads it after the
//! HTTP layer, and the retry wait it leads to.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = route53_ddns_protocol::UpdateResponse::from_body(data);
    if let Some(e) = route53_ddns_protocol::ErrorResponse::from_body(data) {
        let _ = e.error.advice();
        let _ = e.error.disposition();
        let _ = route53_ddns::retry::next_wait(u32::MAX, 0.5, e.retry_after);
        let _ = route53_ddns::error::bounded(&e.message);
    }
});
