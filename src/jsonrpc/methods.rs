//! The method table: every JSON-RPC method, the wire versions it belongs to and whether it
//! streams. Version selection and the HTTP layer consult only this table.

use crate::protocol::{A2aError, Version};

/// Which versions a method name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V1,
    V03,
    V01,
    /// `tasks/get`, `tasks/cancel`, `tasks/resubscribe`: the same name in 0.3 and 0.1.
    V03AndV01,
}

/// A JSON-RPC method.
#[derive(Debug, Clone, Copy)]
pub struct MethodSpec {
    pub name: &'static str,
    pub family: Family,
    /// Answers with `text/event-stream`.
    pub streaming: bool,
}

const fn m(name: &'static str, family: Family, streaming: bool) -> MethodSpec {
    MethodSpec {
        name,
        family,
        streaming,
    }
}

/// A `static`, not a `const`: one address, so a spec's row in it is its offset (metrics).
pub static METHODS: &[MethodSpec] = &[
    m("SendMessage", Family::V1, false),
    m("SendStreamingMessage", Family::V1, true),
    m("GetTask", Family::V1, false),
    m("ListTasks", Family::V1, false),
    m("CancelTask", Family::V1, false),
    m("SubscribeToTask", Family::V1, true),
    m("CreateTaskPushNotificationConfig", Family::V1, false),
    m("GetTaskPushNotificationConfig", Family::V1, false),
    m("ListTaskPushNotificationConfigs", Family::V1, false),
    m("DeleteTaskPushNotificationConfig", Family::V1, false),
    m("GetExtendedAgentCard", Family::V1, false),
    m("message/send", Family::V03, false),
    m("message/stream", Family::V03, true),
    m("tasks/pushNotificationConfig/set", Family::V03, false),
    m("tasks/pushNotificationConfig/get", Family::V03, false),
    m("tasks/pushNotificationConfig/list", Family::V03, false),
    m("tasks/pushNotificationConfig/delete", Family::V03, false),
    m("agent/getAuthenticatedExtendedCard", Family::V03, false),
    m("tasks/get", Family::V03AndV01, false),
    m("tasks/cancel", Family::V03AndV01, false),
    m("tasks/resubscribe", Family::V03AndV01, true),
    m("tasks/send", Family::V01, false),
    m("tasks/sendSubscribe", Family::V01, true),
    m("tasks/pushNotification/set", Family::V01, false),
    m("tasks/pushNotification/get", Family::V01, false),
];

pub fn lookup(name: &str) -> Option<&'static MethodSpec> {
    METHODS.iter().find(|m| m.name == name)
}

/// Picks the wire version of a call: an `A2A-Version` header (or query parameter) picks
/// it; without one the request is 0.3 (or the legacy 0.1 family, by method name), as the
/// 1.0 spec requires of a server that also speaks 0.3.
pub fn resolve(
    header: Option<&str>,
    method: &str,
) -> Result<(Version, &'static MethodSpec), A2aError> {
    let requested = match header.map(str::trim).filter(|h| !h.is_empty()) {
        Some(h) => Some(Version::from_header(h)?),
        None => None,
    };
    let spec = lookup(method);
    match (requested, spec) {
        (Some(Version::V1), Some(s)) if s.family == Family::V1 => Ok((Version::V1, s)),
        (Some(Version::V1), _) => Err(A2aError::MethodNotFound(format!(
            "`{method}` is not an A2A 1.0 method (the request says A2A-Version: 1.0)"
        ))),
        // Without the header the request is 0.3 (as the official SDK server also rules).
        (_, Some(s)) if s.family == Family::V1 => Err(A2aError::VersionNotSupported(format!(
            "`{method}` is an A2A 1.0 method, but a request without an A2A-Version header \
             is A2A 0.3: send the header `A2A-Version: 1.0`"
        ))),
        (_, Some(s)) if s.family == Family::V01 => Ok((Version::V01, s)),
        (_, Some(s)) => Ok((Version::V03, s)),
        (_, None) => Err(A2aError::MethodNotFound(format!("`{method}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_picks_v1() {
        assert_eq!(resolve(Some("1.0"), "SendMessage").unwrap().0, Version::V1);
        assert_eq!(resolve(Some("1.0.7"), "GetTask").unwrap().0, Version::V1);
    }

    #[test]
    fn v03_name_with_v1_header_is_not_found() {
        assert_eq!(
            resolve(Some("1.0"), "message/send").unwrap_err().code(),
            -32601
        );
    }

    #[test]
    fn unsupported_version_is_32009() {
        assert_eq!(
            resolve(Some("0.5"), "SendMessage").unwrap_err().code(),
            -32009
        );
        assert_eq!(
            resolve(Some("2.0"), "SendMessage").unwrap_err().code(),
            -32009
        );
    }

    #[test]
    fn no_header_decides_by_method_name() {
        assert_eq!(resolve(None, "message/send").unwrap().0, Version::V03);
        assert_eq!(resolve(None, "tasks/send").unwrap().0, Version::V01);
        assert_eq!(resolve(None, "tasks/get").unwrap().0, Version::V03);
        assert_eq!(resolve(None, "nope").unwrap_err().code(), -32601);
        assert_eq!(resolve(None, "SendMessage").unwrap_err().code(), -32009);
    }
}
