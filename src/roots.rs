//! Certificate verification against a PEM bundle that is decoded on demand.
//!
//! OpenWrt's `ca-bundle` holds ~140 roots (~220 KB of PEM). Decoding and parsing all of
//! them on every run was two thirds of an update's instructions. Only a root whose subject
//! is the issuer of a certificate the server sent can ever anchor the chain (path building
//! matches names byte for byte), so this verifier reads the bundle line by line during the
//! handshake, decodes each certificate only until its subject (or the subject's length)
//! rules it out ([`der`]), and fully decodes only the ones whose subject is such an issuer.
//! The chain is then verified by webpki exactly as rustls' `WebPkiServerVerifier` does
//! (same calls, same algorithms, no CRLs), against those roots: a root that was skipped
//! could not have been used, so the outcome is the same.
//!
//! Memory: the file is streamed through an 8 KiB buffer, never held whole. It is opened as
//! `check` opens it ([`bundle::open_bundle`]): a regular file within the size cap.
//!
//! Where the anchoring root was found is kept as a hint on tmpfs ([`hint`]): the next run
//! reads that block first and scans the bundle only when the chain does not verify
//! against it. The outcome is that of a full scan either way.

pub mod bundle;
mod der;
mod hint;

pub use der::{names, Short};
pub use hint::FILE as HINT_FILE;

use crate::pem::{decode, decode_onto, read_line, read_until, skip_to_dash};
use bundle::MAX_BUNDLE;
use der::wanted;
use hint::{Counted, Identity};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;

/// Largest certificate decoded.
const MAX_CERT: usize = 16 << 10;
/// Bytes read from a hinted offset: a BEGIN line and the largest block after it.
const MAX_BLOCK: u64 = (MAX_CERT * 4 / 3 + 8192) as u64;

#[derive(Debug)]
pub struct LazyRoots {
    pub path: PathBuf,
    pub algorithms: WebPkiSupportedAlgorithms,
    /// Where the root's offsets are kept between runs (none: always scan).
    pub hint: Option<PathBuf>,
}

