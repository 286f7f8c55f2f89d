//! What a partner's integration does and which Lever permissions it asks for, in the words a
//! customer reads on the hub's connect page. Pure: built from the profile alone.

use super::job::Channel;
use super::profile::{HireTrigger, Profile};
use super::schedule::Cadence;

/// One line per enabled flow, e.g. "Reads your published external jobs every hour".
pub fn flow_lines(p: &Profile) -> Vec<String> {
    let mut out = vec![];
    if let Some(jobs) = &p.flows.jobs {
        out.push(format!("Reads your {} every {}", jobs_words(p), cadence_words(jobs.cadence)));
    }
    if let Some(c) = &p.flows.candidates {
        let kinds: Vec<&str> = c.accepts.iter().map(|k| k.as_str()).collect();
        let who = match kinds.as_slice() {
            ["referral"] => "referred candidates".to_owned(),
            ["screening"] => "screened candidates".to_owned(),
            ["application"] => "applicants".to_owned(),
            _ => "candidates".to_owned(),
        };
        out.push(format!("Adds {who} to Lever with source {}", c.source));
    }
    if let Some(h) = &p.flows.hires {
        let when: Vec<&str> = h
            .triggers
            .iter()
            .map(|t| match t {
                HireTrigger::OnDemand => "when asked",
                HireTrigger::Daily => "every day",
                HireTrigger::Webhook => "as soon as Lever reports a hire",
            })
            .collect();
        out.push(format!("Reads your new hires and their offer details ({})", when.join(", ")));
    }
    if !p.events.subscribe.is_empty() && !p.lever_webhooks().is_empty() {
        out.push("Follows candidates' progress in Lever through Lever webhooks".to_owned());
    }
    out
}

fn jobs_words(p: &Profile) -> String {
    let Some(jobs) = &p.flows.jobs else { return "jobs".into() };
    let states: Vec<&str> = jobs.filter.states.iter().map(|s| s.as_str()).collect();
    let external = jobs.filter.distribution.as_deref() == Some(&[Channel::Public][..]);
    let mut words = String::new();
    if !states.is_empty() {
        words.push_str(&states.join(" and "));
        words.push(' ');
    }
    if external {
        words.push_str("external ");
    }
    words.push_str("jobs");
    words
}

fn cadence_words(c: Cadence) -> String {
    let s = c.seconds();
    let (n, unit) = match s {
        s if s % 86_400 == 0 => (s / 86_400, "day"),
        s if s % 3600 == 0 => (s / 3600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    if n == 1 { unit.to_owned() } else { format!("{n} {unit}s") }
}

/// What one Lever scope lets the integration do.
pub fn scope_line(scope: &str) -> String {
    if scope == super::scopes::OFFLINE_ACCESS {
        return "Stay connected without asking you to sign in again".into();
    }
    if scope == "confidential:access:admin" {
        return "Access confidential data".into();
    }
    let mut parts = scope.split(':');
    let (resource, access) = (parts.next().unwrap_or(scope), parts.next().unwrap_or(""));
    let resource = resource.replace('_', " ");
    match access {
        "read" => format!("Read {resource}"),
        "write" => format!("Create and change {resource}"),
        _ => scope.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::catalog::ProfileCatalog;

    #[test]
    fn hireup_reads_published_external_jobs_hourly_and_adds_referrals() {
        let catalog = ProfileCatalog::bundled().unwrap();
        let lines = flow_lines(catalog.get("hireup").unwrap());
        assert!(lines.contains(&"Reads your published external jobs every hour".to_owned()), "{lines:?}");
        assert!(lines.contains(&"Adds referred candidates to Lever with source HireUp".to_owned()), "{lines:?}");
    }

    #[test]
    fn scopes_read_as_plain_words() {
        assert_eq!(scope_line("postings:read:admin"), "Read postings");
        assert_eq!(scope_line("archive_reasons:read:admin"), "Read archive reasons");
        assert_eq!(scope_line("opportunities:write:admin"), "Create and change opportunities");
        assert!(scope_line("offline_access").contains("Stay connected"));
    }
}
