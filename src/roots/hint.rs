//! Where in the CA bundle the endpoint's root was found last time: a few byte offsets in
//! a small file on tmpfs, so the next run reads those blocks instead of scanning ~220 KB.
//!
//! The hint never decides trust. Each hinted block is read from the bundle itself: its
//! offset must start a line (the byte before it is a newline) holding the BEGIN marker, it
//! is read no further than a full scan reads, and it is kept only if its subject is one of
//! the chain's issuers, as in a full scan. So every root a hint gives is one the full scan
//! of the same bundle gives (the `bundle` fuzz target checks this); any failure with the
//! hinted roots runs the full scan. A hint
//! is used only while the bundle is the same file (device, inode, size, modification
//! time), so an updated `ca-bundle` is scanned afresh. A missing, damaged, oversized or
//! foreign hint file is ignored and replaced.

use std::fs::Metadata;
use std::io::{self, BufRead, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// File name of the hint in the state directory.
pub const FILE: &str = "ca-hint";
/// Offsets kept (a chain has one root; a cross-signed one may have two with its name).
pub const MAX_OFFSETS: usize = 4;
/// Largest hint file read.
const MAX_FILE: usize = 256;
const MAGIC: &str = "route53-ddns-ca-hint/1";

/// The bundle file as it was opened: a hint applies only to this very file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl Identity {
    pub fn of(meta: &Metadata) -> Identity {
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        }
    }

    fn line(&self, offsets: &[u64]) -> String {
        let list: Vec<String> = offsets.iter().map(u64::to_string).collect();
        format!(
            "{MAGIC} {} {} {} {} {} {}\n",
            self.dev,
            self.ino,
            self.len,
            self.mtime,
            self.mtime_nsec,
            list.join(",")
        )
    }
}

/// The offsets the hint at `path` gives for the bundle `id`, when it names that bundle;
/// each offset lies inside the bundle and below `limit`.
pub fn read(path: &Path, id: &Identity, limit: u64) -> Option<Vec<u64>> {
    let bytes = crate::files::read_capped(path, MAX_FILE).ok()?;
    parse(std::str::from_utf8(&bytes).ok()?, id, limit)
}

fn parse(text: &str, id: &Identity, limit: u64) -> Option<Vec<u64>> {
    let mut words = text.trim_end_matches('\n').split(' ');
    if words.next()? != MAGIC {
        return None;
    }
    let named = (
        words.next()?.parse::<u64>().ok()?,
        words.next()?.parse::<u64>().ok()?,
        words.next()?.parse::<u64>().ok()?,
        words.next()?.parse::<i64>().ok()?,
        words.next()?.parse::<i64>().ok()?,
    );
    if named != (id.dev, id.ino, id.len, id.mtime, id.mtime_nsec) {
        return None;
    }
    let offsets: Vec<u64> = words
        .next()?
        .split(',')
        .map(|w| w.parse::<u64>().ok().filter(|&o| o < id.len && o < limit))
        .collect::<Option<_>>()?;
    if words.next().is_some() || offsets.is_empty() || offsets.len() > MAX_OFFSETS {
        return None;
    }
    Some(offsets)
}

/// Records `offsets` for the bundle `id` (atomically; a failure is only logged: the next
/// run scans again).
pub fn write(path: &Path, id: &Identity, offsets: &[u64]) {
    let offsets = &offsets[..offsets.len().min(MAX_OFFSETS)];
    if offsets.is_empty() {
        return;
    }
    if let Err(e) = crate::state::write_atomic(path, id.line(offsets).as_bytes()) {
        log::debug!("cannot record the CA hint {}: {e}", path.display());
    }
}

/// A reader that counts the bytes consumed: the offset of the next unread byte.
pub struct Counted<R> {
    pub inner: R,
    pub pos: u64,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
        self.pos = self.pos.saturating_add(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: Identity = Identity {
        dev: 2049,
        ino: 77,
        len: 220_000,
        mtime: 1_700_000_000,
        mtime_nsec: 5,
    };

    #[test]
    fn a_hint_reads_back_only_for_its_own_bundle() {
        let line = ID.line(&[0, 1234, 219_999]);
        assert_eq!(parse(&line, &ID, u64::MAX), Some(vec![0, 1234, 219_999]));
        for other in [
            Identity { ino: 78, ..ID },
            Identity { dev: 1, ..ID },
            Identity { len: 220_001, ..ID },
            Identity { mtime: 1, ..ID },
            Identity {
                mtime_nsec: 6,
                ..ID
            },
        ] {
            assert_eq!(parse(&line, &other, u64::MAX), None, "{other:?}");
        }
    }

    #[test]
    fn damaged_or_out_of_range_hints_are_ignored() {
        let good = ID.line(&[10]);
        assert!(parse(&good, &ID, u64::MAX).is_some());
        assert_eq!(parse(&ID.line(&[220_000]), &ID, u64::MAX), None);
        assert_eq!(parse(&ID.line(&[10]), &ID, 10), None);
        assert_eq!(
            parse(&ID.line(&[1, 2, 3, 4]), &ID, u64::MAX),
            Some(vec![1, 2, 3, 4])
        );
        assert_eq!(parse(&ID.line(&[1, 2, 3, 4, 5]), &ID, u64::MAX), None);
        assert_eq!(parse(&good.replace(MAGIC, "x"), &ID, u64::MAX), None);
        assert_eq!(parse(&good.replace(" 10\n", " -1\n"), &ID, u64::MAX), None);
        assert_eq!(parse(&good.replace(" 10\n", " \n"), &ID, u64::MAX), None);
        assert_eq!(parse(&good.replace('\n', " 9\n"), &ID, u64::MAX), None);
        assert_eq!(
            parse(&good.replace(" 2049 ", " 2049x "), &ID, u64::MAX),
            None
        );
        assert_eq!(parse("", &ID, u64::MAX), None);
    }

    #[test]
    fn counted_tracks_the_offset_of_the_next_byte() {
        let mut c = Counted {
            inner: io::BufReader::new(&b"ab\ncdef\n"[..]),
            pos: 0,
        };
        let mut line = Vec::new();
        c.read_until(b'\n', &mut line).expect("read");
        assert_eq!(c.pos, 3);
        let mut two = [0u8; 2];
        c.read_exact(&mut two).expect("read");
        assert_eq!(c.pos, 5);
    }
}
