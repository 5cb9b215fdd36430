//! One update pass that succeeds against a local HTTPS server: the request is signed,
//! verifiable and recorded; unchanged addresses send nothing until `--force` or the force
//! interval has passed (or the clock went backwards).

mod common;

use common::pass::{plan_v4, run, setup};
use common::*;
use route53_ddns::updater::Exit;
use route53_ddns_protocol::{AddrSpec, SignedHeaders, UpdateRequest};
use std::time::Duration;

#[test]
fn success_is_signed_verifiable_and_recorded() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(
            200,
            &ok_body(&["home.example.com"], "192.0.2.1", "192.0.2.1"),
        )
    });
    let s = setup(server.port, &pki.ca_pem, "");
    let mut clock = FakeClock::new();
    assert_eq!(run(&s, &mut clock, false, &plan_v4("192.0.2.1")), Exit::Ok);
    let got = server.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v2/update"));
    let signed = SignedHeaders::parse(|name| r.header(name)).expect("signature headers");
    assert_eq!(signed.verify("POST", "/v2/update", &r.body), Ok(()));
    // Signed for the host the router addressed, which is also the Host header it sent.
    assert_eq!(signed.host, format!("localhost:{}", server.port));
    assert_eq!(r.header("host"), Some(signed.host.as_str()));
    assert_eq!(&signed.key_id, s.key.key_id());
    let req = UpdateRequest::from_body(&r.body).expect("protocol body");
    assert_eq!(req.hosts[0].name, "home.example.com");
    assert_eq!(req.hosts[0].ipv6, AddrSpec::Keep, "unknown family left out");
    let st = s.store.host("home.example.com");
    assert_eq!(st.ipv4.as_deref(), Some("192.0.2.1"));
    assert_eq!(st.result.as_deref(), Some("updated"));
    assert_eq!(st.request_id.as_deref(), Some("req-1"));

    // Same address again: nothing is sent.
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Nothing
    );
    assert_eq!(server.count(), 1);
    // --force sends anyway.
    assert_eq!(run(&s, &mut clock, true, &plan_v4("192.0.2.1")), Exit::Ok);
    assert_eq!(server.count(), 2);
}

#[test]
fn unchanged_addresses_are_sent_again_once_the_force_interval_passed() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(
            200,
            &ok_body(&["home.example.com"], "192.0.2.1", "192.0.2.1"),
        )
    });
    let s = setup(server.port, &pki.ca_pem, "\toption force_interval '2'\n");
    let mut clock = FakeClock::new();
    assert_eq!(run(&s, &mut clock, false, &plan_v4("192.0.2.1")), Exit::Ok);
    clock.slept += Duration::from_secs(3600);
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Nothing
    );
    assert_eq!(server.count(), 1);
    clock.slept += Duration::from_secs(3601);
    assert_eq!(run(&s, &mut clock, false, &plan_v4("192.0.2.1")), Exit::Ok);
    assert_eq!(server.count(), 2);
    // A clock that went backwards (confirmation in the future) also resends.
    let mut past = FakeClock::new();
    past.start -= Duration::from_secs(86_400);
    assert_eq!(run(&s, &mut past, false, &plan_v4("192.0.2.1")), Exit::Ok);
    assert_eq!(server.count(), 3);
}
