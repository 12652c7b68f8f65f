//! The transport's edges. tower-lsp-server's reader stops for good after a message it cannot
//! decode, which would leave the server deaf to everything after one malformed message, so
//! the client's frames are read here first and only messages tower-lsp-server decodes are
//! passed on. Everything else is answered or dropped here:
//!
//! - a body that is not JSON: a Parse error (-32700, id null);
//! - JSON that is not a JSON-RPC 2.0 request, notification or response (`{}`, `null`, `[]`,
//!   `42`, batches, a float or object id, `"jsonrpc": "1.0"`, nesting deeper than
//!   serde_json's recursion limit): an Invalid Request error (-32600) with the message's id
//!   when it has a usable one, else id null; a malformed notification or response is dropped
//!   (nobody waits for an answer to it), with a line on stderr;
//! - bytes outside any frame: discarded up to the next `Content-Length:` header, keeping at
//!   most a header's worth of them, and each byte is scanned once (linear time).
//!
//! Our error responses and tower-lsp-server's frames share stdout: tower-lsp-server writes
//! into a pipe, and one task ([`merge_output`]) copies its frames whole and ours between
//! them, so the two never interleave inside a frame.

use std::ops::Range;

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc;

/// Largest message accepted (a 10 MB document fits many times over).
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// Longest header block looked at; a longer one is not a header.
const MAX_HEADER: usize = 8 * 1024;

const HEADER: &[u8] = b"Content-Length:";

/// Frames accumulated from a byte stream, in bounded memory.
#[derive(Default)]
struct FrameBuffer {
    bytes: Vec<u8>,
    /// Bytes before this offset are consumed (dropped in one go, not frame by frame).
    consumed: usize,
    /// Where the search for the end of the current header resumes (no byte scanned twice).
    scanned: usize,
}

impl FrameBuffer {
    fn extend(&mut self, chunk: &[u8]) {
        if self.consumed > 0 {
            self.bytes.drain(..self.consumed);
            self.scanned = self.scanned.saturating_sub(self.consumed);
            self.consumed = 0;
        }
        self.bytes.extend_from_slice(chunk);
    }

    /// The body of the next complete frame, if one is buffered. Garbage before a header, and
    /// headers without a usable length, are dropped.
    fn next_body(&mut self) -> Option<Range<usize>> {
        loop {
            let pending = &self.bytes[self.consumed..];
            let Some(start) = find(pending, HEADER) else {
                // Keep only what could be the start of a header split across reads.
                let keep = HEADER.len() - 1;
                self.consumed = self.bytes.len().saturating_sub(keep).max(self.consumed);
                self.scanned = self.consumed;
                return None;
            };
            self.consumed += start;
            self.scanned = self.scanned.max(self.consumed);
            let Some(headers_end) = self.headers_end() else {
                if self.bytes.len() - self.consumed > MAX_HEADER {
                    // No blank line after a header this long: not a header after all.
                    self.consumed += HEADER.len();
                    continue;
                }
                return None;
            };
            let headers = String::from_utf8_lossy(&self.bytes[self.consumed..headers_end]);
            let length = headers
                .lines()
                .find_map(|line| line.strip_prefix("Content-Length:"))
                .and_then(|value| value.trim().parse::<usize>().ok())
                .filter(|&length| length <= MAX_MESSAGE);
            let Some(length) = length else {
                self.consumed = headers_end;
                self.scanned = headers_end;
                continue;
            };
            if self.bytes.len() < headers_end + length {
                return None;
            }
            self.consumed = headers_end + length;
            self.scanned = self.consumed;
            return Some(headers_end..headers_end + length);
        }
    }

    /// The end of the header block that starts at `consumed`, scanning only new bytes.
    fn headers_end(&mut self) -> Option<usize> {
        let from = self.scanned.max(self.consumed);
        match find(&self.bytes[from..], b"\r\n\r\n") {
            Some(at) => Some(from + at + 4),
            None => {
                self.scanned = self.bytes.len().saturating_sub(3).max(self.consumed);
                None
            }
        }
    }
}

/// What to do with one message body from the client.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// tower-lsp-server can decode it.
    Forward,
    /// Answer it with this error response (a request we cannot pass on).
    Answer(Value),
    /// Drop it (an empty body, a malformed notification or response): why, for the log.
    Drop(String),
}

