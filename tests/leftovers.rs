//! What `leftovers` prints for the package's prerm: every line fits one syslog message
//! (busybox `logger` sends ~1,020 characters, musl's syslog() 1,024) however long or many
//! the names are, and a wildcard name gets its Route53 spelling and stamp.

mod common;

use common::TempDir;
use route53_ddns::leftovers::lines;

fn config_with(names: &[String]) -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new("leftovers");
    let mut text = format!(
        "config global 'global'\n\toption key_file '{}'\n",
        dir.join("key").display()
    );
    for n in names {
        text.push_str(&format!("\nconfig host\n\toption name '{n}'\n"));
    }
    let path = dir.write("route53-ddns", &text);
    (dir, path)
}

#[test]
fn every_line_fits_one_syslog_message() {
    let label = "a".repeat(63);
    let longest = format!("{label}.{label}.{label}.{}.example.com", "b".repeat(49));
    assert_eq!(longest.len(), 253);
    let mut names = vec![longest.clone()];
    names.extend((0..30).map(|i| format!("router-{i:02}.home.example.com")));
    let (_dir, path) = config_with(&names);
    let out = lines(&path);
    for line in &out {
        assert!(line.len() < 1000, "{} characters: {line}", line.len());
    }
    let summary = out
        .iter()
        .find(|l| l.contains("set ZONE"))
        .expect("summary");
    assert!(summary.contains(" more"), "{summary}");
    // Each name still gets its own line with the command.
    assert_eq!(
        out.iter().filter(|l| l.starts_with("records of")).count(),
        31
    );
    assert!(out.iter().any(|l| l.contains(&format!("N='{longest}'"))));
}

#[test]
fn a_wildcard_is_named_as_route53_lists_it_with_its_stamp() {
    let (_dir, path) = config_with(&["*.home.example.com".to_owned()]);
    let out = lines(&path);
    let line = out
        .iter()
        .find(|l| l.starts_with("records of *.home.example.com"))
        .expect("a line for the wildcard");
    assert!(line.contains("\\052.home.example.com"), "{line}");
    assert!(
        line.contains("_r53ddns._wildcard.home.example.com"),
        "{line}"
    );
}

#[test]
fn the_rm_line_names_what_upgrades_leave_beside_the_config() {
    let (_dir, path) = config_with(&[]);
    let first = &lines(&path)[0];
    let p = path.display();
    assert!(
        first.contains(&format!("'{p}' '{p}-opkg' '{p}.apk-new'")),
        "{first}"
    );
}
