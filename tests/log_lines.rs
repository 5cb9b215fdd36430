//! What a pass leaves in the log (docs/config.md, "Logging"), the only trace `logread`
//! has: a refusal that stops the updates and a config problem are errors with advice; a
//! transient failure is a warning with the next try (not an error as well); a run that
//! finds its retry not yet due says so at info level.

mod common;

use common::*;
use route53_ddns::updater::Exit;
use std::sync::{Mutex, Once};
use std::thread::ThreadId;

use common::pass::Setup;

/// Every record logged in this test binary, with the thread that logged it (tests run in
/// parallel; a pass logs on its caller's thread).
static LINES: Mutex<Vec<(ThreadId, log::Level, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, r: &log::Record) {
        if let Ok(mut l) = LINES.lock() {
            l.push((std::thread::current().id(), r.level(), r.args().to_string()));
        }
    }

    fn flush(&self) {}
}

/// This thread's lines logged while `f` ran.
fn logged(f: impl FnOnce()) -> Vec<(log::Level, String)> {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        log::set_logger(&Capture).expect("logger");
        log::set_max_level(log::LevelFilter::Debug);
    });
    let me = std::thread::current().id();
    let from = LINES.lock().map(|l| l.len()).unwrap_or(0);
    f();
    let lines = LINES.lock().map(|l| l[from..].to_vec()).unwrap_or_default();
    lines
        .into_iter()
        .filter(|(t, _, _)| *t == me)
        .map(|(_, level, text)| (level, text))
        .collect()
}

fn at(lines: &[(log::Level, String)], level: log::Level) -> Vec<&str> {
    lines
        .iter()
        .filter(|(l, _)| *l == level)
        .map(|(_, t)| t.as_str())
        .collect()
}

fn setup(port: u16, ca_pem: &str) -> Setup {
    common::pass::setup(port, ca_pem, "")
}

fn run(s: &Setup, clock: &mut FakeClock) -> Exit {
    common::pass::run(s, clock, false, &common::pass::plan_v4("192.0.2.1"))
}

#[test]
fn a_permanent_refusal_is_logged_as_an_error_with_its_advice() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(403, &error_body("name_not_allowed", None))
    });
    let s = setup(server.port, &pki.ca_pem);
    let mut clock = FakeClock::new();
    let lines = logged(|| assert_eq!(run(&s, &mut clock), Exit::Permanent));
    let errors = at(&lines, log::Level::Error);
    assert_eq!(errors.len(), 1, "{lines:?}");
    assert!(errors[0].contains("name_not_allowed"), "{lines:?}");
    assert!(errors[0].contains("registry"), "the advice: {lines:?}");
}

#[test]
fn a_config_problem_is_logged_as_an_error_with_its_advice() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| json(500, "{}"));
    let s = setup(server.port, &pki.ca_pem);
    std::fs::remove_file(s.dir.join("ca.pem")).expect("rm");
    let mut clock = FakeClock::new();
    let lines = logged(|| assert_eq!(run(&s, &mut clock), Exit::Config));
    let errors = at(&lines, log::Level::Error);
    assert_eq!(errors.len(), 1, "{lines:?}");
    assert!(errors[0].contains("ca.pem"), "{lines:?}");
    assert!(errors[0].contains("ca_file"), "the advice: {lines:?}");
}

#[test]
fn a_transient_failure_is_a_warning_and_a_run_before_its_retry_says_why() {
    let pki = pki(&["localhost"]);
    let server = serve(Some(pki.server.clone()), |_, _| {
        json(503, &error_body("unavailable", None))
    });
    let s = setup(server.port, &pki.ca_pem);
    let mut clock = FakeClock::new();
    let lines = logged(|| assert_eq!(run(&s, &mut clock), Exit::Transient));
    assert!(at(&lines, log::Level::Error).is_empty(), "{lines:?}");
    let warnings = at(&lines, log::Level::Warn);
    assert_eq!(warnings.len(), 1, "{lines:?}");
    assert!(warnings[0].contains("try 1 failed"), "{lines:?}");
    assert!(warnings[0].contains("next try in 1"), "{lines:?}");

    // The timer fires before the retry is due: nothing sent, and the log says until when.
    let lines = logged(|| assert_eq!(run(&s, &mut clock), Exit::Transient));
    assert_eq!(server.count(), 1);
    assert!(at(&lines, log::Level::Error).is_empty(), "{lines:?}");
    let info = at(&lines, log::Level::Info);
    assert!(
        info.iter()
            .any(|l| l.contains("the next try of this request is due at")),
        "{lines:?}"
    );
}
