//! What follows an accepted request: the last-seen record (`seen`) and, when the
//! deployment asks for it, the change notification (`notify`). Both are best-effort and run
//! side by side within [`DEADLINE`]: a failure is logged, the answer is unchanged.

use crate::authorise::Authorised;
use crate::event::Request;
use crate::invocation::Invocation;
use crate::log::LogLine;
use crate::notify::{self, HostChange, Message};
use crate::reconcile::Reconciled;
use crate::seen;
use std::net::IpAddr;
use std::time::Duration;

/// The most either follow-up may add to a request's time (they run in parallel).
pub const DEADLINE: Duration = Duration::from_millis(1500);
/// Kept for the answer after the follow-ups.
const RESERVE: Duration = Duration::from_millis(300);
/// Less time than this is not worth a call.
const TOO_LITTLE: Duration = Duration::from_millis(50);

/// The names whose A or AAAA changed, old → new.
pub fn changes(done: &Reconciled) -> Vec<HostChange> {
    done.hosts
        .iter()
        .zip(&done.previous)
        .filter(|((_, changed), _)| *changed)
        .map(|((host, _), (old_a, old_aaaa))| HostChange {
            name: host.name.clone(),
            old_a: old_a.clone(),
            old_aaaa: old_aaaa.clone(),
            new_a: host.a.clone(),
            new_aaaa: host.aaaa.clone(),
        })
        .collect()
}

fn failed(what: &crate::aws::AwsError) -> String {
    crate::log::bounded(&format!("failed: {what:?}"), 300)
}

/// Marks the request accepted and runs the follow-ups. Never fails, never waits past
/// [`DEADLINE`] (nor past the invocation's budget less a reserve for the answer).
pub fn follow_up(
    inv: &Invocation,
    parts: &[Authorised],
    done: &Reconciled,
    req: &Request,
    observed: Option<IpAddr>,
    log: &mut LogLine,
) {
    log.accepted = true;
    let agent = req
        .header("user-agent")
        .map(|ua| crate::log::bounded(ua, seen::MAX_AGENT));
    log.agent = agent.clone();
    let limit = DEADLINE.min(inv.budget.remaining().saturating_sub(RESERVE));
    if limit < TOO_LITTLE {
        log.seen = Some("skipped: no time left".into());
        return;
    }
    // One sender for every part (each zone's share of the request).
    let Some(auth) = parts.first() else {
        return;
    };
    let names: Vec<String> = parts
        .iter()
        .flat_map(|p| p.targets())
        .map(|t| t.name.clone())
        .collect();
    let result = if done.updated { "updated" } else { "unchanged" };
    let record = seen::Record::new(
        inv.now_ms,
        &names,
        result,
        agent.as_deref(),
        observed,
        &inv.request_id,
    );
    let parameter = seen::parameter_name(&inv.cfg.registry_prefix, auth.principal());
    let changes = changes(done);
    let router = auth.principal().describe();
    let message = Message {
        router: &router,
        request_id: &inv.request_id,
        time_ms: inv.now_ms,
        changes: &changes,
    };
    let topic = inv.cfg.topic.as_ref().filter(|_| !changes.is_empty());
    let region = inv.cfg.region.as_str();
    std::thread::scope(|s| {
        let notified = topic.map(|topic| {
            let (subject, body) = (message.subject(), message.body());
            s.spawn(move || notify::publish(topic, region, &subject, &body, limit))
        });
        let written = seen::write(&inv.cfg.ssm_endpoint, region, &parameter, &record, limit);
        log.seen = Some(match written {
            Ok(()) => "written".into(),
            Err(e) => failed(&e),
        });
        if let Some(handle) = notified {
            log.notified = Some(match handle.join() {
                Ok(Ok(id)) => crate::log::bounded(&format!("sent {id}"), 100),
                Ok(Err(e)) => failed(&e),
                Err(_) => "failed: the publishing thread panicked".into(),
            });
        }
    });
}
