//! Several hosted zones: the list from the environment and the zone a name goes to (the
//! longest zone name that is a suffix of it). A leaf: `reconcile::reconcile_all` writes a
//! request zone by zone.

use route53_ddns_protocol::hostname;

/// Most zones one deployment serves (each is one more IAM statement in the template).
pub const MAX_ZONES: usize = 20;

/// One hosted zone the deployment may write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// The hosted zone id without `/hostedzone/`.
    pub id: String,
    /// The zone's apex, canonical (lower case, no trailing dot).
    pub name: String,
}

fn zone(id: &str, name: &str, (id_var, name_var): (&str, &str)) -> Result<Zone, String> {
    let id = id.trim().trim_start_matches("/hostedzone/").to_owned();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("{id_var}: {id:?} is not a hosted zone id"));
    }
    let name = route53_ddns_protocol::hostname::to_ascii(name.trim())
        .map_err(|e| format!("{name_var}: {e}"))?;
    Ok(Zone { id, name })
}

/// The zones from `R53DDNS_ZONES` (`<zone id>=<zone name>`, comma-separated), or the one
/// zone of `R53DDNS_ZONE_ID` + `R53DDNS_ZONE_NAME`. Not both: which would win is a guess.
pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Vec<Zone>, String> {
    let list = get("R53DDNS_ZONES");
    let one = (get("R53DDNS_ZONE_ID"), get("R53DDNS_ZONE_NAME"));
    let zones = match (list, one) {
        (Some(_), (Some(_), _) | (_, Some(_))) => {
            return Err(
                "set R53DDNS_ZONES or R53DDNS_ZONE_ID with R53DDNS_ZONE_NAME, not both".into(),
            )
        }
        (Some(list), _) => list
            .split(',')
            .filter(|item| !item.trim().is_empty())
            .map(|item| {
                let (id, name) = item.split_once('=').ok_or_else(|| {
                    format!(
                        "R53DDNS_ZONES: {:?} is not <zone id>=<zone name>",
                        item.trim()
                    )
                })?;
                zone(id, name, ("R53DDNS_ZONES", "R53DDNS_ZONES"))
            })
            .collect::<Result<Vec<_>, _>>()?,
        (None, (Some(id), Some(name))) => {
            vec![zone(&id, &name, ("R53DDNS_ZONE_ID", "R53DDNS_ZONE_NAME"))?]
        }
        (None, (None, _)) => {
            return Err(
                "R53DDNS_ZONES (or R53DDNS_ZONE_ID and R53DDNS_ZONE_NAME) is not set".into(),
            )
        }
        (None, (Some(_), None)) => return Err("R53DDNS_ZONE_NAME is not set".into()),
    };
    if zones.is_empty() || zones.len() > MAX_ZONES {
        return Err(format!("R53DDNS_ZONES must list 1 to {MAX_ZONES} zones"));
    }
    for (i, z) in zones.iter().enumerate() {
        if let Some(other) = zones[..i].iter().find(|o| o.id == z.id || o.name == z.name) {
            return Err(format!(
                "R53DDNS_ZONES lists {} and {} twice (each zone id and name once)",
                other.id, z.name
            ));
        }
    }
    Ok(zones)
}

/// The zone `name` (canonical) goes to: of the zones it lies in, the one with the longest
/// name. `a.sub.example.com` goes to `sub.example.com` when both it and `example.com` are
/// served; `example.net` goes nowhere when only `.com` zones are.
pub fn zone_of<'z>(zones: &'z [Zone], name: &str) -> Option<&'z Zone> {
    zones
        .iter()
        .filter(|z| hostname::is_within(name, &z.name))
        .max_by_key(|z| z.name.len())
}

/// The zones' names for a message: `example.com, example.net`.
pub fn names(zones: &[Zone]) -> String {
    zones
        .iter()
        .map(|z| z.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn zones(pairs: &[(&str, &str)]) -> Result<Vec<Zone>, String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_lookup(&|k| map.get(k).cloned())
    }

    fn z(id: &str, name: &str) -> Zone {
        Zone {
            id: id.into(),
            name: name.into(),
        }
    }

    #[test]
    fn one_zone_or_a_list() {
        assert_eq!(
            zones(&[
                ("R53DDNS_ZONE_ID", "/hostedzone/Z123"),
                ("R53DDNS_ZONE_NAME", "Example.COM.")
            ]),
            Ok(vec![z("Z123", "example.com")])
        );
        assert_eq!(
            zones(&[(
                "R53DDNS_ZONES",
                "Z1=example.com, /hostedzone/Z2=Sub.Example.com.,Z3=bücher.example"
            )]),
            Ok(vec![
                z("Z1", "example.com"),
                z("Z2", "sub.example.com"),
                z("Z3", "xn--bcher-kva.example")
            ])
        );
    }

    #[test]
    fn refuses_lists_that_are_wrong_or_ambiguous() {
        for bad in [
            vec![("R53DDNS_ZONE_NAME", "example.com")],
            vec![("R53DDNS_ZONE_ID", "Z1")],
            vec![("R53DDNS_ZONE_ID", "Z1"), ("R53DDNS_ZONE_NAME", "*.x.com")],
            vec![("R53DDNS_ZONE_ID", "Z-1"), ("R53DDNS_ZONE_NAME", "x.com")],
            vec![
                ("R53DDNS_ZONES", "Z1=example.com"),
                ("R53DDNS_ZONE_ID", "Z2"),
                ("R53DDNS_ZONE_NAME", "example.net"),
            ],
            vec![("R53DDNS_ZONES", "Z1")],
            vec![("R53DDNS_ZONES", ",")],
            vec![("R53DDNS_ZONES", "Z1=example.com,Z1=example.net")],
            vec![("R53DDNS_ZONES", "Z1=example.com,Z2=Example.com.")],
            vec![("R53DDNS_ZONES", "Z1=*.example.com")],
            vec![("R53DDNS_ZONES", "=example.com")],
        ] {
            assert!(zones(&bad).is_err(), "{bad:?}");
        }
        let many: Vec<String> = (0..=MAX_ZONES).map(|i| format!("Z{i}=z{i}.com")).collect();
        assert!(zones(&[("R53DDNS_ZONES", &many.join(","))]).is_err());
        assert!(zones(&[("R53DDNS_ZONES", &many[..MAX_ZONES].join(","))]).is_ok());
    }

    #[test]
    fn a_name_goes_to_its_longest_suffix_zone() {
        let all = [
            z("Z1", "example.com"),
            z("Z2", "sub.example.com"),
            z("Z3", "example.net"),
        ];
        let of = |n: &str| zone_of(&all, n).map(|z| z.id.as_str());
        assert_eq!(of("home.example.com"), Some("Z1"));
        assert_eq!(of("example.com"), Some("Z1"));
        assert_eq!(of("a.sub.example.com"), Some("Z2"));
        assert_eq!(of("sub.example.com"), Some("Z2"));
        assert_eq!(of("*.sub.example.com"), Some("Z2"));
        assert_eq!(of("*.example.com"), Some("Z1"));
        assert_eq!(of("xsub.example.com"), Some("Z1"));
        assert_eq!(of("home.example.net"), Some("Z3"));
        assert_eq!(of("home.example.org"), None);
        assert_eq!(of("example.com.evil.net"), None);
        // The order of the list does not matter.
        let reversed: Vec<Zone> = all.iter().rev().cloned().collect();
        assert_eq!(
            zone_of(&reversed, "a.sub.example.com").map(|z| z.id.as_str()),
            Some("Z2")
        );
        assert_eq!(names(&all), "example.com, sub.example.com, example.net");
    }
}
