//! ProtoJSON form of [`Part`]: one flat object with exactly one of `text`, `raw`, `url`, `data`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::model::{Metadata, Part, PartContent};

impl Serialize for Part {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        match &self.content {
            PartContent::Text(t) => map.serialize_entry("text", t)?,
            PartContent::Raw(b) => map.serialize_entry("raw", &B64.encode(b))?,
            PartContent::Url(u) => map.serialize_entry("url", u)?,
            PartContent::Data(d) => map.serialize_entry("data", d)?,
        }
        if let Some(f) = &self.filename {
            map.serialize_entry("filename", f)?;
        }
        if let Some(m) = &self.media_type {
            map.serialize_entry("mediaType", m)?;
        }
        if let Some(m) = &self.metadata {
            map.serialize_entry("metadata", m)?;
        }
        map.end()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePart {
    text: Option<String>,
    raw: Option<String>,
    url: Option<String>,
    // `Some(Value::Null)` must count as present, hence the double option.
    #[serde(default, deserialize_with = "present")]
    data: Option<Value>,
    filename: Option<String>,
    #[serde(alias = "media_type")]
    media_type: Option<String>,
    metadata: Option<Metadata>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = WirePart::deserialize(d)?;
        let mut contents = Vec::with_capacity(1);
        if let Some(t) = w.text {
            contents.push(PartContent::Text(t));
        }
        if let Some(r) = w.raw {
            let bytes = B64
                .decode(r.as_bytes())
                .map_err(|e| D::Error::custom(format!("part.raw is not valid base64: {e}")))?;
            contents.push(PartContent::Raw(bytes));
        }
        if let Some(u) = w.url {
            contents.push(PartContent::Url(u));
        }
        if let Some(v) = w.data {
            contents.push(PartContent::Data(v));
        }
        if contents.len() != 1 {
            return Err(D::Error::custom(
                "a part must have exactly one of `text`, `raw`, `url` or `data`",
            ));
        }
        Ok(Part {
            content: contents.pop().expect("one content"),
            filename: w.filename,
            media_type: w.media_type,
            metadata: w.metadata,
        })
    }
}
