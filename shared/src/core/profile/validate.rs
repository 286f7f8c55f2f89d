//! [`Profile::validate`]: the semantic rules of a profile beyond its types, each problem
//! reported with the dotted path of the offending field.

use super::*;

impl Profile {
    /// Semantic rules beyond the types. Empty when the profile is sound.
    pub fn validate(&self) -> Vec<FieldIssue> {
        let mut out = Vec::new();
        if !is_profile_id(&self.id) {
            out.push(FieldIssue::new(
                "id",
                format!("{:?} is not a profile id: use 2-63 lower-case letters, digits and '-', starting with a letter", self.id),
            ));
        }
        if self.display_name.trim().is_empty() {
            out.push(FieldIssue::new("display_name", "must not be empty"));
        }
        self.validate_scopes(&mut out);
        if !(1..=super::Retention::MAX_GRACE_DAYS).contains(&self.retention.grace_days) {
            out.push(FieldIssue::new("retention.grace_days", format!("must be between 1 and {}", super::Retention::MAX_GRACE_DAYS)));
        }
        if self.flows.jobs.is_none() && self.flows.candidates.is_none() && self.flows.hires.is_none() {
            out.push(FieldIssue::new("flows", "enable at least one of flows.jobs, flows.candidates, flows.hires"));
        }
        if let Some(j) = self.jobs() {
            if j.filter.states.is_empty() {
                out.push(FieldIssue::new("flows.jobs.filter.states", "list at least one posting state"));
            }
            if j.filter.distribution.as_ref().is_some_and(|d| d.is_empty()) {
                out.push(FieldIssue::new("flows.jobs.filter.distribution", "an empty list lets no posting through; omit it to accept any channel"));
            }
            if j.filter.confidentiality.is_empty() {
                out.push(FieldIssue::new("flows.jobs.filter.confidentiality", "an empty list lets no posting through"));
            }
        }
        if let Some(c) = self.candidates() {
            self.validate_candidates(c, &mut out);
        }
        if let Some(h) = self.hires() {
            validate_hires(h, &mut out);
        }
        self.validate_events(&mut out);
        self.validate_settings_policy(&mut out);
        out
    }

    fn validate_scopes(&self, out: &mut Vec<FieldIssue>) {
        let envs = &self.oauth.environments;
        if envs.is_empty() {
            out.push(FieldIssue::new("oauth.environments", "name at least one Lever environment (production, sandbox)"));
        }
        if envs.iter().collect::<BTreeSet<_>>().len() != envs.len() {
            out.push(FieldIssue::new("oauth.environments", "an environment is listed twice"));
        }
        let scopes = &self.oauth.scopes;
        let mut seen = BTreeSet::new();
        for (i, s) in scopes.iter().enumerate() {
            let field = format!("oauth.scopes[{i}]");
            if !is_lever_scope(s) {
                out.push(FieldIssue::new(field, format!("unknown scope {s:?}: not in Lever's official scope list")));
            } else if !seen.insert(s.as_str()) {
                out.push(FieldIssue::new(field, format!("scope {s:?} is listed twice")));
            }
        }
        if scopes.len() > MAX_SCOPES {
            out.push(FieldIssue::new("oauth.scopes", format!("{} scopes requested; Lever allows at most {MAX_SCOPES}", scopes.len())));
        }
        let required = self.required_scopes();
        for (scope, why) in &required {
            if !seen.contains(scope) {
                out.push(FieldIssue::new("oauth.scopes", format!("missing scope {scope:?}, needed for {why}")));
            }
        }
        for (i, s) in scopes.iter().enumerate() {
            if is_lever_scope(s) && !required.contains_key(s.as_str()) {
                out.push(FieldIssue::new(
                    format!("oauth.scopes[{i}]"),
                    format!("scope {s:?} is not needed by any enabled flow, event or setting; request only what is used"),
                ));
            }
        }
    }

