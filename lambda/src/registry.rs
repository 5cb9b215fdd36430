//! The registry: which key (or dyndns2 user) may update which names, from SSM Parameter
//! Store (`<prefix>/keys/<keyid>`, `<prefix>/tokens/<user>`), read with GetParameter.

use crate::aws::{self, AwsError, Budget};
pub use route53_ddns_protocol::TTL_RANGE;
use serde::Deserialize;

/// One name a credential may update, with its TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Canonical (punycode, lower case, no trailing dot).
    pub name: String,
    pub ttl: u32,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum NameEntry {
    Plain(String),
    WithTtl { name: String, ttl: Option<u32> },
}

#[derive(Debug, Deserialize)]
struct KeyEntry {
    names: Vec<NameEntry>,
}

#[derive(Debug, Deserialize)]
struct TokenEntry {
    sha256: String,
    names: Vec<NameEntry>,
}

/// A dyndns2 user's entry: the token's SHA-256 and the names it may update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub sha256: [u8; 32],
    pub names: Vec<Grant>,
}

fn grants(entries: Vec<NameEntry>, default_ttl: u32) -> Result<Vec<Grant>, String> {
    entries
        .into_iter()
        .map(|e| {
            let (name, ttl) = match e {
                NameEntry::Plain(n) => (n, None),
                NameEntry::WithTtl { name, ttl } => (name, ttl),
            };
            let ttl = ttl.unwrap_or(default_ttl);
            if !TTL_RANGE.contains(&ttl) {
                return Err(format!("ttl {ttl} of {name} is outside 1..=86400"));
            }
            let name = route53_ddns_protocol::hostname::to_ascii_record(&name)
                .map_err(|e| format!("{name}: {e}"))?;
            Ok(Grant { name, ttl })
        })
        .collect()
}

pub fn parse_key_entry(json: &str, default_ttl: u32) -> Result<Vec<Grant>, String> {
    let entry: KeyEntry = serde_json::from_str(json).map_err(|e| e.to_string())?;
    grants(entry.names, default_ttl)
}

#[derive(Debug, Deserialize)]
struct TokenHash {
    sha256: String,
}

/// Only the token hash of a user's entry, so a token can be checked before the rest of
/// the entry is judged (a caller who does not hold the token learns nothing about it).
pub fn token_sha256(json: &str) -> Option<[u8; 32]> {
    let entry: TokenHash = serde_json::from_str(json).ok()?;
    decode_hex32(&entry.sha256)
}

pub fn parse_token_entry(json: &str, default_ttl: u32) -> Result<TokenGrant, String> {
    let entry: TokenEntry = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let sha256 = decode_hex32(&entry.sha256).ok_or("sha256 is not 64 hex digits")?;
    Ok(TokenGrant {
        sha256,
        names: grants(entry.names, default_ttl)?,
    })
}

fn decode_hex32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A dyndns2 user name that can be part of a parameter name.
pub fn valid_user(user: &str) -> bool {
    (1..=64).contains(&user.len())
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Reads registry parameters through SSM's JSON 1.1 API.
pub struct Registry<'a> {
    pub endpoint: &'a str,
    pub region: &'a str,
    pub prefix: &'a str,
    pub budget: Budget,
}

impl Registry<'_> {
    /// The full name of a registry parameter, for messages.
    pub fn parameter(&self, kind: &str, id: &str) -> String {
        format!("{}/{kind}/{id}", self.prefix)
    }

    /// The value of `<prefix>/<kind>/<id>`, `None` when it does not exist.
    pub fn get(&self, kind: &str, id: &str) -> Result<Option<String>, AwsError> {
        let name = format!("{}/{kind}/{id}", self.prefix);
        let body = serde_json::json!({ "Name": name, "WithDecryption": false }).to_string();
        let url = format!("{}/", self.endpoint);
        let result = aws::with_retry(self.budget, || {
            let reply = aws::send(
                "POST",
                &url,
                &[
                    ("content-type", "application/x-amz-json-1.1"),
                    ("x-amz-target", "AmazonSSM.GetParameter"),
                ],
                body.as_bytes(),
                self.region,
                "ssm",
            )?;
            aws::json_answer(&reply)
        });
        match result {
            Ok(json) => Ok(json["Parameter"]["Value"].as_str().map(str::to_owned)),
            Err(AwsError::Rejected { code, .. }) if code == "ParameterNotFound" => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_entries_canonicalise_names_and_take_ttls() {
        let g = parse_key_entry(
            r#"{"names":["Home.Example.com.",{"name":"nas.example.com","ttl":300},{"name":"x.example.com"}]}"#,
            60,
        )
        .expect("valid");
        assert_eq!(
            g,
            vec![
                Grant {
                    name: "home.example.com".into(),
                    ttl: 60
                },
                Grant {
                    name: "nas.example.com".into(),
                    ttl: 300
                },
                Grant {
                    name: "x.example.com".into(),
                    ttl: 60
                },
            ]
        );
        assert!(parse_key_entry(r#"{"names":[{"name":"a.example.com","ttl":0}]}"#, 60).is_err());
        assert_eq!(
            parse_key_entry(r#"{"names":["*.Dyn.example.com."]}"#, 60),
            Ok(vec![Grant {
                name: "*.dyn.example.com".into(),
                ttl: 60
            }])
        );
        assert!(parse_key_entry(r#"{"names":["a.*.example.com"]}"#, 60).is_err());
        assert!(parse_key_entry(r#"{"names":["*a.example.com"]}"#, 60).is_err());
        assert!(parse_key_entry("names", 60).is_err());
    }

    #[test]
    fn token_entries_need_a_sha256() {
        let t = parse_token_entry(
            &format!(
                r#"{{"sha256":"{}","names":["a.example.com"]}}"#,
                "ab".repeat(32)
            ),
            60,
        )
        .expect("valid");
        assert_eq!(t.sha256, [0xab; 32]);
        assert!(parse_token_entry(r#"{"sha256":"abc","names":[]}"#, 60).is_err());
        assert!(valid_user("router-1.home"));
        assert!(!valid_user("a/b"));
        assert!(!valid_user(""));
    }
}
