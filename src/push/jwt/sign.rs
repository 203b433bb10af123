//! The server side: mints each notification's JWT with the current signing key.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::Header;
use serde::Serialize;

use super::{NotificationClaims, body_sha256};
use crate::push::keys::SigningKeys;

/// Signing failed (the key could not sign; not expected with a loaded key).
#[derive(Debug, thiserror::Error)]
#[error("cannot sign the notification JWT: {0}")]
pub struct SignError(String);

/// Mints the JWT of each notification with the current key of a [`SigningKeys`].
#[derive(Debug, Clone)]
pub struct NotificationSigner {
    keys: Arc<SigningKeys>,
    issuer: String,
}

impl NotificationSigner {
    /// `issuer` becomes the `iss` claim (the server's public URL, say). The token lifetime
    /// is the keys' ([`SigningKeys::token_lifetime`]), so rotation and expiry agree.
    pub fn new(keys: Arc<SigningKeys>, issuer: impl Into<String>) -> Self {
        NotificationSigner {
            keys,
            issuer: issuer.into(),
        }
    }

    pub fn keys(&self) -> &Arc<SigningKeys> {
        &self.keys
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The JWT for POSTing `body` to `webhook_url`, about `task_id`, for the event
    /// `event_id` (the `jti`), issued now.
    pub fn sign(
        &self,
        webhook_url: &str,
        task_id: &str,
        event_id: &str,
        body: &[u8],
    ) -> Result<String, SignError> {
        self.sign_at(webhook_url, task_id, event_id, body, Utc::now())
    }

    /// [`sign`](Self::sign) with the issue time given.
    pub fn sign_at(
        &self,
        webhook_url: &str,
        task_id: &str,
        event_id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<String, SignError> {
        let key = self.keys.current();
        let iat = now.timestamp();
        let lifetime = i64::try_from(self.keys.token_lifetime().as_secs()).unwrap_or(i64::MAX);
        let claims = NotificationClaims {
            iss: self.issuer.clone(),
            aud: webhook_url.to_owned(),
            iat,
            exp: iat.saturating_add(lifetime),
            jti: event_id.to_owned(),
            task_id: task_id.to_owned(),
            body_sha256: body_sha256(body),
        };
        let mut header = Header::new(key.algorithm().jwt());
        header.kid = Some(key.kid().to_owned());
        // The JWS compact form (RFC 7515, section 7.1), signed with the key parsed at load.
        let mut token = b64_json(&header)?;
        token.push('.');
        token.push_str(&b64_json(&claims)?);
        let signature = key
            .sign(token.as_bytes())
            .map_err(|e| SignError(e.to_string()))?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }
}

/// A JWS part: the JSON of `value`, base64url without padding.
fn b64_json(value: &impl Serialize) -> Result<String, SignError> {
    let json = serde_json::to_vec(value).map_err(|e| SignError(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}
