//! The stdio loop the browser talks to: read a frame, dispatch it, write the reply.
//!
//! The loop never dies on bad input: a broken frame, bad JSON or an unknown command gets
//! an error reply (id `null` when unknown) and the next frame is read. A handler that
//! panics becomes an `internal` error reply. EOF between frames ends the loop normally.
//! Only frames are written to the output; everything else goes to the log file.

use crate::dispatch::Handled;
use crate::framing::{self, Frame, WriteError};
use crate::logging;
use haoyuan_core::protocol::{
    error_reply, event_json, ok_reply, parse_request, ErrorBody, ErrorCode, Request, RequestId,
    MAX_REPLY_BYTES, MAX_REQUEST_BYTES,
};
use serde_json::Value;
use std::io::{self, Read, Write};
use std::panic::{self, AssertUnwindSafe};

/// How a serve loop ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The browser closed our input between frames.
    Eof,
    /// The input ended inside a frame (the browser went away mid-message).
    Truncated,
    /// Writing failed: the browser closed our output.
    OutputClosed,
}

/// Serves frames from `input` until it ends, answering each with `handler`.
pub fn serve<R: Read, W: Write>(
    mut input: R,
    mut output: W,
    handler: &mut dyn FnMut(Request) -> Handled,
) -> io::Result<End> {
    loop {
        let frame = framing::read_frame(&mut input, MAX_REQUEST_BYTES)?;
        let (id, outcome, events) = match frame {
            Frame::Eof => return Ok(End::Eof),
            Frame::Truncated { expected, got } => {
                logging::info(&format!("input ended inside a frame ({got} of {expected} bytes)"));
                return Ok(End::Truncated);
            }
            Frame::TooLarge { len } => (
                Value::Null,
                Err(ErrorBody::new(
                    ErrorCode::FrameTooLarge,
                    format!("a message of {len} bytes is over the {MAX_REQUEST_BYTES}-byte limit; it was skipped"),
                )),
                Vec::new(),
            ),
            Frame::NotUtf8 => {
                (Value::Null, Err(ErrorBody::new(ErrorCode::BadFrame, "the message is not UTF-8 text")), Vec::new())
            }
            Frame::Message(text) => {
                let envelope = parse_request(&text);
                match envelope.request {
                    Err(e) => (envelope.id, Err(e), Vec::new()),
                    Ok(request) => {
                        let (outcome, events) = run_handler(handler, request);
                        (envelope.id, outcome, events)
                    }
                }
            }
        };
        if let Err(e) = &outcome {
            logging::info(&format!("reply error {} to id {id}", e.code.as_str()));
        }
        if !write_reply(&mut output, &id, outcome)? {
            return Ok(End::OutputClosed);
        }
        for event in events {
            if let Err(WriteError::Io(_)) =
                framing::write_frame(&mut output, &event_json(&event), MAX_REPLY_BYTES)
            {
                return Ok(End::OutputClosed);
            }
        }
    }
}

type Outcome = Result<Value, ErrorBody>;

fn run_handler(
    handler: &mut dyn FnMut(Request) -> Handled,
    request: Request,
) -> (Outcome, Vec<haoyuan_core::protocol::Event>) {
    let cmd = request.cmd();
    match panic::catch_unwind(AssertUnwindSafe(|| handler(request))) {
        Ok(handled) => (handled.result, handled.events),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            logging::error(&format!("handler for {cmd} panicked: {what}"));
            let err = ErrorBody::new(
                ErrorCode::Internal,
                format!("the host hit a bug while handling {cmd}; it is still running. Details are in its log file."),
            );
            (Err(err), Vec::new())
        }
    }
}

/// Writes the reply; an oversize success becomes a `reply_too_large` error.
/// Returns false when the output is closed.
fn write_reply<W: Write>(output: &mut W, id: &RequestId, outcome: Outcome) -> io::Result<bool> {
    let text = match &outcome {
        Ok(data) => ok_reply(id, data),
        Err(e) => error_reply(id, e),
    };
    match framing::write_frame(output, &text, MAX_REPLY_BYTES) {
        Ok(()) => Ok(true),
        Err(WriteError::Io(e)) => {
            logging::info(&format!("output closed: {e}"));
            Ok(false)
        }
        Err(WriteError::TooLarge { len }) => {
            let err = ErrorBody::new(
                ErrorCode::ReplyTooLarge,
                format!("the reply would be {len} bytes, over the browser's {MAX_REPLY_BYTES}-byte limit; ask for a smaller page"),
            );
            match framing::write_frame(output, &error_reply(id, &err), MAX_REPLY_BYTES) {
                Ok(()) => Ok(true),
                Err(_) => Ok(false),
            }
        }
    }
}

