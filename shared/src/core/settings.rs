//! Per-connection settings: what a partner's customer chose within what the profile allows
//! (`settings.customer_may_change`). Checked against the profile before they are stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::custom::CustomFields;
use super::ids::{StageId, normalize_uuid};
use super::placeholders::{self, TemplateUse};
use super::profile::{FieldIssue, HireTrigger, Profile, Route, SettingKey};
use super::schedule::TzName;
use super::submission::input::normalize_status;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSettings {
    /// Lever user id the hub writes as (and attributes candidates to).
    #[serde(default)]
    pub perform_as: Option<String>,
    #[serde(default)]
    pub default_stage: Option<StageId>,
    /// Lever stage id → the partner's name for it (custom pipelines mapped by the customer).
    #[serde(default)]
    pub stage_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub source: Option<String>,
    /// Replaces the profile's tag templates.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Screening status → route; overrides the profile's routes for that status.
    #[serde(default)]
    pub result_routes: BTreeMap<String, Route>,
    /// Posting id → what differs for that posting.
    #[serde(default)]
    pub posting_overrides: BTreeMap<String, PostingOverride>,
    /// Subset of the profile's hire triggers this customer turned on.
    #[serde(default)]
    pub hire_triggers: Option<Vec<HireTrigger>>,
    #[serde(default)]
    pub timezone: Option<TzName>,
}

/// Size limits of settings (documented in `docs/openapi.yaml`).
pub mod limits {
    /// Tag templates, of the connection and of each posting override.
    pub const TAGS: usize = 50;
    pub const STAGE_LABELS: usize = 200;
    pub const RESULT_ROUTES: usize = 50;
    pub const POSTING_OVERRIDES: usize = 200;
    /// A tag template, a stage label or id, a user id.
    pub const TEXT_CHARS: usize = 200;
    /// All settings as JSON.
    pub const TOTAL_BYTES: usize = 64 * 1024;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostingOverride {
    #[serde(default)]
    pub stage: Option<StageId>,
    /// Tag templates added for this posting.
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub result_routes: BTreeMap<String, Route>,
}

impl ConnectionSettings {
    fn is_set(&self, k: SettingKey) -> bool {
        match k {
            SettingKey::PerformAs => self.perform_as.is_some(),
            SettingKey::DefaultStage => self.default_stage.is_some(),
            SettingKey::StageLabels => !self.stage_labels.is_empty(),
            SettingKey::Source => self.source.is_some(),
            SettingKey::Tags => self.tags.is_some(),
            SettingKey::ResultRoutes => !self.result_routes.is_empty(),
            SettingKey::PostingOverrides => !self.posting_overrides.is_empty(),
            SettingKey::HireTriggers => self.hire_triggers.is_some(),
            SettingKey::Timezone => self.timezone.is_some(),
        }
    }

