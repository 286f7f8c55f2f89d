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

#[cfg(test)]
mod tests {
    use super::*;

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