fn judge(body: &[u8]) -> Verdict {
    if body.is_empty() {
        return Verdict::Drop("an empty message".to_owned());
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        // serde_json reports nesting past its recursion limit as a syntax error, but the
        // body may well be JSON: it is a request we will not read, not a parse error.
        Err(error)
            if (error.is_syntax() || error.is_eof())
                && !error.to_string().starts_with("recursion limit") =>
        {
            return Verdict::Answer(error_response(
                Value::Null,
                -32700,
                &format!("Parse error: the message is not JSON ({error})"),
            ));
        }
        Err(error) => {
            return Verdict::Answer(error_response(
                Value::Null,
                -32600,
                &format!("Invalid Request: {error}"),
            ));
        }
    };
    let decodes = serde_json::from_value::<jsonrpc::Response>(value.clone()).is_ok()
        || serde_json::from_value::<jsonrpc::Request>(value.clone()).is_ok();
    if decodes {
        return Verdict::Forward;
    }
    let problem = what_is_wrong(&value);
    let object = value.as_object();
    let has = |key: &str| object.is_some_and(|object| object.contains_key(key));
    if has("method") && !has("id") {
        return Verdict::Drop(format!("a malformed notification: {problem}"));
    }
    if !has("method") && (has("result") || has("error")) {
        return Verdict::Drop(format!("a malformed response: {problem}"));
    }
    let id = object
        .and_then(|object| object.get("id"))
        .filter(|id| id.is_i64() || id.is_string())
        .cloned()
        .unwrap_or(Value::Null);
    Verdict::Answer(error_response(
        id,
        -32600,
        &format!("Invalid Request: {problem}"),
    ))
}

/// Why a JSON value is not a JSON-RPC 2.0 message, in a few words.
fn what_is_wrong(value: &Value) -> String {
    let Some(object) = value.as_object() else {
        return match value {
            Value::Array(_) => "batches are not part of the Language Server Protocol; send \
                                one message per frame"
                .to_owned(),
            _ => format!("a message must be a JSON object, not {value}"),
        };
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return "\"jsonrpc\" must be \"2.0\"".to_owned();
    }
    if let Some(id) = object.get("id")
        && !(id.is_i64() || id.is_string() || id.is_null())
    {
        return format!("\"id\" must be an integer or a string, not {id}");
    }
    match object.get("method") {
        Some(Value::String(_)) => "the message has fields of the wrong type".to_owned(),
        Some(other) => format!("\"method\" must be a string, not {other}"),
        None => "a request needs a \"method\"".to_owned(),
    }
}

fn error_response(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    framed.extend_from_slice(body);
    framed
}

/// Copies the messages tower-lsp-server can decode from `input` to `output` until `input`
/// ends; error responses for the others go to `answers` (see [`merge_output`]).
pub async fn forward_valid_frames(
    mut input: impl AsyncRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
    answers: mpsc::UnboundedSender<Vec<u8>>,
) {
    let mut buffer = FrameBuffer::default();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        while let Some(body) = buffer.next_body() {
            let body = &buffer.bytes[body];
            match judge(body) {
                Verdict::Forward => {
                    if output.write_all(&frame(body)).await.is_err() {
                        return;
                    }
                }
                Verdict::Answer(response) => {
                    eprintln!("objgraph-doctest lsp: {}", response["error"]["message"]);
                    let _ = answers.send(frame(response.to_string().as_bytes()));
                }
                Verdict::Drop(why) => eprintln!("objgraph-doctest lsp: ignored {why}"),
            }
        }
        if output.flush().await.is_err() {
            return;
        }
        match input.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => buffer.extend(&chunk[..read]),
        }
    }
}

/// Writes tower-lsp-server's frames (read from `server`) and our own `answers` to `output`,
/// each frame whole, until the server's side ends.
pub async fn merge_output(
    mut server: impl AsyncRead + Unpin,
    mut answers: mpsc::UnboundedReceiver<Vec<u8>>,
    mut output: impl AsyncWrite + Unpin,
) {
    let mut buffer = FrameBuffer::default();
    let mut chunk = vec![0u8; 1 << 16];
    let mut answers_open = true;
    loop {
        tokio::select! {
            read = server.read(&mut chunk) => match read {
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    buffer.extend(&chunk[..read]);
                    while let Some(body) = buffer.next_body() {
                        if output.write_all(&frame(&buffer.bytes[body])).await.is_err() {
                            return;
                        }
                    }
                }
            },
            answer = answers.recv(), if answers_open => match answer {
                Some(answer) => {
                    if output.write_all(&answer).await.is_err() {
                        return;
                    }
                }
                None => answers_open = false,
            },
        }
        if output.flush().await.is_err() {
            return;
        }
    }
    let _ = output.flush().await;
}