/// Whether the arguments are what a browser passes when it starts the host:
/// Chrome the caller's origin (`chrome-extension://ID/`, plus `--parent-window=N` on
/// Windows), Firefox the manifest's path and the add-on's id.
pub fn launched_by_browser(args: &[String]) -> bool {
    match args {
        [] => true,
        [origin, ..] if origin.starts_with("chrome-extension://") => true,
        [manifest, _addon_id] if manifest.ends_with(".json") => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    fn replies(out: &[u8]) -> Vec<Value> {
        let mut r = out;
        let mut v = Vec::new();
        while let Frame::Message(t) = framing::read_frame(&mut r, usize::MAX).unwrap() {
            v.push(serde_json::from_str(&t).unwrap());
        }
        v
    }

    fn echo(req: Request) -> Handled {
        Handled::ok(json!({ "cmd": req.cmd() }))
    }

    #[test]
    fn a_panicking_handler_becomes_an_internal_error_and_serving_goes_on() {
        let mut input = framed(br#"{"id": 1, "cmd": "watch_get", "params": {"id": "boom"}}"#);
        input.extend(framed(br#"{"id": 2, "cmd": "hello"}"#));
        let mut out = Vec::new();
        let mut handler = |req: Request| match req {
            Request::WatchGet { .. } => panic!("kaboom"),
            other => echo(other),
        };
        let prev = panic::take_hook();
        panic::set_hook(Box::new(|_| {}));
        let end = serve(input.as_slice(), &mut out, &mut handler).unwrap();
        panic::set_hook(prev);
        assert_eq!(end, End::Eof);
        let r = replies(&out);
        assert_eq!(r[0]["id"], 1);
        assert_eq!(r[0]["ok"], false);
        assert_eq!(r[0]["error"]["code"], "internal");
        assert_eq!(r[1], json!({"id": 2, "ok": true, "data": {"cmd": "hello"}}));
    }

    #[test]
    fn an_oversize_reply_becomes_reply_too_large() {
        let input = framed(br#"{"id": "big", "cmd": "hello"}"#);
        let mut out = Vec::new();
        let mut handler = |_req: Request| Handled::ok(json!("x".repeat(MAX_REPLY_BYTES)));
        serve(input.as_slice(), &mut out, &mut handler).unwrap();
        let r = replies(&out);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["id"], "big");
        assert_eq!(r[0]["error"]["code"], "reply_too_large");
    }

    #[test]
    fn bad_frames_get_null_id_errors_and_a_truncated_tail_ends_quietly() {
        let mut input = framed(&[0xc3, 0x28]);
        input.extend(framed(b"not json"));
        input.extend(framed(b""));
        input.extend_from_slice(&[9, 0]);
        let mut out = Vec::new();
        let end = serve(input.as_slice(), &mut out, &mut echo).unwrap();
        assert_eq!(end, End::Truncated);
        let codes: Vec<_> = replies(&out)
            .iter()
            .map(|r| (r["id"].clone(), r["error"]["code"].clone()))
            .collect();
        assert_eq!(
            codes,
            [
                (json!(null), json!("bad_frame")),
                (json!(null), json!("bad_json")),
                (json!(null), json!("bad_json"))
            ]
        );
    }

    #[test]
    fn events_follow_their_reply() {
        let input = framed(br#"{"id": 5, "cmd": "hello"}"#);
        let mut out = Vec::new();
        let entry = haoyuan_core::protocol::HistoryEntry {
            seq: 1,
            watch_id: "w".into(),
            at: 0,
            kind: "created".into(),
            message: "m".into(),
            data: Value::Null,
        };
        let mut handler = |_req: Request| Handled {
            result: Ok(json!(1)),
            events: vec![haoyuan_core::protocol::Event::WatchEvent(entry.clone())],
        };
        serve(input.as_slice(), &mut out, &mut handler).unwrap();
        let r = replies(&out);
        assert_eq!(r[0]["id"], 5);
        assert_eq!(r[1]["event"], "watch_event");
        assert_eq!(r[1]["data"]["kind"], "created");
    }

    #[test]
    fn recognises_browser_launches() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(launched_by_browser(&s(&[])));
        assert!(launched_by_browser(&s(&[
            "chrome-extension://jejbhckhgfhcpjnpjddldnoenganfcjp/"
        ])));
        assert!(launched_by_browser(&s(&[
            "chrome-extension://abc/",
            "--parent-window=0"
        ])));
        assert!(launched_by_browser(&s(&[
            "/home/u/.mozilla/native-messaging-hosts/org.haoyuan.host.json",
            "haoyuan@haoyuan.org"
        ])));
        assert!(!launched_by_browser(&s(&["install"])));
        assert!(!launched_by_browser(&s(&["frobnicate", "x"])));
    }
}

/// The browser's output shared by the serve loop and the threads that push events
/// (the 12306 runner): every frame is buffered and written whole under one lock, so
/// frames never interleave. Writes are buffered until `flush` (which
/// [`framing::write_frame`] calls at the end of each frame).
#[derive(Clone)]
pub struct FrameOut {
    out: std::sync::Arc<std::sync::Mutex<Box<dyn Write + Send>>>,
    buf: Vec<u8>,
}

impl FrameOut {
    /// Shares `out`.
    pub fn new(out: Box<dyn Write + Send>) -> FrameOut {
        FrameOut {
            out: std::sync::Arc::new(std::sync::Mutex::new(out)),
            buf: Vec::new(),
        }
    }

    /// Writes one event frame now (from any thread); errors are ignored (the browser
    /// went away, the serve loop ends on its own).
    pub fn push(&self, event: &haoyuan_core::protocol::Event) {
        let mut me = self.clone();
        me.buf.clear();
        let _ = framing::write_frame(&mut me, &event_json(event), MAX_REPLY_BYTES);
    }
}

impl Write for FrameOut {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let bytes = std::mem::take(&mut self.buf);
        let mut out = self
            .out
            .lock()
            .map_err(|_| io::Error::other("output lock poisoned"))?;
        out.write_all(&bytes)?;
        out.flush()
    }
}
