//! 0.1 client-chosen task ids. A 0.1 client names its tasks, so two owners may pick the
//! same name: the name is an alias within the caller's scope, and the task's id (what
//! the store, the bus, the outbox and push headers key on) is derived from the scope and
//! the name. Derived, not looked up: resolving an alias needs no table, and the 0.1 codec
//! shows the client its own name by cutting the prefix off.
//!
//! Tasks created before aliases (their id is the client's name itself) stay readable:
//! readers try the name as an id in the caller's scope first.

use sha2::{Digest, Sha256};

/// Marks a derived id: `a2a01.<32 hex digits of the scope's hash>.<client's name>`.
const PREFIX: &str = "a2a01.";
const HASH_HEX: usize = 32;

/// The task id behind the 0.1 name `client_id` in scope (`owner`, `tenant`): the same
/// for the same scope and name, different across scopes (128 bits of SHA-256 over both,
/// each length-prefixed so no two scopes spell the same input).
///
/// With `plain_anonymous` (no authenticator configured: the anonymous scope is the only
/// scope there is) the anonymous scope keeps the name itself as the id, as before aliases,
/// so 1.0 and 0.3 reads see the 0.1 client's id; it may not use names that look derived
/// (see [`is_reserved`]). With authentication configured, anonymous callers
/// (`allow_anonymous`) are one scope among others and their names are aliases too: a
/// plain name may be another scope's task id (a 1.0 id, or a 0.1 task stored before
/// aliases), and creating it would collide with that task, which tells that it exists.
pub fn internal_id(owner: &str, tenant: &str, client_id: &str, plain_anonymous: bool) -> String {
    if plain_anonymous && owner.is_empty() && tenant.is_empty() {
        return client_id.to_string();
    }
    let mut h = Sha256::new();
    for part in [owner, tenant] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let mut id = String::with_capacity(PREFIX.len() + HASH_HEX + 1 + client_id.len());
    id.push_str(PREFIX);
    id.push_str(&hex::encode(&digest[..HASH_HEX / 2]));
    id.push('.');
    id.push_str(client_id);
    id
}

/// Whether a 0.1 name is refused: one spelled like a derived id would let the anonymous
/// scope probe for another scope's task by the id it would collide with.
pub fn is_reserved(client_id: &str) -> bool {
    client_id.starts_with(PREFIX)
}

/// The name a 0.1 client knows task `id` by: the alias of a derived id, else the id.
pub fn client_id(id: &str) -> &str {
    id.strip_prefix(PREFIX)
        .filter(|rest| {
            rest.len() > HASH_HEX
                && rest.as_bytes()[HASH_HEX] == b'.'
                && rest.as_bytes()[..HASH_HEX]
                    .iter()
                    .all(u8::is_ascii_hexdigit)
        })
        .map_or(id, |rest| &rest[HASH_HEX + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_differ_by_scope_and_round_trip() {
        let a = internal_id("apikey:a", "", "job-1", true);
        let b = internal_id("apikey:b", "", "job-1", true);
        let t = internal_id("apikey:a", "t2", "job-1", true);
        assert_ne!(a, b);
        assert_ne!(a, t);
        assert_eq!(a, internal_id("apikey:a", "", "job-1", true));
        // Length prefixes: ("ab", "") and ("a", "b") are different scopes.
        assert_ne!(
            internal_id("ab", "", "x", true),
            internal_id("a", "b", "x", true)
        );
        for id in [&a, &b, &t] {
            assert_eq!(client_id(id), "job-1");
        }
        assert_eq!(client_id("plain-id"), "plain-id");
        assert_eq!(client_id("a2a01.short.x"), "a2a01.short.x");
        let dotted = internal_id("o", "", "a.b.c", true);
        assert_eq!(client_id(&dotted), "a.b.c");
    }

    #[test]
    fn the_anonymous_scope_keeps_the_name_and_may_not_spell_a_derived_id() {
        assert_eq!(internal_id("", "", "job-1", true), "job-1");
        // Beside authenticated scopes, the anonymous one derives its ids too.
        let anon = internal_id("", "", "job-1", false);
        assert!(is_reserved(&anon));
        assert_eq!(client_id(&anon), "job-1");
        assert!(is_reserved(&internal_id("apikey:a", "", "job-1", true)));
        assert!(!is_reserved("job-1"));
    }
}
