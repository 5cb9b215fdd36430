//! What the proven sender may do: each name canonical, inside the zone, granted by the
//! sender's registry entry, each address publishable. Only this module makes an
//! [`Authorised`], and reconciliation takes nothing else.

use crate::error::Error;
use crate::invocation::Invocation;
use crate::registry::{parse_key_entry, Grant};
use crate::verify::{Order, Principal, Verified};
use route53_ddns_protocol::ErrorCode;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One name as a door asks for it: the name as written, the addresses to publish.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub name: String,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
}

/// One name to reconcile: canonical, granted, with its TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub ttl: u32,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
}

/// Names the sender may change to these addresses. Fields are private: only `authorise`
/// makes one.
#[derive(Debug)]
pub struct Authorised {
    principal: Principal,
    order: Order,
    targets: Vec<Target>,
}

impl Authorised {
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
    pub fn order(&self) -> Order {
        self.order
    }
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }
}

/// The outcome per wanted name: its index among the targets, or why not. The same name
/// twice maps to one target (dyndns2 clients repeat names; the signed door refuses that).
pub struct Decision {
    pub authorised: Option<Authorised>,
    pub per_name: Vec<Result<usize, Error>>,
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
    let registry = inv.registry();
    let entry = registry
        .get("keys", key.as_str())
        .map_err(|e| Error::aws("the registry", e))?
        .ok_or_else(|| Error::new(ErrorCode::BadSignature, "this key is not registered"))?;
    parse_key_entry(&entry, inv.cfg.default_ttl).map_err(|why| {
        Error::new(
            ErrorCode::RegistryInvalid,
            format!(
                "the registry entry {} is invalid: {why}",
                registry.parameter("keys", key.as_str())
            ),
        )
    })
}

pub fn authorise(
    inv: &Invocation,
    verified: Verified,
    wanted: &[Wanted],
) -> Result<Decision, Error> {
    let (principal, order, grants) = verified.into_parts();
    let grants = grants_of(inv, &principal, grants)?;
    let mut targets: Vec<Target> = Vec::new();
    let mut per_name = Vec::new();
    let mut seen = HashSet::new();
    for w in wanted {
        let outcome = one(inv, &grants, w).map(|t| {
            if seen.insert(t.name.clone()) {
                targets.push(t);
                targets.len() - 1
            } else {
                targets.iter().position(|x| x.name == t.name).unwrap_or(0)
            }
        });
        per_name.push(outcome);
    }
    let authorised = (!targets.is_empty()).then_some(Authorised {
        principal,
        order,
        targets,
    });
    Ok(Decision {
        authorised,
        per_name,
    })
}

fn one(inv: &Invocation, grants: &[Grant], w: &Wanted) -> Result<Target, Error> {
    let name = crate::names::canonicalise(&w.name)
        .map_err(|e| Error::new(ErrorCode::Malformed, format!("{:?}: {e}", w.name)))?;
    if !route53_ddns_protocol::hostname::is_within(&name, &inv.cfg.zone_name) {
        return Err(Error::new(
            ErrorCode::NameNotAllowed,
            format!("{name} is not in the zone {}", inv.cfg.zone_name),
        ));
    }
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
    Ok(Target {
        name,
        ttl: grant.ttl,
        ipv4: w.ipv4,
        ipv6: w.ipv6,
    })
}
