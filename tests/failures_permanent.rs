//! Permanent refusals of one update pass: nothing is sent again, whatever the address,
//! until the config or the key changes or `--force`; a wrong URL's 404 is permanent too.

mod common;

use common::pass::{plan_v4, run, setup};
use common::*;
use route53_ddns::updater::Exit;

#[test]
fn a_permanent_refusal_stops_until_config_or_key_change() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(403, &error_body("name_not_allowed", None))
    });
    let mut s = setup(server.port, &pki.ca_pem, "");
    let mut clock = FakeClock::new();
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Permanent
    );
    assert_eq!(server.count(), 1, "no retry of a permanent refusal");
    let e = s.store.host("home.example.com").error.expect("error");
    assert!(e.permanent);
    assert_eq!(e.code, "name_not_allowed");
    assert!(e.advice.contains("registry"), "{}", e.advice);

    // Hotplug events and timers: still nothing sent, even with a new address.
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Permanent
    );
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.9")),
        Exit::Permanent
    );
    assert_eq!(server.count(), 1);

    // A changed config is tried again.
    s.config.fingerprint.push('x');
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Permanent
    );
    assert_eq!(server.count(), 2);
    // So is a new key.
    s.key = route53_ddns::key::generate(&s.dir.join("key2"), false).expect("keygen");
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Permanent
    );
    assert_eq!(server.count(), 3);
    // And --force.
    assert_eq!(
        run(&s, &mut clock, true, &plan_v4("192.0.2.1")),
        Exit::Permanent
    );
    assert_eq!(server.count(), 4);
}

#[test]
fn a_wrong_url_answer_is_permanent() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| Behaviour::Respond {
        status: 404,
        headers: vec![],
        body: "Not Found".into(),
    });
    let s = setup(server.port, &pki.ca_pem, "");
    let mut clock = FakeClock::new();
    assert_eq!(
        run(&s, &mut clock, false, &plan_v4("192.0.2.1")),
        Exit::Permanent
    );
    assert_eq!(server.count(), 1);
}
