//! Lever's official OAuth scope list (lever-api.md §1.6) and the request limit.

/// Every scope Lever's documentation lists. Anything else is refused at profile load.
pub const LEVER_SCOPES: &[&str] = &[
    "offline_access",
    "applications:read:admin",
    "archive_reasons:read:admin",
    "audit_events:read:admin",
    "confidential:access:admin",
    "contact:read:admin",
    "contact:write:admin",
    "diversity_surveys:read:admin",
    "eeo_responses:read:admin",
    "eeo_responses_pii:read:admin",
    "feedback:read:admin",
    "feedback:write:admin",
    "feedback_templates:read:admin",
    "feedback_templates:write:admin",
    "files:read:admin",
    "files:write:admin",
    "forms:read:admin",
    "forms:write:admin",
    "form_templates:read:admin",
    "form_templates:write:admin",
    "groups:read:admin",
    "groups:write:admin",
    "interviews:read:admin",
    "interviews:write:admin",
    "notes:read:admin",
    "notes:write:admin",
    "offers:read:admin",
    "opportunities:read:admin",
    "opportunities:write:admin",
    "panels:read:admin",
    "panels:write:admin",
    "permissions:read:admin",
    "permissions:write:admin",
    "postings:read:admin",
    "postings:write:admin",
    "referrals:read:admin",
    "requisitions:read:admin",
    "requisitions:write:admin",
    "requisition_fields:read:admin",
    "requisition_fields:write:admin",
    "resumes:read:admin",
    "roles:read:admin",
    "roles:write:admin",
    "sources:read:admin",
    "stages:read:admin",
    "tags:read:admin",
    "tasks:read:admin",
    "uploads:write:admin",
    "users:read:admin",
    "users:write:admin",
    "webhooks:read:admin",
    "webhooks:write:admin",
];

/// An app may request at most this many scopes.
pub const MAX_SCOPES: usize = 20;

/// Needed for a refresh token; every hub connection outlives a 1-hour access token.
pub const OFFLINE_ACCESS: &str = "offline_access";

pub fn is_lever_scope(s: &str) -> bool {
    LEVER_SCOPES.contains(&s)
}

/// The scopes a profile needs (`needed`, plus `offline_access`) that Lever did not grant.
/// Lever can grant less than was asked (another consent's code, an app changed in Lever), and a
/// connection missing one would fail later, flow by flow; the callback refuses it instead.
pub fn missing_scopes<'a>(needed: &'a [String], granted: &[&str]) -> Vec<&'a str> {
    let mut missing: Vec<&str> = needed.iter().map(String::as_str).filter(|s| !granted.contains(s)).collect();
    if !granted.contains(&OFFLINE_ACCESS) && !missing.contains(&OFFLINE_ACCESS) {
        missing.insert(0, OFFLINE_ACCESS);
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_scopes_names_what_was_not_granted() {
        let needed = vec!["offline_access".to_owned(), "notes:write:admin".into(), "stages:read:admin".into()];
        assert!(missing_scopes(&needed, &["offline_access", "stages:read:admin", "notes:write:admin", "extra:read:admin"]).is_empty());
        assert_eq!(missing_scopes(&needed, &["offline_access", "postings:read:admin"]), ["notes:write:admin", "stages:read:admin"]);
        assert_eq!(missing_scopes(&["tags:read:admin".to_owned()], &["tags:read:admin"]), ["offline_access"]);
    }

    #[test]
    fn list_has_no_duplicates_and_knows_offline_access() {
        let mut v = LEVER_SCOPES.to_vec();
        v.sort();
        v.dedup();
        assert_eq!(v.len(), LEVER_SCOPES.len());
        assert!(is_lever_scope(OFFLINE_ACCESS));
        assert!(is_lever_scope("opportunities:write:admin"));
    }

    #[test]
    fn invented_scopes_are_not_lever_scopes() {
        for s in ["candidates:read:admin", "tags:write:admin", "offers:write:admin", "stages:write:admin", ""] {
            assert!(!is_lever_scope(s), "{s}");
        }
    }
}
