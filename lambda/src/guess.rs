//! Pure: a write without a read first. A signed request may carry, per name, what its router
//! was told after its last accepted request (`last`: the stamp time and the records). Taken
//! as a guess of what Route53 holds, it becomes a ChangeBatch whose every part Route53
//! checks: each record set the request touches is deleted exactly as guessed (or created
//! where the guess has none) and written anew, and the stamp moves by the usual
//! compare-and-swap. Route53 refuses the whole batch when any part of the guess is wrong,
//! and then the names are read as always. So a right guess costs one call instead of two,
//! and a wrong one one call more; it never makes a write the read would not have made
//! (docs/protocol.md §3).

use crate::authorise::Target;
use crate::aws::AwsError;
use crate::plan::{Action, Change, Desired, Existing, RecordSet};
use crate::stamp::{self, Stamp};
use route53_ddns_protocol::Last;
use std::collections::BTreeMap;

/// The records every name holds if its `last` is right; `None` unless every name carries a
/// usable one (a partial guess would still need the read).
pub fn existing(targets: &[Target], by: &str) -> Option<BTreeMap<String, Existing>> {
    targets
        .iter()
        .map(|t| {
            let last = t.last.as_ref()?.usable()?;
            Some((t.name.clone(), guessed(&t.name, last, by)))
        })
        .collect()
}

fn guessed(name: &str, last: &Last, by: &str) -> Existing {
    let set = |rtype: &str, values: Vec<String>| {
        (!values.is_empty()).then(|| RecordSet {
            name: name.to_owned(),
            rtype: rtype.into(),
            ttl: last.ttl,
            values,
        })
    };
    let stamp = Stamp {
        time_ms: last.stamp,
        by: by.to_owned(),
    };
    Existing {
        a: set("A", last.a.iter().map(ToString::to_string).collect()),
        aaaa: set("AAAA", last.aaaa.iter().map(ToString::to_string).collect()),
        stamp: Some(stamp::stamp_set(name, &stamp)),
        legacy_stamp: None,
        foreign: None,
    }
}

/// The batch that makes each name right if the guess holds, and makes Route53 refuse it if
/// not: for each family the request sets, DELETE of the guessed set (when there is one) and
/// CREATE of the wanted one, even when they are equal; then the stamp's compare-and-swap.
/// A family the request leaves alone is not touched.
pub fn changes(
    desired: &[Desired],
    existing: &BTreeMap<String, Existing>,
    next: &Stamp,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for d in desired {
        let e = existing.get(&d.name).cloned().unwrap_or_default();
        for want in d.wanted() {
            if let Some(have) = e.family(&want.rtype) {
                changes.push(Change {
                    action: Action::Delete,
                    set: have.clone(),
                });
            }
            changes.push(Change {
                action: Action::Create,
                set: want,
            });
        }
        changes.extend(stamp::stamp_changes(&e, &d.name, next));
    }
    changes
}

/// Whether Route53's refusal of a batch made on a guess says the guess was wrong (a DELETE
/// that matches nothing, a CREATE of what exists, or a record the name cannot hold): read.
pub fn refuted(error: &AwsError) -> bool {
    matches!(error, AwsError::Rejected { code, .. } if code == "InvalidChangeBatch")
}

#[cfg(test)]
#[path = "guess_tests.rs"]
mod tests;
