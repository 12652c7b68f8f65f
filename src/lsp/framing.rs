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
//!   most a header's worth of them, and each byte is scanned once (linear time);
//! - a header without a usable length (not a number, over [`MAX_MESSAGE`]), or without the
//!   blank line that ends it: dropped.
//!
//! Header names are matched without regard to case (`content-length:` is the same header),
//! as header names are in HTTP, whose framing LSP borrows. Nothing is dropped silently: each
//! message or run of bytes dropped is a line on stderr.
//!
//! The guard also watches the session end: whether `exit` came after a `shutdown` request
//! ([`Session`]), which decides the process's exit status (0, else 1, as LSP says).
//!
//! Our error responses and tower-lsp-server's frames share stdout: tower-lsp-server writes
//! into a pipe, and one task ([`merge_output`]) copies its frames whole and ours between
//! them, so the two never interleave inside a frame.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc;

/// Largest message accepted (a 10 MB document fits many times over).
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// Longest header block looked at; a longer one is not a header.
const MAX_HEADER: usize = 8 * 1024;

/// The header every frame has; found in any case (see [`find`]).
const HEADER: &[u8] = b"Content-Length:";

/// What the next bytes of a stream hold.
#[derive(Debug, PartialEq)]
enum Frame {
    /// A complete frame: the byte range of its body in the buffer.
    Body(Range<usize>),
    /// Bytes dropped because they are not a frame that can be read: why, for the log.
    Unreadable(String),
}

/// Frames accumulated from a byte stream, in bounded memory.
#[derive(Default)]
struct FrameBuffer {
    bytes: Vec<u8>,
    /// Bytes before this offset are consumed (dropped in one go, not frame by frame).
    consumed: usize,
    /// Where the search for the end of the current header resumes (no byte scanned twice).
    scanned: usize,
    /// The bytes skipped since the last frame while looking for a `Content-Length:` header.
    skipped: Skipped,
}

/// Bytes skipped before a `Content-Length:` header: other header lines of its block (which
/// may come first, `Content-Type:` say) are no problem; anything else was not a frame.
#[derive(Default)]
struct Skipped {
    count: usize,
    /// Something other than complete `name: value` lines was skipped.
    not_headers: bool,
    /// Within a line: a byte has been skipped since its start, and whether a `:` has.
    in_line: bool,
    colon: bool,
}

impl Skipped {
    /// Notes skipped bytes (each byte once: linear time).
    fn add(&mut self, bytes: &[u8]) {
        self.count += bytes.len();
        for &byte in bytes {
            match byte {
                b'\n' => {
                    // A line without `name:`: not a header, or the blank line that ends a
                    // header block, which had no length (no frame, then).
                    self.not_headers |= !self.colon;
                    self.in_line = false;
                    self.colon = false;
                }
                b'\r' => {}
                b':' => (self.in_line, self.colon) = (true, true),
                _ => self.in_line = true,
            }
        }
    }

    /// Why the skipped bytes were dropped, unless they were header lines before a header
    /// found now (at the start of a line); starts counting afresh.
    fn take_problem(&mut self) -> Option<String> {
        let skipped = std::mem::take(self);
        (skipped.not_headers || skipped.in_line)
            .then(|| format!("{} bytes outside any frame", skipped.count))
    }

    /// Why the bytes skipped at the end of the stream were dropped, if any were.
    fn at_end(&mut self) -> Option<String> {
        let skipped = std::mem::take(self);
        (skipped.count > 0).then(|| format!("{} bytes that are not a whole frame", skipped.count))
    }
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

    /// The next complete frame, or the next bytes dropped (garbage before a header, a
    /// header without a usable length), if buffered.
    fn next_frame(&mut self) -> Option<Frame> {
        let pending = &self.bytes[self.consumed..];
        let Some(start) = find(pending, HEADER) else {
            // Keep only what could be the start of a header split across reads.
            let keep = HEADER.len() - 1;
            let consumed = self.bytes.len().saturating_sub(keep).max(self.consumed);
            self.skipped.add(&self.bytes[self.consumed..consumed]);
            self.consumed = consumed;
            self.scanned = self.consumed;
            return None;
        };
        self.skipped
            .add(&self.bytes[self.consumed..self.consumed + start]);
        self.consumed += start;
        self.scanned = self.scanned.max(self.consumed);
        if let Some(problem) = self.skipped.take_problem() {
            return Some(Frame::Unreadable(problem));
        }
        let Some(headers_end) = self.headers_end() else {
            if self.bytes.len() - self.consumed > MAX_HEADER {
                // No blank line after a header this long: not a header after all.
                self.consumed += HEADER.len();
                return Some(Frame::Unreadable(format!(
                    "a Content-Length header without the blank line that ends a header \
                     within {MAX_HEADER} bytes"
                )));
            }
            return None;
        };
        let headers = String::from_utf8_lossy(&self.bytes[self.consumed..headers_end]);
        let length = match content_length(&headers) {
            Ok(length) => length,
            Err(problem) => {
                self.consumed = headers_end;
                self.scanned = headers_end;
                return Some(Frame::Unreadable(problem));
            }
        };
        if self.bytes.len() < headers_end + length {
            return None;
        }
        self.consumed = headers_end + length;
        self.scanned = self.consumed;
        Some(Frame::Body(headers_end..headers_end + length))
    }

