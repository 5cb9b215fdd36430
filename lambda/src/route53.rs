//! The Route53 client for one hosted zone: reads the records and stamps of several names
//! in as few `ListResourceRecordSets` pages as Route53's order allows, and writes one
//! atomic ChangeBatch. The REST/XML API is spoken directly (see `aws.rs` for signing,
//! `route53_xml.rs` for the documents).

use crate::authorise::Authorised;
use crate::aws::{self, AwsError, Budget};
use crate::plan::{order_key, Change, Existing};
use crate::route53_xml::{
    change_batch_xml, existing_of, parse_change_id, parse_error, parse_page, ErrorReply, Page,
};
use crate::stamp::stamp_name;
use std::collections::BTreeMap;

const API: &str = "2013-04-01";
/// Records per page. Route53 allows up to 300; the names read here are usually adjacent.
const PAGE: u32 = 100;

/// Throttled attempts of one ChangeBatch retried inside the invocation.
const WRITE_THROTTLED_RETRIES: u32 = 4;

/// Tells this instance's pacing (pace.rs) about a throttled call.
fn noted<T>(r: Result<T, AwsError>) -> Result<T, AwsError> {
    if matches!(r, Err(AwsError::Throttled)) {
        crate::pace::throttled();
    }
    r
}

/// Whether a `ChangeBatch` refusal means "the records changed under us" (a concurrent
/// writer), as opposed to a batch that is wrong in itself.
pub fn is_conflict(code: &str, message: &str) -> bool {
    code == "InvalidChangeBatch"
        && (message.contains("not found")
            || message.contains("do not match")
            || message.contains("already exists"))
}

/// A ChangeBatch that did not (provably) go through.
#[derive(Debug)]
pub struct ChangeFailure {
    pub error: AwsError,
    /// An attempt's outcome is unknown: it may have been applied.
    pub maybe_applied: bool,
}

/// A Route53 client for one zone. Its fields are private and its one constructor takes an
/// [`Authorised`]: a write without authorisation does not compile (as rustls's
/// verified-certificate types make a handshake without verification unrepresentable).
pub struct Route53<'a> {
    endpoint: &'a str,
    zone_id: &'a str,
    budget: Budget,
    /// Counts calls, for the log line and the benchmark.
    calls: &'a std::cell::Cell<u32>,
}

impl<'a> Route53<'a> {
    pub fn for_authorised(
        proof: &'a Authorised,
        endpoint: &'a str,
        budget: Budget,
        calls: &'a std::cell::Cell<u32>,
    ) -> Self {
        Route53 {
            endpoint,
            zone_id: &proof.zone().id,
            budget,
            calls,
        }
    }
}

