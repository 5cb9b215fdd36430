//! A certificate's issuer and subject `Name`s read from a prefix of its DER encoding, so a
//! root can be ruled out before the rest of it is decoded.

/// Whether the certificate whose DER starts with `prefix` has one of `issuers` as its
/// subject: known to be not as soon as the subject's length is (no issuer has it).
pub fn wanted(prefix: &[u8], issuers: &[&[u8]]) -> Result<bool, Short> {
    let (_, rest) = up_to_subject(prefix)?;
    let n = subject_len(rest)?;
    if !issuers.iter().any(|i| i.len() == n) {
        return Ok(false);
    }
    let subject = rest.get(..n).ok_or(Short::Truncated)?;
    Ok(issuers.contains(&subject))
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
    let (issuer, rest) = up_to_subject(der)?;
    let (subject, _) = element_tagged(rest, 0x30)?;
    Ok((issuer, subject))
}

/// The length of the `Name` (header included) at the start of `der`, once its header has
/// arrived.
fn subject_len(der: &[u8]) -> Result<usize, Short> {
    let (h, len) = tagged(der, 0x30)?;
    h.checked_add(len).ok_or(Short::Malformed)
}

/// The issuer `Name`, and what follows the validity (where the subject starts).
fn up_to_subject(der: &[u8]) -> Result<(&[u8], &[u8]), Short> {
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
    Ok((issuer, tbs))
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
    let (h, _) = tagged(der, tag)?;
    Ok(((), &der[h..]))
}

/// [`header`] of the element at the start of `der`, which must carry `tag`.
fn tagged(der: &[u8], tag: u8) -> Result<(usize, usize), Short> {
    match der.first() {
        None => Err(Short::Truncated),
        Some(&t) if t != tag => Err(Short::Malformed),
        Some(_) => header(der),
    }
}

/// The whole element at the start of `der`, and what follows it.
fn element(der: &[u8]) -> Result<(&[u8], &[u8]), Short> {
    split(der, header(der)?)
}

/// The element whose header is `(h, len)` at the start of `der`, and what follows it.
fn split(der: &[u8], (h, len): (usize, usize)) -> Result<(&[u8], &[u8]), Short> {
    let end = h.checked_add(len).ok_or(Short::Malformed)?;
    if der.len() < end {
        return Err(Short::Truncated);
    }
    Ok(der.split_at(end))
}

fn element_tagged(der: &[u8], tag: u8) -> Result<(&[u8], &[u8]), Short> {
    split(der, tagged(der, tag)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_need_the_prefix_up_to_the_subject() {
        assert_eq!(names(&[0x30]), Err(Short::Truncated));
        assert_eq!(names(&[0x31, 0x00]), Err(Short::Malformed));
        assert_eq!(names(&[0x30, 0x85, 1, 1, 1, 1, 1]), Err(Short::Malformed));
    }
}
