//! netifd status JSON for the integration tests, shaped like `ubus call
//! network.interface.<if> status` output on OpenWrt: a PPPoE `wan`, DHCPv6 with prefix
//! delegation, the LAN it assigned a /64 to, plain DHCP, an interface that is down, and a
//! DHCPv6 WAN without delegation.

pub const PPPOE_WAN: &str = r#"{
	"up": true,
	"pending": false,
	"available": true,
	"autostart": true,
	"dynamic": false,
	"uptime": 51234,
	"l3_device": "pppoe-wan",
	"proto": "pppoe",
	"device": "eth0.2",
	"updated": [
		"addresses",
		"routes"
	],
	"metric": 0,
	"dns_metric": 0,
	"delegation": true,
	"ipv4-address": [
		{
			"address": "87.123.45.67",
			"mask": 32,
			"ptpaddress": "87.123.0.1"
		}
	],
	"ipv6-address": [
		{
			"address": "fe80::5054:ff:fe12:3456",
			"mask": 10
		}
	],
	"ipv6-prefix": [
	],
	"ipv6-prefix-assignment": [
	],
	"route": [
		{
			"target": "0.0.0.0",
			"mask": 0,
			"nexthop": "87.123.0.1",
			"source": "0.0.0.0/0"
		}
	],
	"dns-server": [
		"87.123.0.53"
	],
	"dns-search": [
	],
	"neighbors": [
	],
	"inactive": {
		"ipv4-address": [
		],
		"ipv6-address": [
		],
		"route": [
		],
		"dns-server": [
		],
		"dns-search": [
		],
		"neighbors": [
		]
	},
	"data": {
	}
}"#;

/// DHCPv6 on top of PPPoE (`wan_6`/`wan6`): an IA_NA address, a deprecated old one, a
/// ULA, and a delegated /56 of which the LAN got a /64.
pub const DHCPV6_PD: &str = r#"{
	"up": true,
	"pending": false,
	"available": true,
	"autostart": true,
	"dynamic": true,
	"uptime": 51200,
	"l3_device": "pppoe-wan",
	"proto": "dhcpv6",
	"device": "pppoe-wan",
	"metric": 0,
	"dns_metric": 0,
	"delegation": true,
	"ipv4-address": [
	],
	"ipv6-address": [
		{
			"address": "2a02:8070:a1b2:ff00::1c3",
			"mask": 128,
			"preferred": 1500,
			"valid": 3300
		},
		{
			"address": "2a02:8070:a1b2:fe00::17",
			"mask": 128,
			"preferred": 0,
			"valid": 600
		},
		{
			"address": "fd00:1234::2",
			"mask": 64,
			"preferred": 3600,
			"valid": 7200
		}
	],
	"ipv6-prefix": [
		{
			"address": "2a02:8070:a1b2:c400::",
			"mask": 56,
			"preferred": 1500,
			"valid": 3300,
			"class": "wan_6",
			"assigned": {
				"lan": {
					"address": "2a02:8070:a1b2:c400::",
					"mask": 64
				}
			}
		}
	],
	"ipv6-prefix-assignment": [
	],
	"route": [
		{
			"target": "::",
			"mask": 0,
			"nexthop": "fe80::1",
			"metric": 512,
			"valid": 1700,
			"source": "2a02:8070:a1b2:c400::/56"
		}
	],
	"dns-server": [
		"2a02:8070::53"
	],
	"dns-search": [
	],
	"neighbors": [
	],
	"inactive": {
		"ipv4-address": [
		],
		"ipv6-address": [
		],
		"route": [
		],
		"dns-server": [
		],
		"dns-search": [
		],
		"neighbors": [
		]
	},
	"data": {
		"passthru": "00170010"
	}
}"#;

pub const LAN: &str = r#"{
	"up": true,
	"pending": false,
	"available": true,
	"autostart": true,
	"dynamic": false,
	"uptime": 51300,
	"l3_device": "br-lan",
	"proto": "static",
	"device": "br-lan",
	"metric": 0,
	"dns_metric": 0,
	"delegation": true,
	"ipv4-address": [
		{
			"address": "192.168.1.1",
			"mask": 24
		}
	],
	"ipv6-address": [
	],
	"ipv6-prefix": [
	],
	"ipv6-prefix-assignment": [
		{
			"address": "2a02:8070:a1b2:c400::",
			"mask": 64,
			"preferred": 1500,
			"valid": 3300,
			"local-address": {
				"address": "2a02:8070:a1b2:c400::1",
				"mask": 64
			}
		},
		{
			"address": "fd3c:9f12:77ab::",
			"mask": 60,
			"local-address": {
				"address": "fd3c:9f12:77ab::1",
				"mask": 60
			}
		}
	],
	"route": [
	],
	"dns-server": [
	],
	"dns-search": [
		"lan"
	],
	"neighbors": [
	],
	"inactive": {
		"ipv4-address": [
		],
		"ipv6-address": [
		],
		"route": [
		],
		"dns-server": [
		],
		"dns-search": [
		],
		"neighbors": [
		]
	},
	"data": {
	}
}"#;

pub fn dhcp_wan(addr: &str) -> String {
    format!(
        r#"{{"up":true,"pending":false,"available":true,"autostart":true,"dynamic":false,"uptime":3600,"l3_device":"eth1","proto":"dhcp","device":"eth1","metric":0,"dns_metric":0,"delegation":true,"ipv4-address":[{{"address":"{addr}","mask":22}}],"ipv6-address":[],"ipv6-prefix":[],"ipv6-prefix-assignment":[],"route":[{{"target":"0.0.0.0","mask":0,"nexthop":"{addr}","source":"{addr}/32"}}],"dns-server":["9.9.9.9"],"dns-search":[],"neighbors":[],"inactive":{{"ipv4-address":[],"ipv6-address":[],"route":[],"dns-server":[],"dns-search":[],"neighbors":[]}},"data":{{"leasetime":86400}}}}"#
    )
}

/// An interface that is configured but down: what netifd prints then.
pub const DOWN: &str = r#"{
	"up": false,
	"pending": false,
	"available": true,
	"autostart": true,
	"dynamic": false,
	"proto": "dhcp",
	"device": "eth1",
	"data": {
	},
	"errors": [
		{
			"subsystem": "dhcp",
			"code": "NO_LEASE"
		}
	]
}"#;

/// A native dual-stack DHCPv6 WAN with a SLAAC address and no delegation.
pub const DHCPV6_NA_ONLY: &str = r#"{"up":true,"pending":false,"available":true,"autostart":true,"dynamic":false,"uptime":99,"l3_device":"eth1","proto":"dhcpv6","device":"eth1","ipv4-address":[],"ipv6-address":[{"address":"2001:470:1f0b:aa::2","mask":64,"preferred":86400,"valid":172800},{"address":"2001:470:1f0b:aa::1","mask":64,"preferred":86400,"valid":172800}],"ipv6-prefix":[],"ipv6-prefix-assignment":[],"route":[],"dns-server":[],"dns-search":[],"neighbors":[],"inactive":{},"data":{}}"#;