    fn validate_candidates(&self, c: &CandidatesFlow, out: &mut Vec<FieldIssue>) {
        let p = "flows.candidates";
        if c.accepts.is_empty() {
            out.push(FieldIssue::new(format!("{p}.accepts"), "list at least one submission kind"));
        }
        let mut kinds = BTreeSet::new();
        for (i, k) in c.accepts.iter().enumerate() {
            if !kinds.insert(*k) {
                out.push(FieldIssue::new(format!("{p}.accepts[{i}]"), "listed twice"));
            }
        }
        let src = c.source.trim();
        if src.is_empty() || src.len() > 100 {
            out.push(FieldIssue::new(format!("{p}.source"), "must be 1 to 100 characters"));
        }
        for (i, t) in c.tags.iter().enumerate() {
            if let Err(e) = placeholders::parse(t, TemplateUse::Tag, &c.custom) {
                out.push(FieldIssue::new(format!("{p}.tags[{i}]"), e));
            }
        }
        for (name, t) in c.notes.named() {
            if let Some(t) = t
                && let Err(e) = placeholders::parse(t, TemplateUse::Note, &c.custom)
            {
                out.push(FieldIssue::new(format!("{p}.notes.{name}"), e));
            }
        }
        for (name, field) in &c.custom {
            for (under, reason) in crate::core::custom::check_declaration(name, field) {
                let at = if under.is_empty() { format!("{p}.custom.{name}") } else { format!("{p}.custom.{name}.{under}") };
                out.push(FieldIssue::new(at, reason));
            }
        }
        if c.notes.custom.is_some() && c.custom.is_empty() {
            out.push(FieldIssue::new(format!("{p}.notes.custom"), "needs fields of the partner's own (flows.candidates.custom)"));
        }
        let referral = c.accepts.contains(&SubmissionKind::Referral);
        if !referral && (c.referrer.required || c.referrer.add_as_follower || c.notes.referrer.is_some() || c.notes.referrer_not_in_lever.is_some()) {
            out.push(FieldIssue::new(format!("{p}.referrer"), "referrer handling needs \"referral\" in flows.candidates.accepts"));
        }
        let screening = c.accepts.contains(&SubmissionKind::Screening);
        if !screening && c.notes.screening.is_some() {
            out.push(FieldIssue::new(format!("{p}.notes.screening"), "needs \"screening\" in flows.candidates.accepts"));
        }
        if !screening && !c.result_routes.is_empty() {
            out.push(FieldIssue::new(format!("{p}.result_routes"), "needs \"screening\" in flows.candidates.accepts"));
        }
        for (status, route) in &c.result_routes {
            if let Err(e) = normalize_status(status) {
                out.push(FieldIssue::new(format!("{p}.result_routes.{status}"), e));
            } else if *status != status.to_ascii_uppercase() {
                out.push(FieldIssue::new(format!("{p}.result_routes.{status}"), "write result statuses in upper case"));
            }
            if let Some(posting) = &route.posting
                && let Err(e) = crate::core::job::posting_id_from_ref(posting)
            {
                out.push(FieldIssue::new(format!("{p}.result_routes.{status}.posting"), e.to_string()));
            }
        }
        if c.files.max_bytes == 0 || c.files.max_bytes > LEVER_MAX_FILE_BYTES {
            out.push(FieldIssue::new(format!("{p}.files.max_bytes"), format!("must be between 1 and {LEVER_MAX_FILE_BYTES} (Lever's 30 MB limit)")));
        }
        if c.perform_as == PerformAs::ChosenAtSetup && !self.settings.required.contains(&SettingKey::PerformAs) {
            out.push(FieldIssue::new(format!("{p}.perform_as"), "\"chosen_at_setup\" needs \"perform_as\" in settings.required"));
        }
        if c.pending.hold_referrals && !referral {
            out.push(FieldIssue::new(format!("{p}.pending.hold_referrals"), "holds referrals: needs \"referral\" in flows.candidates.accepts"));
        }
        if !(1..=MAX_PENDING_DAYS).contains(&c.pending.expire_after_days) {
            out.push(FieldIssue::new(format!("{p}.pending.expire_after_days"), format!("must be between 1 and {MAX_PENDING_DAYS} days")));
        }
        if !c.create_if_missing && c.on_existing == OnExisting::NewOpportunity {
            out.push(FieldIssue::new(format!("{p}.create_if_missing"), "false never writes anything when on_existing is \"new_opportunity\""));
        }
    }

