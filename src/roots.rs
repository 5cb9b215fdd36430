//! Certificate verification against a PEM bundle that is decoded on demand.
//!
//! OpenWrt's `ca-bundle` holds ~140 roots (~220 KB of PEM). Decoding and parsing all of
//! them on every run was two thirds of an update's instructions. Only a root whose subject
//! is the issuer of a certificate the server sent can ever anchor the chain (path building
//! matches names byte for byte), so this verifier reads the bundle line by line during the
//! handshake, decodes each certificate only as far as its subject, and fully decodes only
//! the ones whose subject is such an issuer. The chain is then verified by webpki exactly as
//! rustls' `WebPkiServerVerifier` does (same calls, same algorithms, no CRLs), against those
//! roots: a root that was skipped could not have been used, so the outcome is the same.
//!
//! Memory: the file is streamed through an 8 KiB buffer, never held whole.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

/// Largest PEM bundle read (OpenWrt's is ~220 KB).
const MAX_BUNDLE: u64 = 4 << 20;
/// Largest certificate decoded.
const MAX_CERT: usize = 16 << 10;
/// Base64 characters gathered before the subject is first looked for.
const NAMES_FROM: usize = 512;

#[derive(Debug)]
pub struct LazyRoots {
    pub path: PathBuf,
    pub algorithms: WebPkiSupportedAlgorithms,
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
        let roots = self.roots_for(&issuers)?;
        if roots.is_empty() {
            return Err(Error::InvalidCertificate(CertificateError::UnknownIssuer));
        }
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &roots,
            intermediates,
            now,
            self.algorithms.all,
        )?;
        rustls::client::verify_server_name(&cert, server_name)?;
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
    fn read_error(&self, e: std::io::Error) -> Error {
        Error::General(format!("cannot read {}: {e}", self.path.display()))
    }

    /// The bundle's certificates whose subject is one of `issuers`.
    fn roots_for(&self, issuers: &[&[u8]]) -> Result<RootCertStore, Error> {
        let file = std::fs::File::open(&self.path).map_err(|e| self.read_error(e))?;
        let mut input = BufReader::with_capacity(8192, std::io::Read::take(file, MAX_BUNDLE));
        let mut roots = RootCertStore::empty();
        let mut line = Vec::with_capacity(128);
        while read_line(&mut input, &mut line).map_err(|e| self.read_error(e))? {
            if line.trim_ascii() != BEGIN {
                continue;
            }
            match self.block(&mut input, issuers)? {
                Block::Kept(der) => {
                    let _ = roots.add(CertificateDer::from(der));
                }
                Block::Ended => {}
                // Base64 has no '-': the next one starts the END line (or, in a damaged
                // bundle, whatever line the outer loop then reads). Skipped without copying.
                Block::Rejected => {
                    skip_past(&mut input, b'-').map_err(|e| self.read_error(e))?;
                }
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
            // A root's subject ends within its first ~400 bytes: looking earlier than 512
            // characters (384 bytes) of base64 would only find it truncated.
            if keep || b64.len() < NAMES_FROM {
                continue;
            }
            // Decode what whole quads arrived, then look for the subject.
            let done = prefix.len() / 3 * 4;
            let whole = b64.len() / 4 * 4;
            if whole > done {
                match decode(&b64[done..whole]) {
                    Some(more) => prefix.extend_from_slice(&more),
                    None => return Ok(Block::Rejected),
                }
            }
            match names(&prefix) {
                Ok((_, subject)) if issuers.contains(&subject) => keep = true,
                Ok(_) | Err(Short::Malformed) => return Ok(Block::Rejected),
                Err(Short::Truncated) => {}
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

/// Reads one line into `line` (cleared first, at most 4 KiB kept); false at the end.
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<bool> {
    line.clear();
    Ok(read_until(input, b'\n', line, 4096)? > 0)
}

/// `BufRead::read_until` with a limit on the bytes appended (a longer line is cut there and
/// its rest read as the next), searching with [`find`].
fn read_until(
    input: &mut impl BufRead,
    byte: u8,
    out: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<usize> {
    let mut read = 0;
    while read < limit {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let buf = &buf[..buf.len().min(limit - read)];
        let (n, done) = match find(buf, byte) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        out.extend_from_slice(&buf[..n]);
        input.consume(n);
        read += n;
        if done {
            break;
        }
    }
    Ok(read)
}

/// Consumes the input up to and including the next `byte` (or to its end).
fn skip_past(input: &mut impl BufRead, byte: u8) -> std::io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match find(buf, byte) {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}

/// The index of the first `byte` in `hay`, eight bytes at a time. (std's own search is a
/// byte-by-byte loop in the size build, whose std is built with `optimize_for_size`: most
/// of the bundle's cost was that loop.)
fn find(hay: &[u8], byte: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(byte);
    let mut at = 0;
    while let Some(word) = hay.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*word) ^ pattern;
        // Some byte of `x` is zero exactly when some byte of the word is `byte`.
        if x.wrapping_sub(LO) & !x & HI != 0 {
            break;
        }
        at += 8;
    }
    let rest = hay.get(at..)?;
    rest.iter().position(|&b| b == byte).map(|i| at + i)
}

/// The value of each base64 character (standard alphabet), 0xff for anything else.
const BASE64: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 64 {
        t[b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i] as usize] =
            i as u8;
        i += 1;
    }
    t
};

/// Base64 (standard alphabet, `=` padding only at the end) to bytes.
fn decode(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() % 4 != 0 {
        return None;
    }
    let pad = text
        .iter()
        .rev()
        .take(2)
        .take_while(|&&c| c == b'=')
        .count();
    if text.len() >= 4 && text[text.len() - 4..text.len() - pad].contains(&b'=') {
        return None;
    }
    let body = &text[..text.len() - pad];
    // Sized once and filled by index: three bytes per quad, fewer for the padded one.
    let mut out = vec![0u8; body.len() / 4 * 3 + (body.len() % 4).saturating_sub(1)];
    let mut quads = body.chunks_exact(4);
    for (q, o) in (&mut quads).zip(out.chunks_exact_mut(3)) {
        let v = [
            BASE64[q[0] as usize],
            BASE64[q[1] as usize],
            BASE64[q[2] as usize],
            BASE64[q[3] as usize],
        ];
        if (v[0] | v[1] | v[2] | v[3]) & 0x80 != 0 {
            return None;
        }
        let n =
            u32::from(v[0]) << 18 | u32::from(v[1]) << 12 | u32::from(v[2]) << 6 | u32::from(v[3]);
        o.copy_from_slice(&n.to_be_bytes()[1..]);
    }
    // The last quad's characters before its padding (2 or 3 of them).
    let rest = quads.remainder();
    if !rest.is_empty() {
        let mut n = 0u32;
        for &c in rest {
            let v = BASE64[c as usize];
            if v & 0x80 != 0 {
                return None;
            }
            n = n << 6 | u32::from(v);
        }
        n <<= 6 * pad as u32;
        let tail = out.len() - (rest.len() - 1);
        out[tail..].copy_from_slice(&n.to_be_bytes()[1..rest.len()]);
    }
    Some(out)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Short {
    /// More bytes are needed to reach the subject.
    Truncated,
    Malformed,
}

/// The issuer and subject `Name`s (whole DER elements) of a certificate, from a prefix of
/// its DER encoding.
pub fn names(der: &[u8]) -> Result<(&[u8], &[u8]), Short> {
    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL,
    //   serialNumber, signature AlgorithmIdentifier, issuer Name, validity, subject Name, ...
    let (_, rest) = enter(der, 0x30)?;
    let (_, mut tbs) = enter(rest, 0x30)?;
    if tbs.first() == Some(&0xa0) {
        tbs = element(tbs)?.1;
    }
    let (_, tbs) = element_tagged(tbs, 0x02)?;
    let (_, tbs) = element_tagged(tbs, 0x30)?;
    let (issuer, tbs) = element_tagged(tbs, 0x30)?;
    let (_, tbs) = element_tagged(tbs, 0x30)?;
    let (subject, _) = element_tagged(tbs, 0x30)?;
    Ok((issuer, subject))
}

/// Tag and length of the element at the start of `der`: (header length, content length).
fn header(der: &[u8]) -> Result<(usize, usize), Short> {
    let first = *der.get(1).ok_or(Short::Truncated)?;
    if first < 0x80 {
        return Ok((2, first as usize));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 3 {
        return Err(Short::Malformed);
    }
    let bytes = der.get(2..2 + n).ok_or(Short::Truncated)?;
    let len = bytes.iter().fold(0usize, |acc, &b| acc << 8 | b as usize);
    Ok((2 + n, len))
}

/// Steps into a constructed element: its header is skipped, its content need not be whole.
fn enter(der: &[u8], tag: u8) -> Result<((), &[u8]), Short> {
    match der.first() {
        None => Err(Short::Truncated),
        Some(&t) if t != tag => Err(Short::Malformed),
        Some(_) => {
            let (h, _) = header(der)?;
            Ok(((), &der[h..]))
        }
    }
}

/// The whole element at the start of `der`, and what follows it.
fn element(der: &[u8]) -> Result<(&[u8], &[u8]), Short> {
    let (h, len) = header(der)?;
    let end = h.checked_add(len).ok_or(Short::Malformed)?;
    if der.len() < end {
        return Err(Short::Truncated);
    }
    Ok(der.split_at(end))
}

fn element_tagged(der: &[u8], tag: u8) -> Result<(&[u8], &[u8]), Short> {
    match der.first() {
        None => Err(Short::Truncated),
        Some(&t) if t != tag => Err(Short::Malformed),
        Some(_) => element(der),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_rejects_garbage() {
        assert_eq!(decode(b"aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(decode(b"aGVsbG8h"), Some(b"hello!".to_vec()));
        assert_eq!(decode(b"aGVsbA=="), Some(b"hell".to_vec()));
        assert_eq!(decode(b"aGV"), None);
        assert_eq!(decode(b"aG=sbG8h"), None);
        assert_eq!(decode(b"a==="), None);
        assert_eq!(decode(b"aGVs=G8h"), None);
        assert_eq!(decode(b"aGVsbG8*"), None);
        assert_eq!(decode(b""), Some(Vec::new()));
    }

    #[test]
    fn base64_decodes_every_length_and_byte() {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        fn encode(data: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            for c in data.chunks(3) {
                let n = (u32::from(c[0]) << 16)
                    | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                    | u32::from(*c.get(2).unwrap_or(&0));
                for i in 0..4 {
                    out.push(if i <= c.len() {
                        A[(n >> (18 - 6 * i) & 63) as usize]
                    } else {
                        b'='
                    });
                }
            }
            out
        }
        let data: Vec<u8> = (0..=255u8).rev().chain(0..=255).collect();
        for len in 0..40 {
            for start in [0, 1, 100, 250] {
                let chunk = &data[start..start + len];
                assert_eq!(
                    decode(&encode(chunk)).as_deref(),
                    Some(chunk),
                    "{len} at {start}"
                );
            }
        }
    }

    #[test]
    fn find_agrees_with_a_plain_search() {
        let hay: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        for len in [0, 1, 7, 8, 9, 16, 17, 63, 64, 65, 300] {
            for byte in [0u8, 1, 45, 10, 128, 250, 255] {
                let h = &hay[..len];
                assert_eq!(
                    find(h, byte),
                    h.iter().position(|&b| b == byte),
                    "{len} {byte}"
                );
            }
        }
    }

    #[test]
    fn lines_are_cut_at_the_limit_and_read_on() {
        let mut input = std::io::BufReader::with_capacity(4, &b"abcdefgh\nij\n-x"[..]);
        let mut out = Vec::new();
        assert_eq!(read_until(&mut input, b'\n', &mut out, 5).ok(), Some(5));
        assert_eq!(out, b"abcde");
        assert_eq!(read_until(&mut input, b'\n', &mut out, 50).ok(), Some(4));
        assert_eq!(out, b"abcdefgh\n");
        assert!(skip_past(&mut input, b'-').is_ok());
        out.clear();
        assert_eq!(read_until(&mut input, b'\n', &mut out, 50).ok(), Some(1));
        assert_eq!(out, b"x");
        assert_eq!(read_until(&mut input, b'\n', &mut out, 50).ok(), Some(0));
    }

    #[test]
    fn names_need_the_prefix_up_to_the_subject() {
        assert_eq!(names(&[0x30]), Err(Short::Truncated));
        assert_eq!(names(&[0x31, 0x00]), Err(Short::Malformed));
        assert_eq!(names(&[0x30, 0x85, 1, 1, 1, 1, 1]), Err(Short::Malformed));
    }
}