    /// Why the bytes left at the end of the stream are not a frame, if any are left.
    fn leftover(&mut self) -> Option<String> {
        let mut skipped = std::mem::take(&mut self.skipped);
        skipped.add(&self.bytes[self.consumed..]);
        self.consumed = self.bytes.len();
        skipped.at_end()
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

/// The body length a header block gives (its `Content-Length`, in any case), or why it
/// gives none that can be used.
fn content_length(headers: &str) -> Result<usize, String> {
    let value = headers.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then_some(value.trim())
    });
    let Some(value) = value else {
        return Err("a header without Content-Length".to_owned());
    };
    match value.parse::<usize>() {
        Ok(length) if length <= MAX_MESSAGE => Ok(length),
        Ok(length) => Err(format!(
            "a frame of {length} bytes, over the limit of {MAX_MESSAGE} (its body is skipped)"
        )),
        Err(_) => Err(format!(
            "a frame whose Content-Length is not a number of bytes: {:?}",
            value.chars().take(40).collect::<String>()
        )),
    }
}

/// How the session ended, as the client's messages said it: LSP asks for exit status 0 when
/// `exit` follows a `shutdown` request, and 1 when it comes without one. The guard sees the
/// messages go by in order (before tower-lsp-server, which handles them concurrently), and
/// `run_stdio` reads the outcome once the server has stopped.
#[derive(Debug, Default)]
pub struct Session {
    shutdown_requested: AtomicBool,
    exit_without_shutdown: AtomicBool,
}

impl Session {
    fn saw(&self, role: Role) {
        match role {
            Role::Shutdown => self.shutdown_requested.store(true, Ordering::SeqCst),
            Role::Exit if !self.shutdown_requested.load(Ordering::SeqCst) => {
                self.exit_without_shutdown.store(true, Ordering::SeqCst);
            }
            Role::Exit | Role::Other => {}
        }
    }

    /// The process's exit status: 1 when the client sent `exit` without `shutdown` first,
    /// else 0 (a client that goes away, closing our input, ends the session normally).
    pub fn exit_status(&self) -> u8 {
        u8::from(self.exit_without_shutdown.load(Ordering::SeqCst))
    }
}

/// What a message forwarded does to the session (see [`Session`]).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Shutdown,
    Exit,
    Other,
}

impl Role {
    fn of(message: &Value) -> Role {
        match message.get("method").and_then(Value::as_str) {
            Some("shutdown") => Role::Shutdown,
            Some("exit") => Role::Exit,
            _ => Role::Other,
        }
    }
}

