//! Native messaging framing: each message is a u32 length in native byte order followed
//! by that many bytes of UTF-8 JSON, in both directions.
//!
//! Reading never allocates more than the limit: a length over it is reported and its
//! bytes are skipped in small chunks, so a hostile or broken peer cannot make the host
//! allocate gigabytes. Writing refuses messages over the browser's 1 MiB limit instead of
//! sending something the browser would answer by dropping the connection.

use std::io::{self, Read, Write};

/// What one read from the stream produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A complete message.
    Message(String),
    /// The stream ended cleanly, between messages.
    Eof,
    /// The stream ended inside a frame: `got` of `expected` bytes (header or body) arrived.
    Truncated { expected: usize, got: usize },
    /// A length over the limit; the body was skipped unread (or up to EOF).
    TooLarge { len: u64 },
    /// A complete message whose bytes are not UTF-8.
    NotUtf8,
}

/// Reads as many bytes as are available up to `buf.len()`; returns how many.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads the next frame; `max` is the largest body accepted.
pub fn read_frame<R: Read>(r: &mut R, max: usize) -> io::Result<Frame> {
    let mut header = [0u8; 4];
    let got = read_full(r, &mut header)?;
    if got == 0 {
        return Ok(Frame::Eof);
    }
    if got < 4 {
        return Ok(Frame::Truncated { expected: 4, got });
    }
    let len = u32::from_ne_bytes(header) as usize;
    if len > max {
        // Skip the body without holding it; stop quietly at EOF.
        io::copy(&mut r.by_ref().take(len as u64), &mut io::sink())?;
        return Ok(Frame::TooLarge { len: len as u64 });
    }
    let mut body = vec![0u8; len];
    let got = read_full(r, &mut body)?;
    if got < len {
        return Ok(Frame::Truncated { expected: len, got });
    }
    Ok(match String::from_utf8(body) {
        Ok(text) => Frame::Message(text),
        Err(_) => Frame::NotUtf8,
    })
}

/// Why a frame was not written.
#[derive(Debug)]
pub enum WriteError {
    /// The message is longer than the limit; nothing was written.
    TooLarge { len: usize },
    /// The stream failed (the browser closed it, usually).
    Io(io::Error),
}

/// Writes one frame and flushes it, unless `text` is longer than `max` bytes.
pub fn write_frame<W: Write>(w: &mut W, text: &str, max: usize) -> Result<(), WriteError> {
    let len = text.len();
    if len > max {
        return Err(WriteError::TooLarge { len });
    }
    let header = (len as u32).to_ne_bytes();
    w.write_all(&header)
        .and_then(|_| w.write_all(text.as_bytes()))
        .and_then(|_| w.flush())
        .map_err(WriteError::Io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    /// A reader that hands out one byte at a time, as a slow pipe might.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn reads_consecutive_frames_even_byte_by_byte() {
        let mut bytes = framed(br#"{"a":1}"#);
        bytes.extend(framed("{\"名\":\"号源\"}".as_bytes()));
        let mut r = Trickle(&bytes);
        assert_eq!(
            read_frame(&mut r, 100).unwrap(),
            Frame::Message(r#"{"a":1}"#.into())
        );
        assert_eq!(
            read_frame(&mut r, 100).unwrap(),
            Frame::Message("{\"名\":\"号源\"}".into())
        );
        assert_eq!(read_frame(&mut r, 100).unwrap(), Frame::Eof);
    }

    #[test]
    fn native_endian_length() {
        let mut bytes = 3u32.to_ne_bytes().to_vec();
        bytes.extend_from_slice(b"abc");
        assert_eq!(
            read_frame(&mut bytes.as_slice(), 10).unwrap(),
            Frame::Message("abc".into())
        );
    }

    #[test]
    fn zero_length_is_an_empty_message() {
        let bytes = 0u32.to_ne_bytes();
        let mut r = &bytes[..];
        assert_eq!(
            read_frame(&mut r, 10).unwrap(),
            Frame::Message(String::new())
        );
        assert_eq!(read_frame(&mut r, 10).unwrap(), Frame::Eof);
    }

    #[test]
    fn short_header_and_short_body_are_truncated() {
        assert_eq!(
            read_frame(&mut &[5u8, 0][..], 10).unwrap(),
            Frame::Truncated {
                expected: 4,
                got: 2
            }
        );
        let mut bytes = 10u32.to_ne_bytes().to_vec();
        bytes.extend_from_slice(b"abc");
        assert_eq!(
            read_frame(&mut bytes.as_slice(), 100).unwrap(),
            Frame::Truncated {
                expected: 10,
                got: 3
            }
        );
    }

    #[test]
    fn oversize_is_skipped_and_the_next_frame_still_reads() {
        let mut bytes = framed(&[b'x'; 50]);
        bytes.extend(framed(b"ok"));
        let mut r = bytes.as_slice();
        assert_eq!(read_frame(&mut r, 20).unwrap(), Frame::TooLarge { len: 50 });
        assert_eq!(read_frame(&mut r, 20).unwrap(), Frame::Message("ok".into()));
    }

    #[test]
    fn oversize_claim_is_not_allocated() {
        // Claims ~4 GiB with nothing behind it: must return at once, not allocate.
        let bytes = u32::MAX.to_ne_bytes();
        let mut r = &bytes[..];
        assert_eq!(
            read_frame(&mut r, 64 << 20).unwrap(),
            Frame::TooLarge {
                len: u64::from(u32::MAX)
            }
        );
        assert_eq!(read_frame(&mut r, 64 << 20).unwrap(), Frame::Eof);
    }

    #[test]
    fn invalid_utf8_is_reported_and_the_stream_stays_in_step() {
        let mut bytes = framed(&[0xff, 0xfe, b'{']);
        bytes.extend(framed(b"{}"));
        let mut r = bytes.as_slice();
        assert_eq!(read_frame(&mut r, 100).unwrap(), Frame::NotUtf8);
        assert_eq!(
            read_frame(&mut r, 100).unwrap(),
            Frame::Message("{}".into())
        );
    }

    #[test]
    fn writes_length_then_bytes_and_refuses_oversize() {
        let mut out = Vec::new();
        write_frame(&mut out, "号", 100).unwrap();
        assert_eq!(out, framed("号".as_bytes()));
        let mut out = Vec::new();
        assert!(matches!(
            write_frame(&mut out, "abcdef", 5),
            Err(WriteError::TooLarge { len: 6 })
        ));
        assert!(
            out.is_empty(),
            "nothing may be written for an oversize message"
        );
    }
}