    /// Problems with these settings for `profile`, with `settings.<name>` paths.
    pub fn validate(&self, profile: &Profile) -> Vec<FieldIssue> {
        let no_fields = CustomFields::new();
        let custom = profile.candidates().map_or(&no_fields, |c| &c.custom);
        use SettingKey::*;
        let mut out = Vec::new();
        let mut issue = |f: String, r: String| out.push(FieldIssue { field: f, reason: r });
        for k in [PerformAs, DefaultStage, StageLabels, Source, Tags, ResultRoutes, PostingOverrides, HireTriggers, Timezone] {
            let f = format!("settings.{}", k.as_str());
            if self.is_set(k) && !profile.may_change(k) {
                issue(f.clone(), format!("{} does not let customers change this", profile.display_name));
            }
            if !self.is_set(k) && profile.settings.required.contains(&k) {
                issue(f, format!("required by {}", profile.display_name));
            }
        }
        for (field, reason) in self.over_limits() {
            issue(field, reason);
        }
        if let Some(u) = &self.perform_as
            && normalize_uuid(u).is_none()
        {
            issue("settings.perform_as".into(), format!("{u:?} is not a Lever user id (UUID)"));
        }
        if let Some(s) = &self.source
            && (s.trim().is_empty() || s.chars().count() > 100)
        {
            issue("settings.source".into(), "must be 1 to 100 characters".into());
        }
        for (i, t) in self.tags.iter().flatten().enumerate() {
            if let Err(e) = placeholders::parse(t, TemplateUse::Tag, custom) {
                issue(format!("settings.tags[{i}]"), e);
            }
        }
        for (stage, label) in &self.stage_labels {
            if let Err(e) = StageId::parse(stage) {
                issue(format!("settings.stage_labels.{stage}"), e);
            }
            if label.trim().is_empty() {
                issue(format!("settings.stage_labels.{stage}"), "label must not be empty".into());
            }
        }
        let routes = |out: &mut dyn FnMut(String, String), prefix: &str, r: &BTreeMap<String, Route>| {
            for (status, route) in r {
                if let Err(e) = normalize_status(status) {
                    out(format!("{prefix}.{status}"), e);
                }
                if let Some(p) = &route.posting
                    && let Err(e) = super::job::posting_id_from_ref(p)
                {
                    out(format!("{prefix}.{status}.posting"), e.to_string());
                }
            }
        };
        routes(&mut issue, "settings.result_routes", &self.result_routes);
        for (posting, o) in &self.posting_overrides {
            let prefix = format!("settings.posting_overrides.{posting}");
            if normalize_uuid(posting).is_none() {
                issue(prefix.clone(), format!("{posting:?} is not a posting id (UUID)"));
            }
            for (i, t) in o.tags.iter().enumerate() {
                if let Err(e) = placeholders::parse(t, TemplateUse::Tag, custom) {
                    issue(format!("{prefix}.tags[{i}]"), e);
                }
            }
            routes(&mut issue, &format!("{prefix}.result_routes"), &o.result_routes);
        }
        if let (Some(chosen), Some(h)) = (&self.hire_triggers, profile.hires()) {
            for (i, t) in chosen.iter().enumerate() {
                if !h.triggers.contains(t) {
                    issue(format!("settings.hire_triggers[{i}]"), format!("{t:?} is not offered by {}", profile.display_name));
                }
            }
        }
        out
    }

    /// Sizes beyond [`limits`]: a connection item must stay far below DynamoDB's 400 KB.
    fn over_limits(&self) -> Vec<(String, String)> {
        use limits::*;
        let mut out = Vec::new();
        let mut count = |field: &str, n: usize, max: usize| {
            if n > max {
                out.push((field.to_owned(), format!("at most {max} entries, not {n}")));
            }
        };
        count("settings.tags", self.tags.as_ref().map_or(0, Vec::len), TAGS);
        count("settings.stage_labels", self.stage_labels.len(), STAGE_LABELS);
        count("settings.result_routes", self.result_routes.len(), RESULT_ROUTES);
        count("settings.posting_overrides", self.posting_overrides.len(), POSTING_OVERRIDES);
        for (posting, o) in &self.posting_overrides {
            count(&format!("settings.posting_overrides.{posting}.tags"), o.tags.len(), TAGS);
            count(&format!("settings.posting_overrides.{posting}.result_routes"), o.result_routes.len(), RESULT_ROUTES);
        }
        let mut long = |field: String, text: &str| {
            if text.chars().count() > TEXT_CHARS {
                out.push((field, format!("at most {TEXT_CHARS} characters")));
            }
        };
        for (i, t) in self.tags.iter().flatten().enumerate() {
            long(format!("settings.tags[{i}]"), t);
        }
        // A posting's own tags are tags too: the same 200 characters as the document says.
        for (posting, o) in &self.posting_overrides {
            for (i, t) in o.tags.iter().enumerate() {
                long(format!("settings.posting_overrides.{posting}.tags[{i}]"), t);
            }
        }
        for (stage, label) in &self.stage_labels {
            long(format!("settings.stage_labels.{stage}"), label);
            long(format!("settings.stage_labels.{stage}"), stage);
        }
        if let Some(u) = &self.perform_as {
            long("settings.perform_as".into(), u);
        }
        // The sum of everything, whatever the counts: a whole connection stays a few tens of KB.
        let bytes = serde_json::to_vec(self).map_or(0, |b| b.len());
        if out.is_empty() && bytes > TOTAL_BYTES {
            out.push(("settings".into(), format!("at most {} KiB as JSON, not {} KiB", TOTAL_BYTES / 1024, bytes.div_ceil(1024))));
        }
        out
    }

