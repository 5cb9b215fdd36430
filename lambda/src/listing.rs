//! SSM GetParametersByPath, paged and bounded: the registry snapshot, the silence check
//! and the alive check list parameters through it. A leaf.

use crate::aws::{self, AwsError, Budget};
use crate::invocation::Invocation;
use serde_json::Value;

/// At most this many parameters are read per path (keys, tokens, seen); beyond, the count
/// covers the first ones and the line says `truncated`.
pub const MAX_ENTRIES: usize = 1000;
/// SSM's largest page for GetParametersByPath.
const PAGE: usize = 10;
/// Pages per path, even if SSM returned pages with fewer entries than asked for.
const MAX_PAGES: usize = 2 * MAX_ENTRIES / PAGE;
/// One parameter as listed: its name, value and LastModifiedDate (Unix ms) when given.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub value: String,
    pub modified_ms: Option<u64>,
}

/// The parameters under `path` (recursively or not), at most [`MAX_ENTRIES`] and within
/// the invocation's budget. `Ok((entries, truncated))`.
pub fn list(inv: &Invocation, path: &str, recursive: bool) -> Result<(Vec<Entry>, bool), AwsError> {
    list_within(inv.cfg, inv.budget, path, recursive)
}

/// [`list`] for any caller: SSM of `cfg`, within `budget` (the registry snapshot gives it
/// less time than the whole invocation).
pub fn list_within(
    cfg: &crate::config::Config,
    budget: Budget,
    path: &str,
    recursive: bool,
) -> Result<(Vec<Entry>, bool), AwsError> {
    let (endpoint, region) = (&cfg.ssm_endpoint, &cfg.region);
    let mut entries = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        // Out of time (a very large registry): count what was read, and say so.
        if budget.remaining().is_zero() {
            return Ok((entries, true));
        }
        let mut body = serde_json::json!({
            "Path": path,
            "Recursive": recursive,
            "WithDecryption": false,
            "MaxResults": PAGE,
        });
        if let Some(t) = &token {
            body["NextToken"] = Value::String(t.clone());
        }
        let page = call(endpoint, region, budget, &body.to_string())?;
        for p in page["Parameters"].as_array().into_iter().flatten() {
            if entries.len() >= MAX_ENTRIES {
                return Ok((entries, true));
            }
            let (Some(name), Some(value)) = (p["Name"].as_str(), p["Value"].as_str()) else {
                continue;
            };
            let modified_ms = p["LastModifiedDate"]
                .as_f64()
                .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e11)
                .map(|s| (s * 1000.0) as u64);
            entries.push(Entry {
                name: name.to_owned(),
                value: value.to_owned(),
                modified_ms,
            });
        }
        token = page["NextToken"]
            .as_str()
            .filter(|t| !t.is_empty() && t.len() <= 4096)
            .map(str::to_owned);
        if token.is_none() {
            return Ok((entries, false));
        }
    }
    Ok((entries, true))
}

fn call(endpoint: &str, region: &str, budget: Budget, body: &str) -> Result<Value, AwsError> {
    let url = format!("{endpoint}/");
    aws::with_retry(budget, || {
        let reply = aws::send(
            "POST",
            &url,
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "AmazonSSM.GetParametersByPath"),
            ],
            body.as_bytes(),
            region,
            "ssm",
        )?;
        aws::json_answer(&reply)
    })
}
