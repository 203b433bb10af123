//! A key pair, its JWKS and one token for `benches/auth.sh`: generates an RSA-2048 key,
//! writes `DIR/jwks.json` and prints an RS256 token (`iss` ISSUER, `aud` `a2a-bench`,
//! valid for an hour).
//!
//!   cargo run --release --example bench_token -- DIR ISSUER

use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

fn main() -> anyhow::Result<()> {
    use aws_lc_rs::encoding::AsDer;
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(issuer)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: bench_token DIR ISSUER");
    };
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> =
        pair.as_der().map_err(|e| anyhow::anyhow!("{e}"))?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n");
    let key = EncodingKey::from_rsa_pem(pem.as_bytes())?;
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256)?;
    jwk.common.key_id = Some("bench".into());
    let jwks = serde_json::json!({ "keys": [jwk] });
    std::fs::write(format!("{dir}/jwks.json"), jwks.to_string())?;
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "iss": issuer, "aud": "a2a-bench", "sub": "bench", "iat": now, "exp": now + 3600,
        "scope": "a2a.invoke",
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("bench".into());
    println!("{}", jsonwebtoken::encode(&header, &claims, &key)?);
    Ok(())
}