    /// The partner's label for a Lever stage, when the customer mapped one.
    pub fn stage_label(&self, stage_id: &str) -> Option<&str> {
        self.stage_labels.get(stage_id).map(String::as_str)
    }

    /// The account's time zone for dates (the offer start date), when the profile lets the
    /// customer set one; `None` means the profile's `flows.hires.start_date_timezone` (UTC by default).
    pub fn timezone(&self, profile: &Profile) -> Option<&TzName> {
        self.timezone.as_ref().filter(|_| profile.may_change(SettingKey::Timezone))
    }

    /// The hire triggers in force for this connection.
    pub fn hire_triggers(&self, profile: &Profile) -> Vec<HireTrigger> {
        let offered = profile.hires().map(|h| h.triggers.clone()).unwrap_or_default();
        match &self.hire_triggers {
            Some(chosen) if profile.may_change(SettingKey::HireTriggers) => offered.into_iter().filter(|t| chosen.contains(t)).collect(),
            _ => offered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        toml::from_str(
            r#"
            id = "acme"
            display_name = "Acme"
            kind = "screening"
            [oauth]
            scopes = ["offline_access"]
            [flows.candidates]
            accepts = ["screening"]
            origin = "applied"
            source = "Acme"
            stage = "applicant-new"
            [settings]
            customer_may_change = ["perform_as", "tags", "result_routes", "posting_overrides"]
            required = ["perform_as"]
            "#,
        )
        .unwrap()
    }

    fn fields(s: &ConnectionSettings) -> Vec<String> {
        s.validate(&profile()).into_iter().map(|i| format!("{}: {}", i.field, i.reason)).collect()
    }

    #[test]
    fn required_and_forbidden_settings() {
        let s = ConnectionSettings { source: Some("X".into()), ..Default::default() };
        assert_eq!(fields(&s), vec!["settings.perform_as: required by Acme", "settings.source: Acme does not let customers change this"]);
    }

    #[test]
    fn values_are_checked() {
        let mut s = ConnectionSettings { perform_as: Some("bob".into()), tags: Some(vec!["UW {rezult}".into()]), ..Default::default() };
        s.result_routes.insert("PASSED!".into(), Route { stage: None, posting: Some("https://example.com/x".into()) });
        s.posting_overrides.insert("not-a-posting".into(), PostingOverride::default());
        let got = fields(&s).join("\n");
        assert!(got.contains("settings.perform_as: \"bob\" is not a Lever user id"), "{got}");
        assert!(got.contains("settings.tags[0]: unknown placeholder {rezult}"), "{got}");
        assert!(got.contains("settings.result_routes.PASSED!: "), "{got}");
        assert!(got.contains("settings.result_routes.PASSED!.posting: "), "{got}");
        assert!(got.contains("settings.posting_overrides.not-a-posting: "), "{got}");
    }

    #[test]
    fn json_round_trip_refuses_unknown_keys() {
        let e = serde_json::from_str::<ConnectionSettings>(r#"{"perfom_as":"x"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `perfom_as`"));
        let s: ConnectionSettings = serde_json::from_str(r#"{"default_stage":"lead-new","timezone":"Europe/Berlin"}"#).unwrap();
        assert_eq!(s.default_stage.unwrap().as_str(), "lead-new");
        assert!(serde_json::from_str::<ConnectionSettings>(r#"{"timezone":"Mars/Base"}"#).is_err());
        assert!(serde_json::from_str::<ConnectionSettings>(r#"{"default_stage":"New lead"}"#).is_err());
    }
}
