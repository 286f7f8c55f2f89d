//! Which OAuth scope each Data API route needs. Lever documents one
//! `<resource>:<read|write>:admin` scope per resource; a write scope also
//! covers reads of the same resource (third-party statement, unconfirmed).

/// The scope a route needs, or `None` when Lever documents none we could map
/// (e.g. `POST /postings/:id/apply`).
pub fn required(method: &str, route: &str) -> Option<&'static str> {
    let write = method != "GET";
    let rest = route.strip_prefix("/v1/")?;
    let segs: Vec<&str> = rest.split('/').collect();
    let pick = |r: &'static str, w: &'static str| Some(if write { w } else { r });
    match segs.as_slice() {
        ["postings", _, "apply"] if write => None,
        ["postings", ..] => pick("postings:read:admin", "postings:write:admin"),
        ["opportunities", _, "notes", ..] => pick("notes:read:admin", "notes:write:admin"),
        ["opportunities", _, "files", ..] | ["opportunities", _, "file_actions"] => pick("files:read:admin", "files:write:admin"),
        ["opportunities", _, "resumes", ..] => Some("resumes:read:admin"),
        ["opportunities", _, "offers", ..] => Some("offers:read:admin"),
        ["opportunities", _, "referrals", ..] => Some("referrals:read:admin"),
        ["opportunities", _, "applications", ..] | ["applications", ..] => Some("applications:read:admin"),
        ["opportunities", _, "interviews", ..] => pick("interviews:read:admin", "interviews:write:admin"),
        ["opportunities", _, "panels", ..] => pick("panels:read:admin", "panels:write:admin"),
        ["opportunities", _, "feedback", ..] => pick("feedback:read:admin", "feedback:write:admin"),
        // The deprecated candidates family reads what its opportunity twin reads.
        ["candidates", _, "applications"] => Some("applications:read:admin"),
        ["candidates", _, "offers"] => Some("offers:read:admin"),
        ["candidates", _, "referrals"] => Some("referrals:read:admin"),
        ["candidates", _, "resumes"] => Some("resumes:read:admin"),
        ["candidates", ..] => Some("opportunities:read:admin"),
        ["requisitions", ..] => pick("requisitions:read:admin", "requisitions:write:admin"),
        ["requisition_fields", ..] => pick("requisition_fields:read:admin", "requisition_fields:write:admin"),
        ["opportunities", ..] => pick("opportunities:read:admin", "opportunities:write:admin"),
        ["users", ..] => pick("users:read:admin", "users:write:admin"),
        ["stages", ..] => Some("stages:read:admin"),
        ["archive_reasons", ..] => Some("archive_reasons:read:admin"),
        ["sources"] => Some("sources:read:admin"),
        ["tags"] => Some("tags:read:admin"),
        ["contacts", ..] => pick("contact:read:admin", "contact:write:admin"),
        ["uploads"] => Some("uploads:write:admin"),
        ["webhooks", ..] => pick("webhooks:read:admin", "webhooks:write:admin"),
        _ => None,
    }
}

/// Does a granted scope string (space-separated) satisfy `needed`?
pub fn satisfied(granted: &str, needed: &str) -> bool {
    let as_write = needed.replace(":read:", ":write:");
    granted.split_whitespace().any(|g| g == needed || g == as_write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_map_to_scopes() {
        assert_eq!(required("GET", "/v1/opportunities/{id}"), Some("opportunities:read:admin"));
        assert_eq!(required("POST", "/v1/opportunities/{id}/notes"), Some("notes:write:admin"));
        assert_eq!(required("POST", "/v1/postings/{id}/apply"), None);
        assert_eq!(required("GET", "/v1/postings/{id}/apply"), Some("postings:read:admin"));
        assert!(satisfied("offline_access opportunities:write:admin", "opportunities:read:admin"));
        assert!(!satisfied("opportunities:read:admin", "opportunities:write:admin"));
        assert!(!satisfied("stages:read:admin", "tags:read:admin"));
    }
}
