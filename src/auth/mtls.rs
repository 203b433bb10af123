//! mTLS: a client certificate that the TLS handshake verified against `tls.client_ca`
//! becomes the principal `mtls:{subject DN}`, the DN written as RFC 4514 says (the last
//! RDN first, `,` between RDNs, `+` inside one, special characters escaped).

use std::fmt::Write;

use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use super::{Principal, Refusal, Scheme};
use crate::store::Scope;
use crate::transport::tls::PeerCertificates;

/// The principal of a verified client chain. The chain was verified during the
/// handshake; a leaf that does not parse here is refused, never demoted to anonymous.
pub fn principal(certs: &PeerCertificates) -> Result<Principal, Refusal> {
    let invalid = |reason: &str| Refusal::Invalid {
        scheme: Scheme::Mtls,
        reason: reason.into(),
    };
    let leaf = certs
        .leaf()
        .ok_or_else(|| invalid("no client certificate"))?;
    let (_, cert) = X509Certificate::from_der(leaf)
        .map_err(|_| invalid("the client certificate does not parse"))?;
    let dn = rfc4514(cert.subject());
    if dn.is_empty() {
        return Err(invalid("the client certificate has an empty subject"));
    }
    Ok(Principal {
        scope: Scope {
            owner: format!("mtls:{dn}"),
            tenant: String::new(),
        },
        scopes: Vec::new(),
        scheme: Scheme::Mtls,
        // A stream opened with the certificate ends when it expires, as with a token.
        expires_at: u64::try_from(cert.validity().not_after.timestamp()).ok(),
    })
}

/// `name` as an RFC 4514 string.
pub fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<_> = name.iter_rdn().collect();
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attr) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            attribute(&mut out, attr);
        }
    }
    out
}

fn attribute(out: &mut String, attr: &AttributeTypeAndValue<'_>) {
    let oid = attr.attr_type();
    match x509_parser::objects::oid2abbrev(oid, x509_parser::objects::oid_registry()) {
        Ok(short) => out.push_str(short),
        Err(_) => out.push_str(&oid.to_id_string()),
    }
    out.push('=');
    match attr.as_str() {
        Ok(value) => escape(out, value),
        // Not a string type: `#` and the hex of its DER encoding (RFC 4514 section 2.4).
        Err(_) => {
            out.push('#');
            for b in attr.attr_value().as_bytes() {
                let _ = write!(out, "{b:02x}");
            }
        }
    }
}

/// RFC 4514 section 2.4: `"+,;<>\` anywhere, `#` or a space first, a space last, NUL.
fn escape(out: &mut String, value: &str) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        let mut s = String::new();
        escape(&mut s, " a,b+c#\"x\" ");
        assert_eq!(s, "\\ a\\,b\\+c#\\\"x\\\"\\ ");
        let mut s = String::new();
        escape(&mut s, "#1");
        assert_eq!(s, "\\#1");
    }
}
