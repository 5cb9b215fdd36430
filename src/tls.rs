//! TLS for the one endpoint: which algorithms are offered, which roots are trusted, and
//! what a failed handshake is called in the log and in `status`.
//!
//! Trust: the system bundle `/etc/ssl/certs/ca-certificates.crt` (OpenWrt's `ca-bundle`
//! package), or only the PEM file `ca_file` when it is set. No roots are compiled in:
//! that saves ~250 KB of flash and follows the bundle's updates.
//!
//! Error text is written here rather than taken from rustls' `Display`: that prints most
//! reasons through `Debug`, which the size-optimised build (`-Zfmt-debug=none`) blanks.

use crate::config::SYSTEM_CA_BUNDLE;
use crate::roots::bundle::{open_bundle, read_error, MAX_BUNDLE};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{AlertDescription as Alert, CertificateError as Cert, PeerIncompatible as Peer};
use std::io;
use std::path::Path;
use std::sync::Arc;

/// The client configuration: TLS 1.3 and 1.2, certificate verification always on, against
/// the system bundle or `ca_file`, read during the handshake (see [`crate::roots`]). A
/// missing or unreadable file is an error here, before anything is sent. `hint`: where
/// the bundle offset of the root that verified is kept for the next run (see
/// [`crate::roots`]; it never decides trust).
pub fn client_config(
    ca_file: Option<&Path>,
    hint: Option<&Path>,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let path = ca_file.unwrap_or(Path::new(SYSTEM_CA_BUNDLE));
    open_bundle(path)?;
    let provider = crypto_provider();
    let verifier = crate::roots::LazyRoots {
        path: path.to_owned(),
        algorithms: provider.signature_verification_algorithms,
        hint: hint.map(Path::to_owned),
    };
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS setup: {}", describe(&e)))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // One request per run: no session tickets or resumption to keep.
    cfg.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(cfg))
}

/// The TLS algorithms offered: AES-GCM suites (TLS 1.3, and 1.2 with ECDHE), X25519 and
/// P-256 key exchange, and the certificate signatures public CAs use (ECDSA P-256/P-384,
/// RSA PKCS#1/PSS, Ed25519). Compared with rustls' default ring provider this drops
/// ChaCha20-Poly1305, P-384 key exchange and the client-certificate key loader, which a
/// router never uses; what remains is what every public HTTPS endpoint negotiates.
pub fn crypto_provider() -> rustls::crypto::CryptoProvider {
    use rustls::crypto::ring::{cipher_suite as cs, kx_group};
    use rustls::SignatureScheme as S;
    use webpki::ring as alg;
    static SIG_ALGS: rustls::crypto::WebPkiSupportedAlgorithms =
        rustls::crypto::WebPkiSupportedAlgorithms {
            all: &[
                alg::ECDSA_P256_SHA256,
                alg::ECDSA_P256_SHA384,
                alg::ECDSA_P384_SHA256,
                alg::ECDSA_P384_SHA384,
                alg::ED25519,
                alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
                alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
                alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
                alg::RSA_PKCS1_2048_8192_SHA256,
                alg::RSA_PKCS1_2048_8192_SHA384,
                alg::RSA_PKCS1_2048_8192_SHA512,
                alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
                alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
                alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
            ],
            mapping: &[
                (
                    S::ECDSA_NISTP384_SHA384,
                    &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384],
                ),
                (
                    S::ECDSA_NISTP256_SHA256,
                    &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256],
                ),
                (S::ED25519, &[alg::ED25519]),
                (
                    S::RSA_PSS_SHA512,
                    &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
                ),
                (
                    S::RSA_PSS_SHA384,
                    &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
                ),
                (
                    S::RSA_PSS_SHA256,
                    &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
                ),
                (S::RSA_PKCS1_SHA512, &[alg::RSA_PKCS1_2048_8192_SHA512]),
                (S::RSA_PKCS1_SHA384, &[alg::RSA_PKCS1_2048_8192_SHA384]),
                (S::RSA_PKCS1_SHA256, &[alg::RSA_PKCS1_2048_8192_SHA256]),
            ],
        };
    rustls::crypto::CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1],
        signature_verification_algorithms: SIG_ALGS,
        secure_random: &SystemRandom,
        key_provider: &NoClientKeys,
    }
}

#[derive(Debug)]
struct SystemRandom;

impl rustls::crypto::SecureRandom for SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), rustls::crypto::GetRandomFailed> {
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), buf)
            .map_err(|_| rustls::crypto::GetRandomFailed)
    }
}

/// The router never presents a client certificate.
#[derive(Debug)]
struct NoClientKeys;

impl rustls::crypto::KeyProvider for NoClientKeys {
    fn load_private_key(
        &self,
        _key: rustls::pki_types::PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "client certificates are not supported".into(),
        ))
    }
}

/// Reads all PEM certificates into a root store (for `check`); an error names the file.
pub fn load_roots(path: &Path) -> Result<rustls::RootCertStore, String> {
    use std::io::Read;
    let mut pem = Vec::new();
    open_bundle(path)?
        .take(MAX_BUNDLE)
        .read_to_end(&mut pem)
        .map_err(|e| read_error(path, &e))?;
    let mut roots = rustls::RootCertStore::empty();
    let (added, _ignored) = roots
        .add_parsable_certificates(CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok));
    if added == 0 {
        return Err(format!(
            "{} holds no usable PEM certificates",
            path.display()
        ));
    }
    Ok(roots)
}

