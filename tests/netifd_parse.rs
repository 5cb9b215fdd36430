//! Reading an interface's status: netifd's JSON as the `ubus` command prints it (garbage
//! is an error, not a panic), and the kernel fallback formats (`ip -j addr` and
//! `/proc/net/if_inet6`) with the addresses picked from them.

mod common;

use common::ifstatus::PPPOE_WAN;
use common::*;
use route53_ddns::{addresses, netifd};
use route53_ddns_protocol::AddrSpec;

#[test]
fn interfaces_come_from_the_ubus_command() {
    let dir = TempDir::new("ubus");
    dir.write("wan.json", PPPOE_WAN);
    let ubus = fake_ubus(dir.path());
    let out = std::process::Command::new(&ubus)
        .args(["call", "network.interface.wan", "status"])
        .output()
        .expect("run stand-in");
    let st = netifd::parse_status(&out.stdout).expect("parses");
    assert!(st.up);
    assert_eq!(st.proto.as_deref(), Some("pppoe"));
    assert_eq!(st.device.as_deref(), Some("pppoe-wan"));
    let missing = std::process::Command::new(&ubus)
        .args(["call", "network.interface.nope", "status"])
        .output()
        .expect("run stand-in");
    assert_eq!(missing.status.code(), Some(4));
}

#[test]
fn garbage_status_is_an_error_not_a_panic() {
    assert!(netifd::parse_status(b"Command failed: Not found").is_err());
    assert!(netifd::parse_status(b"{\"up\":\"yes\"}").is_err());
    let st =
        netifd::parse_status(br#"{"up":true,"ipv4-address":[{"address":"not-an-ip","mask":24}]}"#)
            .expect("entries that are not addresses are skipped");
    assert!(st.ipv4.is_empty());
}

#[test]
fn kernel_fallback_ip_json_skips_temporary_and_deprecated() {
    let json = r#"[{"ifindex":2,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","addr_info":[
        {"family":"inet","local":"81.2.69.160","prefixlen":24,"scope":"global","dynamic":true,"label":"eth0","valid_life_time":80000,"preferred_life_time":80000},
        {"family":"inet6","local":"2a01:4f8::aaaa","prefixlen":64,"scope":"global","temporary":true,"dynamic":true,"valid_life_time":3000,"preferred_life_time":1000},
        {"family":"inet6","local":"2a01:4f8::1","prefixlen":64,"scope":"global","deprecated":true,"dynamic":true,"valid_life_time":3000,"preferred_life_time":0},
        {"family":"inet6","local":"2a01:4f8::5","prefixlen":64,"scope":"global","dynamic":true,"mngtmpaddr":true,"valid_life_time":4294967295,"preferred_life_time":4294967295},
        {"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]"#;
    let st = netifd::parse_ip_json(json.as_bytes()).expect("parses");
    assert!(st.up);
    assert_eq!(
        addresses::pick_ipv4(&st).spec,
        AddrSpec::Set("81.2.69.160".parse().expect("v4"))
    );
    assert_eq!(
        addresses::pick_ipv6(&st),
        Some("2a01:4f8::5".parse().expect("v6"))
    );
}

#[test]
fn kernel_fallback_proc_if_inet6() {
    let text = "\
2a0104f8000000000000000000000aaa 02 40 00 01     eth0
2a0104f8000000000000000000000001 02 40 00 20     eth0
2a0104f8000000000000000000000005 02 40 00 00     eth0
fe800000000000000000000000000001 02 40 20 80     eth0
2a0104f8000000000000000000000009 03 40 00 00     eth1
";
    let st = netifd::parse_if_inet6(text, "eth0");
    assert_eq!(st.ipv6.len(), 4);
    assert_eq!(
        addresses::pick_ipv6(&st),
        Some("2a01:4f8::5".parse().expect("v6"))
    );
}