    fn validate_events(&self, out: &mut Vec<FieldIssue>) {
        let mut seen = BTreeSet::new();
        for (i, e) in self.events.subscribe.iter().enumerate() {
            let field = format!("events.subscribe[{i}]");
            if !seen.insert(*e) {
                out.push(FieldIssue::new(field.clone(), format!("{} is listed twice", e.as_str())));
            }
            let (needs, ok) = match e {
                EventKind::JobCreated | EventKind::JobUpdated | EventKind::JobClosed => ("flows.jobs", self.flows.jobs.is_some()),
                EventKind::CandidateCreated
                | EventKind::CandidateUpdated
                | EventKind::CandidateStageChanged
                | EventKind::CandidateArchived
                | EventKind::CandidateHired
                | EventKind::SubmissionFailed => ("flows.candidates", self.flows.candidates.is_some()),
                EventKind::HireCreated => ("flows.hires", self.flows.hires.is_some()),
                // Erasures and Lever's deletions reach submissions and hires alike.
                EventKind::CandidateErased | EventKind::CandidateDeleted => {
                    ("flows.candidates or flows.hires", self.flows.candidates.is_some() || self.flows.hires.is_some())
                }
                EventKind::ConnectionStatusChanged => ("", true),
            };
            if !ok {
                out.push(FieldIssue::new(field, format!("{} needs {needs} to be enabled", e.as_str())));
            }
        }
        if self.flows.hires.is_some() && !self.subscribes(EventKind::HireCreated) {
            out.push(FieldIssue::new("events.subscribe", "flows.hires hands hires over as hire.created events: subscribe to it"));
        }
        if let Some(u) = &self.events.url
            && let Err(e) = check_event_url(u)
        {
            out.push(FieldIssue::new("events.url", e));
        }
    }

    fn validate_settings_policy(&self, out: &mut Vec<FieldIssue>) {
        let cand = self.flows.candidates.is_some();
        let screening = self.candidates().is_some_and(|c| c.accepts.contains(&SubmissionKind::Screening));
        let hires = self.flows.hires.is_some();
        for (i, k) in self.settings.customer_may_change.iter().enumerate() {
            let ok = match k {
                SettingKey::PerformAs | SettingKey::DefaultStage | SettingKey::Source | SettingKey::Tags | SettingKey::PostingOverrides => cand,
                SettingKey::StageLabels => cand && (self.subscribes(EventKind::CandidateStageChanged)),
                SettingKey::ResultRoutes => screening,
                SettingKey::HireTriggers | SettingKey::Timezone => hires,
            };
            if !ok {
                out.push(FieldIssue::new(
                    format!("settings.customer_may_change[{i}]"),
                    format!("{:?} has no effect with the enabled flows and events", k.as_str()),
                ));
            }
        }
        for (i, k) in self.settings.required.iter().enumerate() {
            if !self.may_change(*k) {
                out.push(FieldIssue::new(
                    format!("settings.required[{i}]"),
                    format!("{:?} must also be in settings.customer_may_change", k.as_str()),
                ));
            }
        }
    }
}

fn validate_hires(h: &HiresFlow, out: &mut Vec<FieldIssue>) {
    let p = "flows.hires";
    if h.triggers.is_empty() {
        out.push(FieldIssue::new(format!("{p}.triggers"), "list at least one of on_demand, daily, webhook"));
    }
    let daily = h.triggers.contains(&HireTrigger::Daily);
    if daily && h.daily_at.is_none() {
        out.push(FieldIssue::new(format!("{p}.daily_at"), "required with the \"daily\" trigger"));
    }
    if daily && h.timezone.is_none() {
        out.push(FieldIssue::new(format!("{p}.timezone"), "required with the \"daily\" trigger"));
    }
    if !daily && (h.daily_at.is_some() || h.timezone.is_some()) {
        out.push(FieldIssue::new(format!("{p}.daily_at"), "only meaningful with the \"daily\" trigger"));
    }
    if h.fields.is_empty() {
        out.push(FieldIssue::new(format!("{p}.fields"), "map at least one HRIS field"));
    }
    for name in h.fields.keys() {
        if name.trim().is_empty() || name.trim() != name {
            out.push(FieldIssue::new(format!("{p}.fields.{name:?}"), "HRIS field names must be non-empty without surrounding spaces"));
        }
    }
}

fn is_profile_id(s: &str) -> bool {
    (2..=63).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.ends_with('-')
}

fn check_event_url(u: &str) -> Result<(), String> {
    let url = url::Url::parse(u).map_err(|e| format!("{u:?} is not a URL: {e}"))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!("{u:?} must be https (http only for localhost)")),
    }
}
