//! Reading a PEM bundle without holding it: lines with a length cap, skipping to a byte,
//! a word-at-a-time byte search, and base64. (The size build's std, built with
//! `optimize_for_size`, searches byte by byte; the bundle is ~220 KB read on every run.)

use std::io::BufRead;

/// Reads one line into `line` (cleared first, at most 4 KiB kept); false at the end.
pub fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<bool> {
    line.clear();
    Ok(read_until(input, b'\n', line, 4096)? > 0)
}

/// `BufRead::read_until` with a limit on the bytes appended (a longer line is cut there and
/// its rest read as the next), searching with [`find`].
pub fn read_until(
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

/// Consumes the input up to the next `-`, which stays unread (or to its end): the rest of
/// a PEM block whose base64 has no `-`, up to its END line (or, in a damaged bundle, up to
/// the next BEGIN line, which is then read whole as a line). Lines of exactly 64 characters that
/// do not start with `-` (a bundle's base64 lines) are passed over whole, without looking
/// at each byte; anything else is searched.
pub fn skip_to_dash(input: &mut impl BufRead) -> std::io::Result<()> {
    const LINE: usize = 64;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        let mut at = 0;
        while buf.get(at + LINE) == Some(&b'\n') && buf[at] != b'-' && buf[at] != b'\n' {
            at += LINE + 1;
        }
        if at > 0 {
            input.consume(at);
            continue;
        }
        // Not at a whole line here: search the rest of the buffer.
        match find(buf, b'-') {
            Some(i) => {
                input.consume(i);
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
pub fn find(hay: &[u8], byte: u8) -> Option<usize> {
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
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    decode_onto(text, &mut out).then_some(out)
}

/// [`decode`] onto the end of `out`; false (and `out` as it was) when `text` is not base64.
pub fn decode_onto(text: &[u8], out: &mut Vec<u8>) -> bool {
    if text.len() % 4 != 0 {
        return false;
    }
    let pad = text
        .iter()
        .rev()
        .take(2)
        .take_while(|&&c| c == b'=')
        .count();
    if text.len() >= 4 && text[text.len() - 4..text.len() - pad].contains(&b'=') {
        return false;
    }
    let body = &text[..text.len() - pad];
    // Sized once and filled by index: three bytes per quad, fewer for the padded one.
    let from = out.len();
    out.resize(
        from + body.len() / 4 * 3 + (body.len() % 4).saturating_sub(1),
        0,
    );
    if !fill(body, pad, &mut out[from..]) {
        out.truncate(from);
        return false;
    }
    true
}

fn fill(body: &[u8], pad: usize, out: &mut [u8]) -> bool {
    let mut quads = body.chunks_exact(4);
    for (q, o) in (&mut quads).zip(out.chunks_exact_mut(3)) {
        let v = [
            BASE64[q[0] as usize],
            BASE64[q[1] as usize],
            BASE64[q[2] as usize],
            BASE64[q[3] as usize],
        ];
        if (v[0] | v[1] | v[2] | v[3]) & 0x80 != 0 {
            return false;
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
                return false;
            }
            n = n << 6 | u32::from(v);
        }
        n <<= 6 * pad as u32;
        let tail = out.len() - (rest.len() - 1);
        out[tail..].copy_from_slice(&n.to_be_bytes()[1..rest.len()]);
    }
    true
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
        assert!(skip_to_dash(&mut input).is_ok());
        out.clear();
        assert_eq!(read_until(&mut input, b'\n', &mut out, 50).ok(), Some(2));
        assert_eq!(out, b"-x");
        assert_eq!(read_until(&mut input, b'\n', &mut out, 50).ok(), Some(0));
    }

    #[test]
    fn skipping_passes_whole_lines_and_stops_at_the_first_dash() {
        let line = format!("{}\n", "A".repeat(64));
        let text = format!("{line}{line}{line}AB\n-----END X-----\nnext\n");
        for cap in [1, 10, 64, 65, 66, 130, 200, 4096] {
            let mut input = std::io::BufReader::with_capacity(cap, text.as_bytes());
            assert!(skip_to_dash(&mut input).is_ok());
            let mut out = Vec::new();
            assert!(read_until(&mut input, b'\n', &mut out, 50).is_ok());
            assert_eq!(out, b"-----END X-----\n", "buffer of {cap}");
        }
        // A dash that starts a 64-character line is found, not passed over.
        let dashed = format!("{line}-{}\nrest", "B".repeat(63));
        let mut input = std::io::BufReader::with_capacity(4096, dashed.as_bytes());
        assert!(skip_to_dash(&mut input).is_ok());
        let mut out = Vec::new();
        assert!(read_until(&mut input, b'\n', &mut out, 80).is_ok());
        assert_eq!(out, format!("-{}\n", "B".repeat(63)).as_bytes());
    }
}