/// The first occurrence of `needle` in `haystack` (memchr on the first byte, then compare:
/// linear in practice, which is what the guard above needs).
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(at) = haystack[from..].iter().position(|&byte| byte == first) {
        let start = from + at;
        let end = start + needle.len();
        if end > haystack.len() {
            return None;
        }
        if &haystack[start + 1..end] == rest {
            return Some(start);
        }
        from = start + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn guard(input: &[u8]) -> (String, Vec<Value>) {
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let mut output = Vec::new();
        forward_valid_frames(input, &mut output, sender).await;
        let mut answers = Vec::new();
        while let Ok(answer) = receiver.try_recv() {
            let text = String::from_utf8(answer).unwrap();
            let body = text.split("\r\n\r\n").nth(1).unwrap();
            answers.push(serde_json::from_str(body).unwrap());
        }
        (String::from_utf8(output).unwrap(), answers)
    }

    fn framed(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[tokio::test]
    async fn valid_messages_pass_and_garbage_between_them_is_skipped() {
        let ok = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let input = format!(
            "junk {}Content-Length: x\r\n\r\n{}",
            framed("{not json}"),
            framed(ok)
        );
        let (output, answers) = guard(input.as_bytes()).await;
        assert_eq!(output, framed(ok));
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0]["error"]["code"], -32700);
        assert_eq!(answers[0]["id"], Value::Null);
    }

    #[tokio::test]
    async fn json_that_is_not_json_rpc_is_answered_with_invalid_request() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let cases = [
            ("{}", Value::Null),
            ("null", Value::Null),
            ("[]", Value::Null),
            ("42", Value::Null),
            (
                r#"[{"jsonrpc":"2.0","id":1,"method":"shutdown"}]"#,
                Value::Null,
            ),
            (
                r#"{"jsonrpc":"2.0","id":1.5,"method":"shutdown"}"#,
                Value::Null,
            ),
            (
                r#"{"jsonrpc":"2.0","id":{"a":1},"method":"shutdown"}"#,
                Value::Null,
            ),
            (r#"{"jsonrpc":"1.0","id":7,"method":"shutdown"}"#, json!(7)),
            (r#"{"jsonrpc":"2.0","id":"x","method":3}"#, json!("x")),
            (deep.as_str(), Value::Null),
        ];
        for (body, id) in cases {
            let (output, answers) = guard(framed(body).as_bytes()).await;
            assert_eq!(output, "", "{body:.40}");
            assert_eq!(answers.len(), 1, "{body:.40}");
            assert_eq!(answers[0]["error"]["code"], -32600, "{body:.40}");
            assert_eq!(answers[0]["id"], id, "{body:.40}");
        }
    }

    #[tokio::test]
    async fn malformed_notifications_and_responses_are_dropped() {
        for body in [
            r#"{"jsonrpc":"1.0","method":"initialized"}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"result":null}"#,
        ] {
            let (output, answers) = guard(framed(body).as_bytes()).await;
            assert_eq!((output.as_str(), answers.len()), ("", 0), "{body}");
        }
    }

    #[test]
    fn bytes_without_a_header_are_discarded_in_bounded_memory() {
        let mut buffer = FrameBuffer::default();
        let garbage = vec![b'C'; 1 << 20];
        for _ in 0..64 {
            buffer.extend(&garbage);
            assert_eq!(buffer.next_body(), None);
            assert!(buffer.bytes.len() - buffer.consumed < HEADER.len());
        }
        // A header split across reads is still found.
        buffer.extend(b"Content-Len");
        assert_eq!(buffer.next_body(), None);
        buffer.extend(b"gth: 2\r\n\r\n{}");
        let body = buffer.next_body().expect("a frame");
        assert_eq!(&buffer.bytes[body], b"{}");
    }

    #[test]
    fn a_header_without_an_end_is_given_up() {
        let mut buffer = FrameBuffer::default();
        buffer.extend(b"Content-Length: 2");
        buffer.extend(&vec![b' '; 2 * MAX_HEADER]);
        assert_eq!(buffer.next_body(), None);
        assert!(buffer.bytes.len() - buffer.consumed < MAX_HEADER);
    }

    #[tokio::test]
    async fn our_answers_and_the_servers_frames_never_interleave() {
        let (sender, receiver) = mpsc::unbounded_channel();
        let server_side = format!("{}{}", framed("{\"a\":1}"), framed("{\"b\":2}"));
        sender.send(frame(b"{\"ours\":1}")).unwrap();
        drop(sender);
        let mut output = Vec::new();
        merge_output(server_side.as_bytes(), receiver, &mut output).await;
        let text = String::from_utf8(output).unwrap();
        for body in ["{\"a\":1}", "{\"b\":2}"] {
            assert!(text.contains(&framed(body)), "{text}");
        }
    }
}
