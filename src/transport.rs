//! HTTPS to the endpoint: ureq on rustls (ring provider), TLS 1.2/1.3 only with
//! certificate verification always on, no redirects (a signed body is never re-sent
//! elsewhere), connect and total timeouts, and the IP family pinned when the server is to
//! publish the address it observes.
//!
//! Trust: the system bundle `/etc/ssl/certs/ca-certificates.crt` (OpenWrt's `ca-bundle`
//! package), or only the PEM file `ca_file` when it is set. No roots are compiled in:
//! that saves ~250 KB of flash and follows the bundle's updates.
//!
//! The TLS handshake, including certificate verification, completes inside the connect
//! step, before ureq writes a single byte of the request; a failed verification ends the
//! call there, so the signed headers and body never leave the router.

use crate::config::{Config, SYSTEM_CA_BUNDLE};
use route53_ddns_protocol::signature::{KEY_HEADER, SIGNATURE_HEADER, TIME_HEADER};
use route53_ddns_protocol::{ErrorResponse, SignedHeaders, UpdateResponse, UPDATE_PATH};
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use ureq::config::IpFamily;
use ureq::tls::{PemItem, RootCerts, TlsConfig};

/// Largest response body read.
const MAX_RESPONSE: u64 = 64 * 1024;

/// Which address family to connect over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Any,
    V4,
    V6,
}

/// What the endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Updated(UpdateResponse),
    /// A non-2xx answer in the protocol's error format.
    Refused {
        status: u16,
        error: ErrorResponse,
        retry_after: Option<u64>,
    },
    /// Any other answer (a proxy, a wrong URL, a gateway error page).
    Unexpected {
        status: u16,
        retry_after: Option<u64>,
        snippet: String,
    },
}

/// Why no answer arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The certificate did not verify, or the TLS handshake failed.
    Tls(String),
    Timeout(String),
    Dns(String),
    /// Refused, reset, unreachable, closed early.
    Network(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Tls(m) => write!(f, "TLS: {m}"),
            Failure::Timeout(m) => write!(f, "timed out: {m}"),
            Failure::Dns(m) => write!(f, "name lookup failed: {m}"),
            Failure::Network(m) => write!(f, "network: {m}"),
        }
    }
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

/// Reads PEM certificates; an error names the file.
pub fn load_roots(path: &Path) -> Result<RootCerts, String> {
    let pem = std::fs::read(path).map_err(|e| {
        if path == Path::new(SYSTEM_CA_BUNDLE) && e.kind() == std::io::ErrorKind::NotFound {
            format!("{SYSTEM_CA_BUNDLE} is missing: install the ca-bundle package or set ca_file")
        } else {
            format!("cannot read {}: {e}", path.display())
        }
    })?;
    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(format!("{} holds no PEM certificates", path.display()));
    }
    Ok(RootCerts::new_with_certs(&certs))
}

pub struct Transport {
    agent: ureq::Agent,
    url: String,
}

impl Transport {
    pub fn new(config: &Config, family: Family) -> Result<Transport, String> {
        let roots = if config.endpoint.https {
            load_roots(
                config
                    .ca_file
                    .as_deref()
                    .unwrap_or(Path::new(SYSTEM_CA_BUNDLE)),
            )?
        } else {
            RootCerts::new_with_certs(&[])
        };
        let tls = TlsConfig::builder()
            .root_certs(roots)
            .unversioned_rustls_crypto_provider(Arc::new(crypto_provider()))
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .https_only(config.endpoint.https)
            .http_status_as_error(false)
            .max_redirects(0)
            .ip_family(match family {
                Family::Any => IpFamily::Any,
                Family::V4 => IpFamily::Ipv4Only,
                Family::V6 => IpFamily::Ipv6Only,
            })
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.timeout))
            .max_idle_connections(0)
            // One small request and answer: ureq's 128 KiB default buffers would be most
            // of the process's memory.
            .max_response_header_size(16 * 1024)
            .input_buffer_size(16 * 1024)
            .output_buffer_size(8 * 1024)
            .user_agent(concat!("route53-ddns/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Transport {
            agent,
            url: format!("{}{UPDATE_PATH}", config.endpoint.base),
        })
    }

    /// Sends one signed update.
    pub fn post(&self, body: &[u8], signed: &SignedHeaders) -> Result<Answer, Failure> {
        let response = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .header(KEY_HEADER, signed.key_id.as_str())
            .header(TIME_HEADER, signed.time_ms.to_string())
            .header(SIGNATURE_HEADER, signed.signature.as_str())
            .send(body);
        let mut response = response.map_err(classify)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(classify)?;
        if (200..300).contains(&status) {
            if let Ok(ok) = serde_json::from_slice::<UpdateResponse>(&bytes) {
                return Ok(Answer::Updated(ok));
            }
        } else if let Ok(error) = serde_json::from_slice::<ErrorResponse>(&bytes) {
            return Ok(Answer::Refused {
                status,
                retry_after: error.retry_after.or(retry_after),
                error,
            });
        }
        let text = String::from_utf8_lossy(&bytes);
        let snippet: String = text
            .chars()
            .take(120)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        Ok(Answer::Unexpected {
            status,
            retry_after,
            snippet,
        })
    }
}

fn classify(e: ureq::Error) -> Failure {
    match e {
        ureq::Error::Rustls(r) => Failure::Tls(r.to_string()),
        ureq::Error::Tls(m) => Failure::Tls(m.to_owned()),
        ureq::Error::Timeout(t) => Failure::Timeout(t.to_string()),
        ureq::Error::HostNotFound => Failure::Dns("host not found".into()),
        ureq::Error::Io(io) => {
            if let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                Failure::Tls(r.to_string())
            } else if io.kind() == std::io::ErrorKind::TimedOut {
                Failure::Timeout(io.to_string())
            } else {
                Failure::Network(io.to_string())
            }
        }
        other => Failure::Network(other.to_string()),
    }
}
