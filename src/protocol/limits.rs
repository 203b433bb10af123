//! Request limits beside the body size: JSON nesting depth and string length (one byte
//! scan of a call's params, before they are decoded), parts per message and metadata size
//! (checked on the decoded send). Each refusal is -32602 naming the limit and its value.

use super::request::SendRequest;
use super::{A2aError, Metadata};

/// The limits, as configured (`max_json_depth`, `max_parts`, `max_string_bytes`,
/// `max_metadata_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Deepest nesting of objects and arrays in a call's params (the params object is 1).
    pub max_json_depth: usize,
    /// Most parts in one message.
    pub max_parts: usize,
    /// Longest JSON string (keys included), in bytes as sent (escapes count as written).
    pub max_string_bytes: usize,
    /// Largest metadata object (of the request, its message, or one part), as serialized.
    pub max_metadata_bytes: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_json_depth: 64,
            max_parts: 256,
            max_string_bytes: 1024 * 1024,
            max_metadata_bytes: 64 * 1024,
        }
    }
}

impl RequestLimits {
    /// Scans JSON text (already known to parse) for nesting deeper than `max_json_depth`
    /// and strings longer than `max_string_bytes`. One pass, no allocation: the bytes
    /// inside strings are skipped, so brackets there do not count.
    pub fn check_json(&self, json: &[u8]) -> Result<(), A2aError> {
        let mut depth = 0usize;
        let mut i = 0;
        while i < json.len() {
            match json[i] {
                b'{' | b'[' => {
                    depth += 1;
                    if depth > self.max_json_depth {
                        return Err(A2aError::InvalidParams(format!(
                            "the params nest deeper than this server accepts \
                             (max_json_depth = {})",
                            self.max_json_depth
                        )));
                    }
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                b'"' => {
                    let start = i + 1;
                    i = start;
                    while i < json.len() && json[i] != b'"' {
                        // An escape takes the next byte with it (`\"` does not end the string).
                        i += if json[i] == b'\\' { 2 } else { 1 };
                    }
                    if i.min(json.len()) - start > self.max_string_bytes {
                        return Err(A2aError::InvalidParams(format!(
                            "a string in the params is longer than this server accepts \
                             (max_string_bytes = {})",
                            self.max_string_bytes
                        )));
                    }
                }
                _ => {}
            }
            i += 1;
        }
        Ok(())
    }

    /// Checks a decoded send: the message's part count and every metadata object's size.
    pub fn check_send(&self, req: &SendRequest) -> Result<(), A2aError> {
        let parts = req.message.parts.len();
        if parts > self.max_parts {
            return Err(A2aError::InvalidParams(format!(
                "the message has {parts} parts; this server accepts at most \
                 {} (max_parts)",
                self.max_parts
            )));
        }
        let metadata = [&req.metadata, &req.message.metadata]
            .into_iter()
            .chain(req.message.parts.iter().map(|p| &p.metadata))
            .flatten();
        for m in metadata {
            self.check_metadata(m)?;
        }
        Ok(())
    }

    fn check_metadata(&self, m: &Metadata) -> Result<(), A2aError> {
        let mut size = Counter(0);
        // A counting writer: the size without building the text.
        serde_json::to_writer(&mut size, m).expect("counting never fails");
        if size.0 > self.max_metadata_bytes {
            return Err(A2aError::InvalidParams(format!(
                "a metadata object is {} bytes; this server accepts at most {} \
                 (max_metadata_bytes)",
                size.0, self.max_metadata_bytes
            )));
        }
        Ok(())
    }
}

struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RequestLimits {
        RequestLimits {
            max_json_depth: 3,
            max_parts: 2,
            max_string_bytes: 5,
            max_metadata_bytes: 20,
        }
    }

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        let l = limits();
        assert!(l.check_json(br#"{"a":[{"b":1}]}"#).is_ok());
        let e = l.check_json(br#"{"a":[[{}]]}"#).unwrap_err();
        assert!(e.to_string().contains("max_json_depth = 3"), "{e}");
        assert!(l.check_json(br#"{"a":"[[[[["}"#).is_ok());
        assert!(l.check_json(br#"{"a":"\"[[["}"#).is_ok());
    }

    #[test]
    fn strings_are_measured_as_sent() {
        let l = limits();
        assert!(l.check_json(br#"{"abcde":"12345"}"#).is_ok());
        let e = l.check_json(br#"{"a":"123456"}"#).unwrap_err();
        assert!(e.to_string().contains("max_string_bytes = 5"), "{e}");
        assert!(l.check_json(br#"{"abcdef":1}"#).is_err());
        // An unterminated string (never passed here: the text parsed) does not panic.
        assert!(l.check_json(br#""abc\"#).is_ok());
    }
}
