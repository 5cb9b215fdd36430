//! Who sent a request: a router's key or a dyndns2 user. A leaf: the stamp, the last-seen
//! record and the log line name a sender the same way.

use route53_ddns_protocol::KeyId;

/// Whose request it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Key(KeyId),
    User(String),
}

impl Principal {
    /// The `by` field of the stamp: the id (`stamp::stamp_id`) of `k=<key id>` or `u=<user>`.
    pub fn stamp_by(&self) -> String {
        crate::stamp::stamp_id(&match self {
            Principal::Key(k) => format!("k={k}"),
            Principal::User(u) => format!("u={u}"),
        })
    }

    /// For the log line.
    pub fn describe(&self) -> String {
        match self {
            Principal::Key(k) => k.to_string(),
            Principal::User(u) => format!("dyndns2:{u}"),
        }
    }
}
