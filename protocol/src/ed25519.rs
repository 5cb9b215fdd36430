//! Which Ed25519 public keys may be key ids (placeholder until the full check lands).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    NonCanonical,
    SmallOrder,
}

impl KeyProblem {
    pub fn describe(self) -> &'static str {
        match self {
            KeyProblem::NonCanonical => "is not a canonically encoded Ed25519 point; regenerate the key with `route53-ddns keygen --force`",
            KeyProblem::SmallOrder => "is a small-order Ed25519 point, for which anyone can forge signatures; regenerate the key with `route53-ddns keygen --force`",
        }
    }
}

pub fn check_public_key(bytes: &[u8; 32]) -> Result<(), KeyProblem> {
    let _ = bytes;
    Ok(())
}
