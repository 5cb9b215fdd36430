//! What the proven sender may do: each name canonical, inside one of the zones, granted by
//! the sender's registry entry, each address publishable. Only this module makes an
//! [`Authorised`] (one per zone), and reconciliation takes nothing else.

use crate::error::Error;
use crate::invocation::Invocation;
use crate::registry::{parse_key_entry, Grant};
use crate::snapshot::{self, Kind, Standing};
use crate::verify::{Order, Principal, Verified};
use crate::zones::{self, Zone};
use route53_ddns_protocol::{ErrorCode, Last};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One name as a door asks for it: the name as written, the addresses to publish.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub name: String,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    /// An address is the caller's own (a signed `"auto"`): such a request is always written
    /// (`quiet.rs`), since a copy sent from elsewhere would publish another address.
    pub auto: bool,
    /// What the sender was told after its last accepted request for the name (`guess.rs`).
    pub last: Option<Last>,
}

/// One name to reconcile: canonical, granted, with its TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub ttl: u32,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    /// See [`Wanted::auto`].
    pub auto: bool,
    /// See [`Wanted::last`].
    pub last: Option<Last>,
}

/// Names of one zone the sender may change to these addresses. Fields are private: only
/// `authorise` makes one.
#[derive(Debug)]
pub struct Authorised {
    principal: Principal,
    order: Order,
    zone: Zone,
    targets: Vec<Target>,
    /// Each target's index among the targets of all zones of the request.
    slots: Vec<usize>,
}

impl Authorised {
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
    pub fn order(&self) -> Order {
        self.order
    }
    /// The one hosted zone every target lies in (its longest-suffix zone).
    pub fn zone(&self) -> &Zone {
        &self.zone
    }
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }
    /// Where each of `targets` stands in the request's targets over all zones.
    pub fn slots(&self) -> &[usize] {
        &self.slots
    }
}

/// The outcome per wanted name: its index among the targets of all zones, or why not. The
/// same name twice maps to one target (dyndns2 clients repeat names; the signed door
/// refuses that). `authorised` has one entry per zone, in the order the zones first appear.
pub struct Decision {
    pub authorised: Vec<Authorised>,
    pub per_name: Vec<Result<usize, Error>>,
}

impl Decision {
    /// The name of target `i` (an index of `per_name`).
    pub fn name(&self, i: usize) -> Option<&str> {
        self.authorised.iter().find_map(|a| {
            let k = a.slots.iter().position(|s| *s == i)?;
            Some(a.targets[k].name.as_str())
        })
    }

    /// Every target's name, in request order.
    pub fn names(&self) -> Vec<String> {
        let total = self.authorised.iter().map(|a| a.targets.len()).sum();
        (0..total)
            .filter_map(|i| self.name(i).map(str::to_owned))
            .collect()
    }
}

/// The sender's grants: from the dyndns2 check, or the key's registry entry.
fn grants_of(
    inv: &Invocation,
    principal: &Principal,
    grants: Option<Vec<Grant>>,
) -> Result<Vec<Grant>, Error> {
    if let Some(g) = grants {
        return Ok(g);
    }
    let Principal::Key(key) = principal else {
        return Err(Error::new(ErrorCode::Internal, "no grants for this user"));
    };
    let judged = snapshot::judge(inv, Kind::Key, key.as_str());
    // A refusal of a key that is or was registered is the owner's business; of any other
    // key (a stranger's, a next key not registered yet) it is not.
    let not_registered = || {
        let e = Error::new(ErrorCode::BadSignature, "this key is not registered");
        if judged.known_before {
            e.proven()
        } else {
            e
        }
    };
    match judged.standing {
        Standing::Read => {}
        Standing::Stranger => return Err(not_registered()),
        Standing::Unavailable => {
            return Err(Error::new(
                ErrorCode::Unavailable,
                "the registry could not be read; retry later",
            ))
        }
    }
    let registry = inv.registry();
    let entry = registry
        .get("keys", key.as_str())
        .map_err(|e| Error::aws("the registry", e))?
        .ok_or_else(not_registered)?;
    snapshot::learn(Kind::Key, key.as_str(), judged);
    parse_key_entry(&entry, inv.cfg.default_ttl).map_err(|why| {
        Error::new(
            ErrorCode::RegistryInvalid,
            format!(
                "the registry entry {} is invalid: {why}",
                registry.parameter("keys", key.as_str())
            ),
        )
        .proven()
    })
}

pub fn authorise(
    inv: &Invocation,
    verified: Verified,
    wanted: &[Wanted],
) -> Result<Decision, Error> {
    let (principal, order, grants) = verified.into_parts();
    let grants = grants_of(inv, &principal, grants)?;
    let mut targets: Vec<(Target, &Zone)> = Vec::new();
    let mut per_name = Vec::new();
    let mut seen = HashSet::new();
    for w in wanted {
        let outcome = one(inv, &grants, w).map(|(t, zone)| {
            if seen.insert(t.name.clone()) {
                targets.push((t, zone));
                targets.len() - 1
            } else {
                targets.iter().position(|x| x.0.name == t.name).unwrap_or(0)
            }
        });
        per_name.push(outcome);
    }
    let mut authorised: Vec<Authorised> = Vec::new();
    for (slot, (target, zone)) in targets.into_iter().enumerate() {
        match authorised.iter_mut().find(|a| a.zone.id == zone.id) {
            Some(a) => {
                a.targets.push(target);
                a.slots.push(slot);
            }
            None => authorised.push(Authorised {
                principal: principal.clone(),
                order,
                zone: zone.clone(),
                targets: vec![target],
                slots: vec![slot],
            }),
        }
    }
    Ok(Decision {
        authorised,
        per_name,
    })
}

fn one<'z>(inv: &'z Invocation, grants: &[Grant], w: &Wanted) -> Result<(Target, &'z Zone), Error> {
    let name = route53_ddns_protocol::hostname::to_ascii_record(&w.name)
        .map_err(|e| Error::new(ErrorCode::Malformed, format!("{:?}: {e}", w.name)))?;
    let zone = zones::zone_of(&inv.cfg.zones, &name).ok_or_else(|| {
        Error::new(
            ErrorCode::NameNotAllowed,
            format!(
                "{name} is in none of the zones this endpoint serves ({})",
                zones::names(&inv.cfg.zones)
            ),
        )
    })?;
    let grant = grants.iter().find(|g| g.name == name).ok_or_else(|| {
        Error::new(
            ErrorCode::NameNotAllowed,
            format!("this key or user may not update {name}"),
        )
    })?;
    for ip in w
        .ipv4
        .map(IpAddr::V4)
        .into_iter()
        .chain(w.ipv6.map(IpAddr::V6))
    {
        inv.policy().check(ip).map_err(|why| {
            Error::new(
                ErrorCode::Malformed,
                format!("{name}: {ip} is {why} and cannot be published"),
            )
        })?;
    }
    if w.ipv4.is_none() && w.ipv6.is_none() {
        return Err(Error::new(
            ErrorCode::Malformed,
            format!("{name}: neither ipv4 nor ipv6 is given"),
        ));
    }
    Ok((
        Target {
            name,
            ttl: grant.ttl,
            ipv4: w.ipv4,
            ipv6: w.ipv6,
            auto: w.auto,
            last: w.last.clone(),
        },
        zone,
    ))
}
