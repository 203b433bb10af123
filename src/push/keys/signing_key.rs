//! One signing key: loaded from a PEM or generated, checked once at load, with its public
//! JWK and a signer that does not re-parse the key for every token.

use base64::Engine;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::Value;

use super::{KeyError, SigningAlgorithm};

/// A private signing key with its `kid`, algorithm and public JWK.
pub struct SigningKey {
    kid: String,
    algorithm: SigningAlgorithm,
    pair: KeyPair,
    jwk: Value,
}

/// The private key, parsed and checked once. `jsonwebtoken::encode` parses and checks the
/// key anew for every token, which was a quarter of a push delivery's CPU with ES256.
enum KeyPair {
    Ec(aws_lc_rs::signature::EcdsaKeyPair),
    Rsa(aws_lc_rs::signature::RsaKeyPair),
}

impl KeyPair {
    /// `der` as jsonwebtoken's `EncodingKey` holds it (PKCS#8 for EC, PKCS#1 or PKCS#8 for
    /// RSA), parsed as its aws-lc-rs signers do.
    fn new(algorithm: SigningAlgorithm, der: &[u8]) -> Result<Self, String> {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RsaKeyPair};
        match algorithm {
            SigningAlgorithm::ES256 => {
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map(KeyPair::Ec)
                    .map_err(|e| e.to_string())
            }
            SigningAlgorithm::RS256 => RsaKeyPair::from_der(der)
                .map(KeyPair::Rsa)
                .map_err(|e| e.to_string()),
        }
    }

    /// The JWS signature of `message` (ES256: fixed-size r||s; RS256: PKCS#1 v1.5 SHA-256).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, aws_lc_rs::error::Unspecified> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match self {
            KeyPair::Ec(pair) => Ok(pair.sign(&rng, message)?.as_ref().to_vec()),
            KeyPair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                    &rng,
                    message,
                    &mut signature,
                )?;
                Ok(signature)
            }
        }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads a private key PEM (PKCS#8 EC P-256 or RSA, or PKCS#1 RSA). Without `kid`,
    /// the kid is the key's RFC 7638 SHA-256 thumbprint (base64url).
    pub fn from_pem(pem: &[u8], kid: Option<&str>) -> Result<Self, KeyError> {
        let text = String::from_utf8_lossy(pem);
        if text.contains("-----BEGIN EC PRIVATE KEY-----") {
            return Err(KeyError::Invalid(
                "EC key is in SEC1 form (BEGIN EC PRIVATE KEY); convert it to PKCS#8 with \
                 `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8.pem`"
                    .into(),
            ));
        }
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(KeyError::Invalid(
                "encrypted private keys are not supported; store it unencrypted with mode 0600"
                    .into(),
            ));
        }
        if !text.contains("PRIVATE KEY-----") {
            return Err(KeyError::Invalid(
                "not a private key PEM (expected BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)"
                    .into(),
            ));
        }
        let (encoding, algorithm) = if let Ok(key) = EncodingKey::from_ec_pem(pem) {
            (key, SigningAlgorithm::ES256)
        } else if let Ok(key) = EncodingKey::from_rsa_pem(pem) {
            (key, SigningAlgorithm::RS256)
        } else {
            return Err(KeyError::Invalid(
                "unsupported private key: expected an EC P-256 (ES256) or RSA (RS256) key".into(),
            ));
        };
        let jwk = Jwk::from_encoding_key(&encoding, algorithm.jwt()).map_err(|e| {
            let need = match algorithm {
                SigningAlgorithm::ES256 => "EC keys must be on P-256",
                SigningAlgorithm::RS256 => "RSA keys need at least 2048 bits",
            };
            KeyError::Invalid(format!(
                "unsupported {} key ({need}): {e}",
                algorithm.as_str()
            ))
        })?;
        // Catch what only shows when signing (an RSA key under 2048 bits, say) now.
        let cannot_sign = |e: String| {
            KeyError::Invalid(format!(
                "the {} key cannot sign (RSA keys need at least 2048 bits): {e}",
                algorithm.as_str()
            ))
        };
        let pair = KeyPair::new(algorithm, encoding.as_bytes()).map_err(cannot_sign)?;
        pair.sign(b"probe")
            .map_err(|e| cannot_sign(e.to_string()))?;
        let (kid, jwk) = finish_jwk(jwk, kid)?;
        Ok(SigningKey {
            kid,
            algorithm,
            pair,
            jwk,
        })
    }

    /// Generates a new key (ES256: P-256; RS256: 2048 bits).
    pub fn generate(algorithm: SigningAlgorithm) -> Result<Self, KeyError> {
        SigningKey::from_pem(generate_pem(algorithm)?.as_bytes(), None)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// The public JWK: `kty`, `crv`/`x`/`y` or `n`/`e`, `kid`, `alg`, `use: "sig"`.
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// The JWS signature of `message` with this key.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, aws_lc_rs::error::Unspecified> {
        self.pair.sign(message)
    }
}

/// Sets `kid` (given, or the thumbprint) and `use` on a public JWK and serializes it.
fn finish_jwk(mut jwk: Jwk, kid: Option<&str>) -> Result<(String, Value), KeyError> {
    let kid = match kid {
        Some(kid) if !kid.is_empty() => kid.to_owned(),
        _ => jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|e| KeyError::Invalid(format!("cannot compute the key thumbprint: {e}")))?,
    };
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    let value = serde_json::to_value(&jwk)
        .map_err(|e| KeyError::Invalid(format!("cannot serialize the JWK: {e}")))?;
    Ok((kid, value))
}

/// The public JWK of a private or public key PEM (for keys kept published after rotation).
pub(super) fn public_jwk_from_pem(
    pem: &[u8],
    kid: Option<&str>,
) -> Result<(String, Value), KeyError> {
    let text = String::from_utf8_lossy(pem);
    if text.contains("PRIVATE KEY-----") {
        let key = SigningKey::from_pem(pem, kid)?;
        return Ok((key.kid, key.jwk));
    }
    let jwk = if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        Jwk::from_decoding_key(&key, Some(Algorithm::ES256))
    } else if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        Jwk::from_decoding_key(&key, Some(Algorithm::RS256))
    } else {
        return Err(KeyError::Invalid(
            "unsupported public key PEM: expected EC P-256 or RSA".into(),
        ));
    }
    .map_err(|e| KeyError::Invalid(format!("unsupported public key: {e}")))?;
    finish_jwk(jwk, kid)
}

pub(super) fn generate_pem(algorithm: SigningAlgorithm) -> Result<String, KeyError> {
    use aws_lc_rs::encoding::AsDer;
    let der: Vec<u8> = match algorithm {
        SigningAlgorithm::ES256 => {
            let rng = aws_lc_rs::rand::SystemRandom::new();
            aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
                &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &rng,
            )
            .map_err(|_| KeyError::Generate)?
            .as_ref()
            .to_vec()
        }
        SigningAlgorithm::RS256 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(|_| KeyError::Generate)?;
            let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> =
                pair.as_der().map_err(|_| KeyError::Generate)?;
            der.as_ref().to_vec()
        }
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    Ok(pem)
}
