//! Wire versions of A2A and how a request names one.

use super::A2aError;

/// A wire version of A2A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Version {
    /// 1.0.x: PascalCase methods, ProtoJSON.
    V1,
    /// 0.3.0 (and the 0.2 line): `message/send`, `kind` discriminators.
    V03,
    /// 0.1.0: `tasks/send`, client-chosen task ids.
    V01,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "1.0",
            Version::V03 => "0.3",
            Version::V01 => "0.1",
        }
    }

    /// Parses an `A2A-Version` value. Only `Major.Minor` counts; a patch is ignored.
    pub fn from_header(value: &str) -> Result<Version, A2aError> {
        let v = value.trim();
        let mut it = v.split('.');
        let major_minor = (it.next(), it.next());
        match major_minor {
            (Some("1"), Some("0")) | (Some("1"), None) => Ok(Version::V1),
            (Some("0"), Some("3")) | (Some("0"), Some("2")) => Ok(Version::V03),
            _ => Err(A2aError::VersionNotSupported(format!(
                "A2A-Version `{v}` is not supported; this server speaks 1.0 and 0.3 \
                 (send no A2A-Version header for 0.3 or the legacy 0.1 methods)"
            ))),
        }
    }
}
