//! A guard in front of the LSP transport. tower-lsp-server's reader stops reading for good
//! after a message it cannot decode, which would leave the server deaf to everything after
//! one malformed message. This reads the client's frames first and passes on only valid
//! ones: a frame whose body is not JSON is replaced by a notification nobody handles (so it
//! is absorbed), and bytes that are not a frame are skipped up to the next header.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest message accepted (a 10 MB document fits many times over).
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// What a malformed frame becomes: a notification no handler answers.
const ABSORBED: &[u8] = br#"{"jsonrpc":"2.0","method":"$/objgraph-doctest/malformedMessage"}"#;

/// Copies well-formed frames from `input` to `output` until `input` ends.
pub async fn forward_valid_frames(
    mut input: impl AsyncRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
) {
    let mut buffer: Vec<u8> = Vec::with_capacity(1 << 16);
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        while let Some((frame_end, body)) = next_frame(&mut buffer) {
            let valid =
                serde_json::from_slice::<serde::de::IgnoredAny>(&buffer[body.clone()]).is_ok();
            let forwarded = if valid {
                &buffer[body.clone()]
            } else {
                ABSORBED
            };
            let header = format!("Content-Length: {}\r\n\r\n", forwarded.len());
            if output.write_all(header.as_bytes()).await.is_err()
                || output.write_all(forwarded).await.is_err()
            {
                return;
            }
            buffer.drain(..frame_end);
        }
        if output.flush().await.is_err() {
            return;
        }
        match input.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
        }
    }
}

/// The next complete frame at the start of `buffer`: where it ends and where its body is.
/// Garbage before a header, and headers without a usable length, are dropped from `buffer`.
fn next_frame(buffer: &mut Vec<u8>) -> Option<(usize, std::ops::Range<usize>)> {
    loop {
        let start = find(buffer, b"Content-Length:")?;
        if start > 0 {
            buffer.drain(..start);
        }
        let headers_end = find(buffer, b"\r\n\r\n")? + 4;
        let headers = String::from_utf8_lossy(&buffer[..headers_end]);
        let length = headers
            .lines()
            .find_map(|line| line.strip_prefix("Content-Length:"))
            .and_then(|value| value.trim().parse::<usize>().ok())
            .filter(|&length| length <= MAX_MESSAGE);
        let Some(length) = length else {
            // Not a usable header: skip it and look for the next one.
            buffer.drain(..headers_end);
            continue;
        };
        if buffer.len() < headers_end + length {
            return None;
        }
        return Some((headers_end + length, headers_end..headers_end + length));
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn malformed_frames_are_absorbed_and_the_rest_passes() {
        let input: &[u8] = b"junk Content-Length: 10\r\n\r\n{not json}Content-Length: x\r\n\r\nContent-Length: 2\r\n\r\n{}";
        let mut output = Vec::new();
        forward_valid_frames(input, &mut output).await;
        let text = String::from_utf8(output).unwrap();
        assert_eq!(
            text,
            format!(
                "Content-Length: {}\r\n\r\n{}Content-Length: 2\r\n\r\n{{}}",
                ABSORBED.len(),
                String::from_utf8_lossy(ABSORBED)
            )
        );
    }
}
