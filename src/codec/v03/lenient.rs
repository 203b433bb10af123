//! Reading 0.3 messages and parts whose `kind` is missing.
//!
//! Some 0.3 clients leave `kind` out (pydantic's fasta2a sends
//! `{"role":"user","parts":[{"text":"hi"}],"messageId":"..."}`). A message's `kind` can
//! only be `"message"`; a part's is inferred from the one content member present. A
//! `kind` that is present must still be the right one (the untagged `Result03` tells a
//! message from the other results by it). Both are read in one pass into flat structs,
//! which costs no more than serde's tagged forms (an internally tagged enum buffers the
//! whole part before reading it); only an error builds more.

use std::sync::Arc;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{FileContent, Message03, Part03, Role03};
use crate::protocol::Metadata;

/// A message's `kind`: only `"message"` is accepted.
#[derive(Deserialize)]
enum MessageKind {
    #[serde(rename = "message")]
    Message,
}

/// [`Message03`] as received.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageIn {
    #[serde(default)]
    #[allow(dead_code)] // Checked by deserializing it.
    kind: Option<MessageKind>,
    message_id: String,
    #[serde(default)]
    context_id: Option<Arc<str>>,
    #[serde(default)]
    task_id: Option<Arc<str>>,
    role: Role03,
    #[serde(deserialize_with = "parts")]
    parts: Vec<Part03>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    extensions: Option<Vec<String>>,
    #[serde(default)]
    reference_task_ids: Option<Vec<String>>,
}

impl<'de> Deserialize<'de> for Message03 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = MessageIn::deserialize(d)?;
        Ok(Message03 {
            message_id: m.message_id,
            context_id: m.context_id,
            task_id: m.task_id,
            role: m.role,
            parts: m.parts,
            metadata: m.metadata,
            extensions: m.extensions,
            reference_task_ids: m.reference_task_ids,
        })
    }
}

/// The parts of a message, an error naming the part it is in (`parts[1]: ...`).
fn parts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Part03>, D::Error> {
    struct Parts;
    impl<'de> Visitor<'de> for Parts {
        type Value = Vec<Part03>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of parts")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(64));
            loop {
                match seq.next_element::<Part03>() {
                    Ok(Some(p)) => out.push(p),
                    Ok(None) => return Ok(out),
                    Err(e) => {
                        let e = e.to_string();
                        // The inner error's position: the outer error gets its own.
                        let e = e.split(" at line ").next().unwrap_or_default();
                        return Err(de::Error::custom(format_args!("parts[{}]: {e}", out.len())));
                    }
                }
            }
        }
    }
    d.deserialize_seq(Parts)
}

/// The member a part's content is in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum PartKind {
    Text,
    File,
    Data,
}

/// [`Part03`] as received: `kind` optional, every content member optional.
#[derive(Deserialize)]
struct PartIn {
    #[serde(default)]
    kind: Option<PartKind>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    file: Option<FileContent>,
    /// `Some(Value::Null)` for `"data": null`, which is there (and refused later).
    #[serde(default, deserialize_with = "present")]
    data: Option<Value>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl PartIn {
    /// The part's kind: as given, else the one content member present.
    fn kind<E: de::Error>(&self) -> Result<PartKind, E> {
        if let Some(k) = self.kind {
            return Ok(k);
        }
        match (
            self.text.is_some(),
            self.file.is_some(),
            self.data.is_some(),
        ) {
            (true, false, false) => Ok(PartKind::Text),
            (false, true, false) => Ok(PartKind::File),
            (false, false, true) => Ok(PartKind::Data),
            (false, false, false) => Err(E::custom(
                "a part has no `kind` and none of `text`, `file` or `data`",
            )),
            _ => Err(E::custom(
                "a part without `kind` has more than one of `text`, `file` and `data`",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Part03 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = PartIn::deserialize(d)?;
        let metadata = p.metadata.clone();
        Ok(match p.kind()? {
            PartKind::Text => Part03::Text {
                text: p.text.ok_or_else(|| de::Error::missing_field("text"))?,
                metadata,
            },
            PartKind::File => Part03::File {
                file: p.file.ok_or_else(|| de::Error::missing_field("file"))?,
                metadata,
            },
            PartKind::Data => Part03::Data {
                data: p.data.ok_or_else(|| de::Error::missing_field("data"))?,
                metadata,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn part(v: Value) -> Result<Part03, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn a_part_without_kind_takes_the_kind_of_its_member() {
        assert!(
            matches!(part(json!({"text": "hi"})), Ok(Part03::Text { text, .. }) if text == "hi")
        );
        assert!(matches!(
            part(json!({"file": {"uri": "https://x/y"}})),
            Ok(Part03::File { .. })
        ));
        assert!(matches!(
            part(json!({"data": {"a": 1}})),
            Ok(Part03::Data { .. })
        ));
    }

    #[test]
    fn a_part_without_kind_or_content_is_refused_saying_so() {
        let e = part(json!({"metadata": {}})).unwrap_err();
        assert!(e.contains("none of `text`, `file` or `data`"), "{e}");
        let e = part(json!({"text": "a", "data": {}})).unwrap_err();
        assert!(e.contains("more than one"), "{e}");
    }

    #[test]
    fn a_given_kind_still_decides() {
        let e = part(json!({"kind": "data", "text": "a"})).unwrap_err();
        assert!(e.contains("missing field `data`"), "{e}");
        let e = part(json!({"kind": "video", "text": "a"})).unwrap_err();
        assert!(e.contains("unknown variant `video`"), "{e}");
    }

    #[test]
    fn a_message_without_kind_is_read_and_a_wrong_kind_is_not() {
        let m: Message03 = serde_json::from_value(
            json!({"role": "user", "parts": [{"text": "hi"}], "messageId": "m1"}),
        )
        .unwrap();
        assert_eq!(m.message_id, "m1");
        let wrong = json!({"kind": "task", "role": "user", "parts": [], "messageId": "m"});
        assert!(serde_json::from_value::<Message03>(wrong).is_err());
    }

    #[test]
    fn a_bad_part_is_named_by_its_index() {
        let e = serde_json::from_str::<Message03>(
            r#"{"role":"user","messageId":"m","parts":[{"text":"a"},{"metadata":{}}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("parts[1]: a part has no `kind`"), "{e}");
    }

    #[test]
    fn what_we_write_reads_back_the_same() {
        let p = Part03::Data {
            data: json!({"k": [1, 2]}),
            metadata: None,
        };
        let back: Part03 = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(
            serde_json::to_value(back).unwrap(),
            serde_json::to_value(p).unwrap()
        );
    }
}