/// What to do with one message body from the client.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// tower-lsp-server can decode it.
    Forward(Role),
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
        return Verdict::Forward(Role::of(&value));
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
/// ends, noting in `session` how it ends; error responses for the others go to `answers`
/// (see [`merge_output`]), and what is dropped is said on stderr.
pub async fn forward_valid_frames(
    mut input: impl AsyncRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
    answers: mpsc::UnboundedSender<Vec<u8>>,
    session: &Session,
) {
    let mut buffer = FrameBuffer::default();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        while let Some(frame_read) = buffer.next_frame() {
            let body = match frame_read {
                Frame::Body(body) => &buffer.bytes[body],
                Frame::Unreadable(why) => {
                    eprintln!("objgraph-doctest lsp: ignored {why}");
                    continue;
                }
            };
            match judge(body) {
                Verdict::Forward(role) => {
                    // Before tower-lsp-server can act on it (on `exit`, stop).
                    session.saw(role);
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
            Ok(0) | Err(_) => {
                if let Some(why) = buffer.leftover() {
                    eprintln!("objgraph-doctest lsp: ignored {why} at the end of the input");
                }
                return;
            }
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
                    while let Some(frame_read) = buffer.next_frame() {
                        let body = match frame_read {
                            Frame::Body(body) => &buffer.bytes[body],
                            // Not expected from tower-lsp-server; said, not hidden.
                            Frame::Unreadable(why) => {
                                eprintln!("objgraph-doctest lsp: did not send {why}");
                                continue;
                            }
                        };
                        if output.write_all(&frame(body)).await.is_err() {
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

/// The first occurrence of `needle` in `haystack`, ASCII letters in any case (header names
/// are case-insensitive). A scan for the first byte, then a compare: linear in practice,
/// which is what the guard above needs.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(at) = haystack[from..]
        .iter()
        .position(|byte| byte.eq_ignore_ascii_case(&first))
    {
        let start = from + at;
        let end = start + needle.len();
        if end > haystack.len() {
            return None;
        }
        if haystack[start + 1..end].eq_ignore_ascii_case(rest) {
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
        guard_session(input).await.0
    }

    /// What the guard forwards and answers for `input`, and how it saw the session end.
    async fn guard_session(input: &[u8]) -> ((String, Vec<Value>), Session) {
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let mut output = Vec::new();
        let session = Session::default();
        forward_valid_frames(input, &mut output, sender, &session).await;
        let mut answers = Vec::new();
        while let Ok(answer) = receiver.try_recv() {
            let text = String::from_utf8(answer).unwrap();
            let body = text.split("\r\n\r\n").nth(1).unwrap();
            answers.push(serde_json::from_str(body).unwrap());
        }
        ((String::from_utf8(output).unwrap(), answers), session)
    }

    /// The frames buffered now, and what was dropped (`Err`: why).
    fn frames(buffer: &mut FrameBuffer) -> Vec<Result<Vec<u8>, String>> {
        let mut found = Vec::new();
        while let Some(frame) = buffer.next_frame() {
            found.push(match frame {
                Frame::Body(body) => Ok(buffer.bytes[body].to_vec()),
                Frame::Unreadable(why) => Err(why),
            });
        }
        found
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
            assert_eq!(buffer.next_frame(), None);
            assert!(buffer.bytes.len() - buffer.consumed < HEADER.len());
        }
        // A header split across reads is still found, after a word about the garbage.
        buffer.extend(b"Content-Len");
        assert_eq!(buffer.next_frame(), None);
        buffer.extend(b"gth: 2\r\n\r\n{}");
        assert_eq!(
            frames(&mut buffer),
            [
                Err(format!("{} bytes outside any frame", 64 << 20)),
                Ok(b"{}".to_vec())
            ]
        );
    }

    #[test]
    fn a_header_without_an_end_is_given_up_and_said() {
        let mut buffer = FrameBuffer::default();
        buffer.extend(b"Content-Length: 2");
        buffer.extend(&vec![b' '; 2 * MAX_HEADER]);
        let found = frames(&mut buffer);
        assert!(
            matches!(found.as_slice(), [Err(why)] if why.contains("without the blank line")),
            "{found:?}"
        );
        assert!(buffer.bytes.len() - buffer.consumed < MAX_HEADER);
    }

    #[test]
    fn header_names_are_matched_in_any_case() {
        let mut buffer = FrameBuffer::default();
        buffer.extend(b"content-length: 2\r\n\r\n{}CONTENT-LENGTH:3\r\n\r\n[1]");
        buffer.extend(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n");
        buffer.extend(b"cOnTeNt-LeNgTh: 4\r\n\r\nnull");
        assert_eq!(
            frames(&mut buffer),
            [
                Ok(b"{}".to_vec()),
                Ok(b"[1]".to_vec()),
                Ok(b"null".to_vec())
            ]
        );
    }

    #[test]
    fn every_frame_that_cannot_be_read_is_said() {
        let mut buffer = FrameBuffer::default();
        let too_long = MAX_MESSAGE + 1;
        buffer.extend(b"Content-Length: x\r\n\r\n");
        buffer.extend(format!("Content-Length: {too_long}\r\n\r\n").as_bytes());
        buffer.extend(b"junk Content-Length: 2\r\n\r\n{}");
        buffer.extend(b"Content-Type: text\r\n\r\n{}");
        let found = frames(&mut buffer);
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(
            found[0],
            Err("a frame whose Content-Length is not a number of bytes: \"x\"".to_owned())
        );
        assert!(
            matches!(&found[1], Err(why) if why.contains("over the limit")),
            "{found:?}"
        );
        assert_eq!(found[2], Err("5 bytes outside any frame".to_owned()));
        assert_eq!(found[3], Ok(b"{}".to_vec()));
        // A header block without a length is no frame: said when the input ends.
        assert_eq!(
            buffer.leftover(),
            Some("24 bytes that are not a whole frame".to_owned())
        );
    }

    #[tokio::test]
    async fn exit_without_shutdown_is_exit_status_1() {
        let shutdown = framed(r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#);
        let exit = framed(r#"{"jsonrpc":"2.0","method":"exit"}"#);
        let cases = [
            (exit.clone(), 1),
            (format!("{shutdown}{exit}"), 0),
            (shutdown.clone(), 0),
            // The client went away without either.
            (String::new(), 0),
        ];
        for (input, status) in cases {
            let (_, session) = guard_session(input.as_bytes()).await;
            assert_eq!(session.exit_status(), status, "{input}");
        }
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
