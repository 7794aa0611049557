//! RFC 6587 framing of a syslog stream over TCP: octet counting (`<len> <message>`) and
//! non-transparent framing (a message ends at LF or NUL), told apart per message by its
//! first byte. Owns the bound on how much of one message is ever held in memory.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// An octet count longer than this many digits is not a frame: it could not be honoured
/// under any sane limit, and parsing it would overflow.
const MAX_COUNT_DIGITS: usize = 10;

/// One message read off a stream.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    /// The message cut off at the limit: the sender's bytes past it were read and dropped.
    pub truncated: bool,
}

/// Why a stream is no longer readable as syslog; the connection is closed with it.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("octet count of more than {MAX_COUNT_DIGITS} digits")]
    CountTooLong,
    #[error("octet count followed by byte {0:#04x}, not a space")]
    CountNotFollowedBySpace(u8),
    #[error("octet count of zero")]
    EmptyCountedFrame,
    #[error("stream ended inside an octet-counted frame ({missing} of {count} bytes missing)")]
    EndedInsideFrame { count: u64, missing: u64 },
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads the next message into `out` (cleared first, at most `max` bytes, trailing CR/LF
/// removed). `Ok(None)` at a clean end of stream, between messages.
pub async fn next_frame<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
    out: &mut Vec<u8>,
) -> Result<Option<Frame>, FrameError> {
    out.clear();
    // Senders pad between messages with stray line ends and NULs; they frame nothing.
    let first = loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(None);
        }
        match buf.iter().position(|b| !matches!(b, b'\n' | b'\r' | b'\0')) {
            Some(at) => {
                let first = buf[at];
                reader.consume(at);
                break first;
            }
            None => {
                let all = buf.len();
                reader.consume(all);
            }
        }
    };
    let frame = if first.is_ascii_digit() {
        octet_counted(reader, max, out).await?
    } else {
        terminated(reader, max, out).await?
    };
    while matches!(out.last(), Some(b'\n' | b'\r')) {
        out.pop();
    }
    Ok(Some(frame))
}

async fn octet_counted<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
    out: &mut Vec<u8>,
) -> Result<Frame, FrameError> {
    let mut count: u64 = 0;
    let mut digits = 0usize;
    loop {
        let buf = reader.fill_buf().await?;
        let Some(&byte) = buf.first() else {
            return Err(FrameError::EndedInsideFrame {
                count,
                missing: count,
            });
        };
        reader.consume(1);
        if byte == b' ' {
            break;
        }
        if !byte.is_ascii_digit() {
            return Err(FrameError::CountNotFollowedBySpace(byte));
        }
        digits += 1;
        if digits > MAX_COUNT_DIGITS {
            return Err(FrameError::CountTooLong);
        }
        count = count * 10 + u64::from(byte - b'0');
    }
    if count == 0 {
        return Err(FrameError::EmptyCountedFrame);
    }
    let mut remaining = count;
    while remaining > 0 {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Err(FrameError::EndedInsideFrame {
                count,
                missing: remaining,
            });
        }
        let take = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let room = max.saturating_sub(out.len()).min(take);
        out.extend_from_slice(&buf[..room]);
        reader.consume(take);
        remaining -= take as u64;
    }
    Ok(Frame {
        truncated: count > max as u64,
    })
}

async fn terminated<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
    out: &mut Vec<u8>,
) -> Result<Frame, FrameError> {
    let mut truncated = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            // A sender that closes after its last message without a line end still
            // meant it.
            return Ok(Frame { truncated });
        }
        let (chunk, end) = match buf.iter().position(|b| matches!(b, b'\n' | b'\0')) {
            Some(at) => (at, Some(at + 1)),
            None => (buf.len(), None),
        };
        let room = max.saturating_sub(out.len());
        if chunk > room {
            truncated = true;
        }
        out.extend_from_slice(&buf[..chunk.min(room)]);
        reader.consume(end.unwrap_or(chunk));
        if end.is_some() {
            return Ok(Frame { truncated });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8], max: usize) -> (Vec<(String, bool)>, Option<String>) {
        // A tiny buffer, so that every frame straddles reads.
        let mut reader = tokio::io::BufReader::with_capacity(3, input);
        let mut out = Vec::new();
        let mut seen = Vec::new();
        loop {
            match next_frame(&mut reader, max, &mut out).await {
                Ok(Some(frame)) => {
                    seen.push((String::from_utf8_lossy(&out).into_owned(), frame.truncated))
                }
                Ok(None) => return (seen, None),
                Err(error) => return (seen, Some(error.to_string())),
            }
        }
    }

    #[tokio::test]
    async fn octet_counting_and_line_ends_mix_per_message() {
        let (seen, error) = frames(b"5 hello<13>a b\n\n\0<14>c\x0011 hello world", 100).await;
        assert_eq!(error, None);
        assert_eq!(
            seen,
            vec![
                ("hello".to_string(), false),
                ("<13>a b".to_string(), false),
                ("<14>c".to_string(), false),
                ("hello world".to_string(), false),
            ]
        );
    }

    #[tokio::test]
    async fn long_messages_are_cut_at_the_limit_and_the_stream_goes_on() {
        let (seen, error) = frames(b"<1>abcdefgh\n10 0123456789<2>x\n", 5).await;
        assert_eq!(error, None);
        assert_eq!(
            seen,
            vec![
                ("<1>ab".to_string(), true),
                ("01234".to_string(), true),
                ("<2>x".to_string(), false),
            ]
        );
    }

    #[tokio::test]
    async fn a_bad_count_ends_the_stream_with_its_reason() {
        let (seen, error) = frames(b"<1>ok\n12x rest", 100).await;
        assert_eq!(seen, vec![("<1>ok".to_string(), false)]);
        assert_eq!(
            error.as_deref(),
            Some("octet count followed by byte 0x78, not a space")
        );
        let (_, error) = frames(b"12345678901 x", 100).await;
        assert_eq!(error.as_deref(), Some("octet count of more than 10 digits"));
        let (_, error) = frames(b"20 short", 100).await;
        assert_eq!(
            error.as_deref(),
            Some("stream ended inside an octet-counted frame (15 of 20 bytes missing)")
        );
    }
}
