//! Deployment settings, read once from the environment at start-up.

use std::net::IpAddr;

/// Everything the function is configured with. Credentials are not kept here: they are
/// read per call (see `aws.rs`) so that nothing secret sits in a long-lived struct.
#[derive(Debug, Clone)]
pub struct Config {
    /// The hosted zones served (see `zones.rs`): at least one.
    pub zones: Vec<crate::zones::Zone>,
    pub registry_prefix: String,
    pub default_ttl: u32,
    pub allow_documentation: bool,
    /// Host names besides the one a request reaches (a custom domain, an API Gateway or
    /// CloudFront front) that routers may sign for. `R53DDNS_ENDPOINT_HOSTS`, comma-separated.
    pub endpoint_hosts: Vec<String>,
    /// The proxy the deployment declares in front of the Function URL (`R53DDNS_FRONT`),
    /// whose header alone then gives the caller's address (see `caller.rs`).
    pub front: crate::caller::Front,
    /// TEST ONLY: replaces the observed source address (all local connections come from
    /// 127.0.0.1). A comma-separated list picks the entry of the connection's family.
    pub observed_override: Vec<IpAddr>,
    pub route53_endpoint: String,
    pub ssm_endpoint: String,
    pub region: String,
    /// Change notifications (`R53DDNS_CHANGE_TOPIC_ARN`), off when `None`.
    pub topic: Option<crate::notify::Topic>,
    /// Hours after which a registered key/user without an accepted request counts as
    /// silent (`R53DDNS_SILENCE_HOURS`, 2..=168, default 26; see `silence.rs`).
    pub silence_hours: u32,
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let zones = crate::zones::from_lookup(&get)?;
        let registry_prefix = get("R53DDNS_REGISTRY_PREFIX")
            .unwrap_or_else(|| "/route53-ddns".into())
            .trim_end_matches('/')
            .to_owned();
        if !registry_prefix.starts_with('/') {
            return Err("R53DDNS_REGISTRY_PREFIX must start with '/'".into());
        }
        let default_ttl = match get("R53DDNS_DEFAULT_TTL") {
            None => 60,
            Some(t) => t
                .parse()
                .ok()
                .filter(|t| crate::registry::TTL_RANGE.contains(t))
                .ok_or("R53DDNS_DEFAULT_TTL must be a number of seconds from 1 to 86400")?,
        };
        let allow_documentation = get("R53DDNS_ALLOW_DOCUMENTATION_ADDRESSES")
            .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes" | "on"));
        let endpoint_hosts: Vec<String> = get("R53DDNS_ENDPOINT_HOSTS")
            .unwrap_or_default()
            .split(',')
            .map(route53_ddns_protocol::signature::canonical_host)
            .filter(|h| !h.is_empty())
            .collect();
        if let Some(bad) = endpoint_hosts
            .iter()
            .find(|h| !route53_ddns_protocol::signature::is_canonical_host(h))
        {
            return Err(format!(
                "R53DDNS_ENDPOINT_HOSTS: {bad:?} is not a host name"
            ));
        }
        let front = crate::caller::Front::parse(get("R53DDNS_FRONT").as_deref())?;
        let observed_override = match get("R53DDNS_OBSERVED_IP_OVERRIDE") {
            None => Vec::new(),
            Some(v) => v
                .split(',')
                .map(|s| s.trim().parse())
                .collect::<Result<_, _>>()
                .map_err(|_| "R53DDNS_OBSERVED_IP_OVERRIDE is not a list of addresses")?,
        };
        let region = get("AWS_REGION")
            .or_else(|| get("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        let fallback = get("AWS_ENDPOINT_URL");
        let route53_endpoint = get("AWS_ENDPOINT_URL_ROUTE53")
            .or_else(|| fallback.clone())
            .unwrap_or_else(|| "https://route53.amazonaws.com".into());
        let ssm_endpoint = get("AWS_ENDPOINT_URL_SSM")
            .or(fallback)
            .unwrap_or_else(|| format!("https://ssm.{region}.amazonaws.com"));
        let topic = crate::notify::Topic::from_lookup(&get, &region)?;
        let silence_hours = match get("R53DDNS_SILENCE_HOURS") {
            None => 26,
            Some(h) => h
                .parse()
                .ok()
                .filter(|h| (2..=168).contains(h))
                .ok_or("R53DDNS_SILENCE_HOURS must be a number of hours from 2 to 168")?,
        };
        Ok(Config {
            topic,
            silence_hours,
            zones,
            registry_prefix,
            default_ttl,
            allow_documentation,
            endpoint_hosts,
            front,
            observed_override,
            route53_endpoint: route53_endpoint.trim_end_matches('/').to_owned(),
            ssm_endpoint: ssm_endpoint.trim_end_matches('/').to_owned(),
            region,
        })
    }

    /// The address to treat as the caller's: the connection's, unless a test override is set.
    pub fn observed(&self, source: IpAddr) -> IpAddr {
        self.observed_override
            .iter()
            .find(|o| o.is_ipv4() == source.is_ipv4())
            .or(self.observed_override.first())
            .copied()
            .unwrap_or(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() {
        let c = cfg(&[
            ("R53DDNS_ZONE_ID", "/hostedzone/Z123"),
            ("R53DDNS_ZONE_NAME", "Example.COM."),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000/"),
        ])
        .expect("valid");
        assert_eq!(c.zones.len(), 1);
        assert_eq!(c.zones[0].id, "Z123");
        assert_eq!(c.zones[0].name, "example.com");
        assert_eq!(c.registry_prefix, "/route53-ddns");
        assert_eq!(c.default_ttl, 60);
        assert_eq!(c.silence_hours, 26);
        assert!(!c.allow_documentation);
        assert_eq!(c.route53_endpoint, "http://127.0.0.1:5000");
        assert_eq!(c.ssm_endpoint, "http://127.0.0.1:5000");
        let src: IpAddr = "127.0.0.1".parse().expect("ip");
        assert_eq!(c.observed(src), src);
    }

    #[test]
    fn refuses_missing_or_bad_settings() {
        assert!(cfg(&[("R53DDNS_ZONE_NAME", "example.com")]).is_err());
        assert!(cfg(&[("R53DDNS_ZONE_ID", "Z1"), ("R53DDNS_ZONE_NAME", "*.x.com")]).is_err());
        assert!(cfg(&[
            ("R53DDNS_ZONE_ID", "Z1"),
            ("R53DDNS_ZONE_NAME", "example.com"),
            ("R53DDNS_DEFAULT_TTL", "0")
        ])
        .is_err());
        for bad in ["1", "169", "x"] {
            assert!(cfg(&[
                ("R53DDNS_ZONE_ID", "Z1"),
                ("R53DDNS_ZONE_NAME", "example.com"),
                ("R53DDNS_SILENCE_HOURS", bad)
            ])
            .is_err());
        }
    }

    #[test]
    fn override_picks_the_connection_family() {
        let c = cfg(&[
            ("R53DDNS_ZONE_ID", "Z1"),
            ("R53DDNS_ZONE_NAME", "example.com"),
            ("R53DDNS_OBSERVED_IP_OVERRIDE", "203.0.113.50, 2001:db8::50"),
        ])
        .expect("valid");
        assert_eq!(
            c.observed("127.0.0.1".parse().expect("ip")).to_string(),
            "203.0.113.50"
        );
        assert_eq!(
            c.observed("::1".parse().expect("ip")).to_string(),
            "2001:db8::50"
        );
    }
}