impl ServerCertVerifier for LazyRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
        let issuers: Vec<&[u8]> = std::iter::once(end_entity)
            .chain(intermediates)
            .filter_map(|c| names(c).ok().map(|(issuer, _)| issuer))
            .collect();
        let verify = |roots: &RootCertStore| {
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
            rustls::client::verify_server_name(&cert, server_name)
        };
        let (file, id, hinted) = self.open()?;
        if let Some(offsets) = &hinted {
            let roots = self.roots_at(&file, offsets, &issuers)?;
            if !roots.is_empty() && verify(&roots).is_ok() {
                return Ok(ServerCertVerified::assertion());
            }
        }
        let (roots, offsets) = self.roots_for(&file, &issuers)?;
        if roots.is_empty() {
            return Err(Error::InvalidCertificate(CertificateError::UnknownIssuer));
        }
        verify(&roots)?;
        if let Some(path) = &self.hint {
            if hinted.as_ref() != Some(&offsets) {
                hint::write(path, &id, &offsets);
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END: &[u8] = b"-----END CERTIFICATE-----";

impl LazyRoots {
    /// The bundle fuzz target's entry: the roots for `issuers` that the hinted blocks give
    /// and those the full scan gives, whatever the bundle and hint files hold.
    pub fn scan(&self, issuers: &[&[u8]]) -> Result<(RootCertStore, RootCertStore), Error> {
        let (file, _, offsets) = self.open()?;
        let hinted = self.roots_at(&file, &offsets.unwrap_or_default(), issuers)?;
        Ok((hinted, self.roots_for(&file, issuers)?.0))
    }

    /// The bundle, opened once for the run, its identity, and the hint's offsets when the
    /// hint names this very file.
    fn open(&self) -> Result<(File, Identity, Option<Vec<u64>>), Error> {
        let file = bundle::open_bundle(&self.path).map_err(Error::General)?;
        let id = Identity::of(&file.metadata().map_err(|e| self.read_error(e))?);
        let offsets = (self.hint.as_deref()).and_then(|h| hint::read(h, &id, MAX_BUNDLE));
        Ok((file, id, offsets))
    }

    fn read_error(&self, e: std::io::Error) -> Error {
        Error::General(format!("cannot read {}: {e}", self.path.display()))
    }

    /// The bundle's certificates whose subject is one of `issuers`, and the offsets of
    /// their BEGIN lines.
    fn roots_for(
        &self,
        mut file: &File,
        issuers: &[&[u8]],
    ) -> Result<(RootCertStore, Vec<u64>), Error> {
        file.seek(SeekFrom::Start(0))
            .map_err(|e| self.read_error(e))?;
        let mut input = Counted {
            inner: BufReader::with_capacity(8192, file.take(MAX_BUNDLE)),
            pos: 0,
        };
        let mut roots = RootCertStore::empty();
        let mut offsets = Vec::new();
        let mut line = Vec::with_capacity(128);
        loop {
            let at = input.pos;
            if !read_line(&mut input, &mut line).map_err(|e| self.read_error(e))? {
                break;
            }
            if line.trim_ascii() != BEGIN {
                continue;
            }
            match self.block(&mut input, issuers)? {
                Block::Kept(der) => {
                    if roots.add(CertificateDer::from(der)).is_ok() {
                        offsets.push(at);
                    }
                }
                Block::Ended => {}
                // Base64 has no '-': the next one starts the END line (or, in a damaged
                // bundle, whatever line the outer loop then reads). Skipped without copying.
                Block::Rejected => {
                    skip_to_dash(&mut input).map_err(|e| self.read_error(e))?;
                }
            }
        }
        Ok((roots, offsets))
    }

    /// The certificates of the blocks whose BEGIN lines start at `offsets`, when their
    /// subject is one of `issuers` (anything else there is passed over).
    fn roots_at(
        &self,
        mut file: &File,
        offsets: &[u64],
        issuers: &[&[u8]],
    ) -> Result<RootCertStore, Error> {
        let mut roots = RootCertStore::empty();
        let mut line = Vec::with_capacity(128);
        for &at in offsets {
            // From the byte before: a BEGIN line counts only where a line starts, as in the
            // full scan; and no further than the full scan reads.
            let from = at.saturating_sub(1);
            file.seek(SeekFrom::Start(from))
                .map_err(|e| self.read_error(e))?;
            let limit = MAX_BLOCK.min(MAX_BUNDLE.saturating_sub(from));
            // The same reader type as the full scan's: one copy of the block reader in the binary.
            let mut input = Counted {
                inner: BufReader::with_capacity(4096, file.take(limit)),
                pos: from,
            };
            let mut before = [b'\n'];
            if at > 0 {
                input
                    .read_exact(&mut before)
                    .map_err(|e| self.read_error(e))?;
            }
            let begins = before == [b'\n']
                && read_line(&mut input, &mut line).map_err(|e| self.read_error(e))?
                && line.trim_ascii() == BEGIN;
            if !begins {
                continue;
            }
            if let Block::Kept(der) = self.block(&mut input, issuers)? {
                let _ = roots.add(CertificateDer::from(der));
            }
        }
        Ok(roots)
    }

    /// One PEM block after its BEGIN line: its DER when its subject is one of `issuers`;
    /// `Rejected` as soon as it is known not to be (the rest of the block left unread).
    fn block(&self, input: &mut impl BufRead, issuers: &[&[u8]]) -> Result<Block, Error> {
        let mut b64 = Vec::with_capacity(2048);
        let mut prefix = Vec::with_capacity(512);
        let mut keep = false;
        loop {
            // Each line is read straight onto the end of `b64` and trimmed there.
            let start = b64.len();
            // At most one byte past the cap: a longer line is cut and the block refused.
            let room = (MAX_CERT * 4 / 3 + 1).saturating_sub(start).max(1);
            let n = read_until(input, b'\n', &mut b64, room).map_err(|e| self.read_error(e))?;
            if n == 0 {
                return Ok(Block::Ended);
            }
            let lead = b64[start..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            let len = b64[start..].trim_ascii().len();
            b64.copy_within(start + lead..start + lead + len, start);
            b64.truncate(start + len);
            let text = &b64[start..];
            if text == BEGIN {
                // The block before was cut off (a damaged bundle): this one starts afresh.
                (b64, prefix, keep) = (Vec::with_capacity(2048), Vec::with_capacity(512), false);
                continue;
            }
            if text == END {
                b64.truncate(start);
                // Kept, or too short to have been looked at yet (a small EC root).
                let wanted = |der: &Vec<u8>| {
                    keep || names(der).is_ok_and(|(_, subject)| issuers.contains(&subject))
                };
                return Ok(match decode(&b64).filter(wanted) {
                    Some(der) => Block::Kept(der),
                    None => Block::Ended,
                });
            }
            if b64.len() > MAX_CERT * 4 / 3 {
                return Ok(Block::Rejected);
            }
            if keep {
                continue;
            }
            // Decode what whole quads arrived, then look at the subject: a root is passed
            // over as soon as its subject's length is known to be no wanted issuer's.
            let done = prefix.len() / 3 * 4;
            let whole = b64.len() / 4 * 4;
            if whole > done && !decode_onto(&b64[done..whole], &mut prefix) {
                return Ok(Block::Rejected);
            }
            match wanted(&prefix, issuers) {
                Err(Short::Truncated) => {}
                Ok(true) => keep = true,
                Ok(false) | Err(Short::Malformed) => return Ok(Block::Rejected),
            }
        }
    }
}

/// What reading one PEM block gave.
enum Block {
    /// A root whose subject is a wanted issuer.
    Kept(Vec<u8>),
    /// Not wanted, known before its END line, which is still unread.
    Rejected,
    /// Its END line (or the end of the file) was read and nothing was kept.
    Ended,
}