/// What went wrong in the handshake, in words a router owner can act on, with rustls'
/// own name for it (searchable).
pub fn describe(e: &rustls::Error) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(c) => format!("invalid peer certificate: {}", certificate(c)),
        E::AlertReceived(a) => alert(*a),
        E::PeerIncompatible(p) => format!("peer is incompatible: {}", incompatible(p)),
        E::PeerMisbehaved(_) => "the server broke the TLS protocol (PeerMisbehaved)".into(),
        E::InvalidMessage(m) => invalid(m).into(),
        E::InappropriateMessage { .. } => {
            "the server sent a TLS message that does not belong at this point of the handshake (InappropriateMessage)".into()
        }
        E::InappropriateHandshakeMessage { .. } => {
            "the server sent an unexpected TLS handshake message (InappropriateHandshakeMessage)".into()
        }
        E::NoCertificatesPresented => "the server sent no certificate (NoCertificatesPresented)".into(),
        E::DecryptError => "cannot decrypt the server's message (DecryptError)".into(),
        E::FailedToGetCurrentTime => "cannot read the clock (FailedToGetCurrentTime)".into(),
        E::FailedToGetRandomBytes => "no random bytes from the kernel (FailedToGetRandomBytes)".into(),
        E::General(m) => m.clone(),
        E::Other(o) => o.to_string(),
        // Not reachable for this client (server-side, QUIC, ECH, CRL and setup errors).
        _ => "TLS failed".into(),
    }
}

/// A message rustls could not decode: no TLS at all (a record header that is not one), a
/// message over TLS's size limits (a huge certificate chain), or a malformed one.
fn invalid(m: &rustls::InvalidMessage) -> &'static str {
    use rustls::InvalidMessage as M;
    match m {
        M::InvalidContentType | M::UnknownProtocolVersion | M::MessageTooLarge => {
            "the server's answer is not TLS: is the endpoint URL an https:// one, on the right port? (InvalidMessage)"
        }
        M::HandshakePayloadTooLarge | M::CertificatePayloadTooLarge => {
            "the server sent a handshake message larger than the 64 KiB a TLS client accepts: is its certificate chain that large? (InvalidMessage: HandshakePayloadTooLarge)"
        }
        _ => "the server sent a malformed TLS message (InvalidMessage)",
    }
}

fn certificate(c: &Cert) -> String {
    let (what, name) = match c {
        Cert::UnknownIssuer => (
            "issued by a CA that is not in the trusted bundle (ca-bundle, or ca_file)",
            "UnknownIssuer",
        ),
        Cert::BadSignature => (
            "its signature does not verify against the trusted CA",
            "BadSignature",
        ),
        Cert::Expired | Cert::ExpiredContext { .. } => (
            "expired, or the router's clock is wrong (check NTP)",
            "Expired",
        ),
        Cert::NotValidYet | Cert::NotValidYetContext { .. } => (
            "not valid yet, or the router's clock is behind (check NTP)",
            "NotValidYet",
        ),
        Cert::NotValidForName | Cert::NotValidForNameContext { .. } => (
            "issued for another name than the endpoint's host",
            "NotValidForName",
        ),
        Cert::Revoked => ("revoked by its CA", "Revoked"),
        Cert::BadEncoding => ("malformed", "BadEncoding"),
        Cert::InvalidPurpose | Cert::InvalidPurposeContext { .. } => {
            ("not meant for TLS servers", "InvalidPurpose")
        }
        Cert::UnhandledCriticalExtension => (
            "has a critical extension rustls does not know",
            "UnhandledCriticalExtension",
        ),
        Cert::Other(o) => return o.to_string(),
        _ => ("rejected", "CertificateError"),
    };
    format!("{name}: {what}")
}

fn incompatible(p: &Peer) -> &'static str {
    match p {
        Peer::NoCipherSuitesInCommon => "no cipher suite in common (NoCipherSuitesInCommon)",
        Peer::NoKxGroupsInCommon => "no key exchange group in common (NoKxGroupsInCommon)",
        Peer::NoSignatureSchemesInCommon => {
            "no signature scheme in common (NoSignatureSchemesInCommon)"
        }
        Peer::ServerDoesNotSupportTls12Or13 | Peer::ServerTlsVersionIsDisabledByOurConfig => {
            "the server speaks neither TLS 1.3 nor TLS 1.2 (ServerDoesNotSupportTls12Or13)"
        }
        _ => "the server wants a TLS feature this client lacks (PeerIncompatible)",
    }
}

fn alert(a: Alert) -> String {
    let hint = match a {
        Alert::HandshakeFailure | Alert::InsufficientSecurity => {
            ": no TLS version or cipher suite in common"
        }
        Alert::ProtocolVersion => ": the server accepts neither TLS 1.3 nor TLS 1.2",
        Alert::UnrecognisedName => ": the server does not serve this host name",
        Alert::InternalError => ": the server failed; try again later",
        _ => "",
    };
    format!(
        "the server sent TLS alert {} ({}){hint}",
        u8::from(a),
        a.as_str().unwrap_or("unknown")
    )
}

/// For failures inside `io::Error`s from a rustls stream: the rustls error, if that is one.
pub fn from_io(e: &io::Error) -> Option<String> {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<rustls::Error>())
        .map(describe)
}