impl Route53<'_> {
    /// The A, AAAA and stamp records of each name. Reads page by page in Route53's order,
    /// starting at the first name not yet covered, so names next to each other (and each
    /// name's `_r53ddns.` stamp, which sorts right after it) share a read.
    pub fn read(&self, names: &[String]) -> Result<BTreeMap<String, Existing>, AwsError> {
        let mut todo: Vec<&String> = names.iter().collect();
        todo.sort_by_key(|n| order_key(n));
        todo.dedup();
        let mut out = BTreeMap::new();
        let mut i = 0;
        while i < todo.len() {
            let page = self.list(todo[i])?;
            let covered = |name: &str| match &page.next {
                None => true,
                Some(next) => order_key(&stamp_name(name)) < order_key(next),
            };
            let start = i;
            while i < todo.len() && covered(todo[i]) {
                out.insert(todo[i].clone(), existing_of(&page.sets, todo[i]));
                i += 1;
            }
            if i == start {
                // The page ended inside this name's records: read its stamp on its own.
                let mut e = existing_of(&page.sets, todo[i]);
                let stamp_page = self.list(&stamp_name(todo[i]))?;
                let stamps = existing_of(&stamp_page.sets, todo[i]);
                (e.stamp, e.legacy_stamp) = (stamps.stamp, stamps.legacy_stamp);
                out.insert(todo[i].clone(), e);
                i += 1;
            }
        }
        Ok(out)
    }

    fn list(&self, from: &str) -> Result<Page, AwsError> {
        let url = list_url(self.endpoint, self.zone_id, from, PAGE);
        // A throttled read is not retried: nothing is spent yet, and the caller is told
        // when to come back (pace.rs).
        let reply = aws::with_retry_throttled(self.budget, 0, || {
            self.calls.set(self.calls.get() + 1);
            let r = aws::send("GET", &url, &[], b"", "us-east-1", "route53").and_then(check);
            noted(r)
        })?;
        parse_page(&reply).map_err(AwsError::Busy)
    }

    /// Sends one ChangeBatch; returns the change id (without `/change/`). On failure,
    /// says whether an attempt may have been applied although its answer was lost (the
    /// connection failed, or a 5xx), in which case a later refusal may be our own echo.
    pub fn change(&self, changes: &[Change], comment: &str) -> Result<String, ChangeFailure> {
        let url = format!("{}/{API}/hostedzone/{}/rrset/", self.endpoint, self.zone_id);
        let body = change_batch_xml(changes, comment);
        let uncertain = std::cell::Cell::new(false);
        // A throttled write is retried (full-jitter backoff, within the budget): the read
        // it was planned on is spent, and a new request would need another.
        let reply = aws::with_retry_throttled(self.budget, WRITE_THROTTLED_RETRIES, || {
            self.calls.set(self.calls.get() + 1);
            let sent = aws::send(
                "POST",
                &url,
                &[("content-type", "text/xml")],
                body.as_bytes(),
                "us-east-1",
                "route53",
            )
            .and_then(check);
            let sent = noted(sent);
            if matches!(sent, Err(AwsError::Busy(_) | AwsError::Unrecognised(_))) {
                uncertain.set(true);
            }
            sent
        })
        .map_err(|error| ChangeFailure {
            error,
            maybe_applied: uncertain.get(),
        })?;
        parse_change_id(&reply).map_err(|m| ChangeFailure {
            error: AwsError::Busy(m),
            maybe_applied: true,
        })
    }

    /// After a successful write: removes the names' earlier-version TXT stamps in a batch
    /// of DELETEs only (the role may delete TXT, never create it). Best effort: a failure
    /// is only told for the log (a reader takes the newest stamp, so one left is harmless
    /// and the next write tries again). `None` when there was none.
    pub fn retire_legacy_stamps(&self, existing: &BTreeMap<String, Existing>) -> Option<String> {
        let changes = crate::stamp::legacy_removal(existing);
        if changes.is_empty() {
            return None;
        }
        Some(
            match self.change(&changes, "route53-ddns: earlier TXT stamps removed") {
                Ok(_) => format!("removed {}", changes.len()),
                Err(f) => crate::log::bounded(&format!("failed: {:?}", f.error), 300),
            },
        )
    }
}

/// The `ListResourceRecordSets` URL of a page of `zone_id` starting at `from` (canonical).
/// A wildcard's `*` is not a URI-unreserved character: percent-encoded, as SigV4 signs it
/// (canonical names hold nothing else that needs it). `alive.rs` reads stamps through it too.
pub fn list_url(endpoint: &str, zone_id: &str, from: &str, maxitems: u32) -> String {
    let from = from.replace('*', "%2A");
    format!("{endpoint}/{API}/hostedzone/{zone_id}/rrset?name={from}.&maxitems={maxitems}")
}

/// A 2xx reply's body, or the error it carries in either of Route53's shapes. A reply in
/// neither shape is `Unrecognised` (retryable, and for a ChangeBatch an unknown outcome), with its
/// first bytes for the log: never taken for a refusal.
fn check(reply: aws::Reply) -> Result<String, AwsError> {
    if (200..300).contains(&reply.status) {
        return Ok(String::from_utf8_lossy(&reply.body).into_owned());
    }
    match parse_error(&reply.body) {
        ErrorReply::Coded { code, message } => Err(aws::classify(reply.status, &code, &message)),
        ErrorReply::Unrecognised(start) => Err(AwsError::Unrecognised(format!(
            "Route53 answered HTTP {} in an unrecognised form: {start}",
            reply.status
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_are_told_from_broken_batches() {
        assert!(is_conflict(
            "InvalidChangeBatch",
            "[Tried to delete resource record set [name='_r53ddns.a.example.com.', type='TXT'] but it was not found]"
        ));
        assert!(is_conflict(
            "InvalidChangeBatch",
            "[Tried to create resource record set [name='x.', type='TXT'] but it already exists]"
        ));
        assert!(!is_conflict(
            "InvalidChangeBatch",
            "[RRSet with DNS name x. is not permitted in zone example.com.]"
        ));
        assert!(!is_conflict("Throttling", "not found"));
    }
}
