//! The canonical binary encoding of everything that is hashed or signed.
//!
//! Deterministic by construction: fields in a fixed order, integers big-endian and fixed-width,
//! strings and byte strings prefixed by their length as a `u32`. No maps, no floats, no optional
//! padding — two encoders can never produce different bytes for the same value. The layout of
//! each structure is documented in `docs/ledger-format.md`.

use crate::Hash;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes end before the structure does.
    #[error("truncated: {0} needs more bytes")]
    Truncated(&'static str),
    /// A length prefix is larger than allowed.
    #[error("{what} is {len} bytes; at most {max} are allowed")]
    TooLong {
        /// What was being read.
        what: &'static str,
        /// The length found.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Bytes remain after the structure.
    #[error("{0} trailing bytes")]
    Trailing(usize),
    /// A text field is not UTF-8.
    #[error("{0} is not valid UTF-8")]
    Utf8(&'static str),
    /// A magic number, version or tag is unknown.
    #[error("unknown {what}: {value}")]
    Unknown {
        /// What was being read.
        what: &'static str,
        /// The value found.
        value: u64,
    },
}

/// Appends canonical fields to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self { buf: Vec::with_capacity(256) }
    }
    /// The bytes written.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
    /// Raw bytes without a length (magic numbers, fixed-size hashes).
    pub fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }
    /// One byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    /// A `u32`, big-endian.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }
    /// A `u64`, big-endian.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }
    /// An `i64`, big-endian two's complement.
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }
    /// A 32-byte hash.
    pub fn hash(&mut self, h: &Hash) -> &mut Self {
        self.raw(&h.0)
    }
    /// A length-prefixed byte string.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.u32(b.len() as u32);
        self.raw(b)
    }
    /// A length-prefixed UTF-8 string.
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }
}

/// Reads canonical fields, refusing anything malformed.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    /// Fails unless every byte was read.
    pub fn end(&self) -> Result<(), DecodeError> {
        if self.pos == self.buf.len() { Ok(()) } else { Err(DecodeError::Trailing(self.buf.len() - self.pos)) }
    }
    /// How far the reader is.
    pub fn position(&self) -> usize {
        self.pos
    }
    /// `n` raw bytes.
    pub fn raw(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated(what))?;
        let s = self.buf.get(self.pos..end).ok_or(DecodeError::Truncated(what))?;
        self.pos = end;
        Ok(s)
    }
    /// One byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.raw(1, what)?[0])
    }
    /// A big-endian `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.raw(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A big-endian `u64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.raw(8, what)?);
        Ok(u64::from_be_bytes(a))
    }
    /// A big-endian `i64`.
    pub fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.raw(8, what)?);
        Ok(i64::from_be_bytes(a))
    }
    /// A 32-byte hash.
    pub fn hash(&mut self, what: &'static str) -> Result<Hash, DecodeError> {
        let mut a = [0u8; 32];
        a.copy_from_slice(self.raw(32, what)?);
        Ok(Hash(a))
    }
    /// A length-prefixed byte string of at most `max` bytes.
    pub fn bytes(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.u32(what)? as usize;
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        self.raw(len, what)
    }
    /// A length-prefixed UTF-8 string of at most `max` bytes.
    pub fn str(&mut self, what: &'static str, max: usize) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes(what, max)?).map_err(|_| DecodeError::Utf8(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let mut w = Writer::new();
        w.u8(7).u32(9).u64(u64::MAX).i64(-5).str("GB").bytes(&[1, 2, 3]);
        let b = w.finish();
        let mut r = Reader::new(&b);
        assert_eq!(r.u8("a").unwrap(), 7);
        assert_eq!(r.u32("b").unwrap(), 9);
        assert_eq!(r.u64("c").unwrap(), u64::MAX);
        assert_eq!(r.i64("d").unwrap(), -5);
        assert_eq!(r.str("e", 10).unwrap(), "GB");
        assert_eq!(r.bytes("f", 10).unwrap(), &[1, 2, 3]);
        r.end().unwrap();
        let mut r = Reader::new(&b[..3]);
        assert_eq!(r.u32("x"), Err(DecodeError::Truncated("x")));
        let mut w = Writer::new();
        w.str("too long");
        let b = w.finish();
        assert!(matches!(Reader::new(&b).str("s", 3), Err(DecodeError::TooLong { .. })));
    }
}
