//! When each scheduled flow of a connection runs next, from its partner's profile and the
//! customer's settings: the job poll on the profile's cadence (a fixed slot per connection), the
//! daily hires import at its wall-clock time in the account's time zone. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::profile::{HireTrigger, Profile};
use super::schedule::{TzName, next_daily_run_ms, next_due_ms};
use super::settings::ConnectionSettings;

/// A flow the dispatcher starts on a schedule (and a partner may start by hand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduledFlow {
    /// Pull the account's postings (`flows.jobs`).
    Jobs,
    /// Import hires (`flows.hires`, trigger `daily`).
    Hires,
}

impl ScheduledFlow {
    pub const ALL: [ScheduledFlow; 2] = [ScheduledFlow::Jobs, ScheduledFlow::Hires];

    pub fn as_str(self) -> &'static str {
        match self {
            ScheduledFlow::Jobs => "jobs",
            ScheduledFlow::Hires => "hires",
        }
    }
}

/// The time zone of the daily hires import: the account's (a setting, when the profile lets
/// the customer choose), else the profile's, else UTC.
pub fn daily_timezone(profile: &Profile, settings: &ConnectionSettings) -> TzName {
    settings.timezone(profile).cloned().or_else(|| profile.hires().and_then(|h| h.timezone.clone())).unwrap_or_else(TzName::utc)
}

/// The first run of `flow` strictly after `after_ms`, or `None` when the flow is not scheduled
/// for this connection (the profile has no such flow, or the customer switched it off).
pub fn next_run(flow: ScheduledFlow, profile: &Profile, settings: &ConnectionSettings, connection_id: &str, after_ms: i64) -> Option<i64> {
    match flow {
        ScheduledFlow::Jobs => profile.jobs().map(|j| next_due_ms(j.cadence, connection_id, after_ms)),
        ScheduledFlow::Hires => {
            let hires = profile.hires()?;
            let at = hires.daily_at?;
            if !settings.hire_triggers(profile).contains(&HireTrigger::Daily) {
                return None;
            }
            Some(next_daily_run_ms(at, &daily_timezone(profile, settings), after_ms))
        }
    }
}

/// The schedule of a newly connected account: jobs at once (the first sync runs right after
/// consent), daily flows at their next time.
pub fn first_runs(profile: &Profile, settings: &ConnectionSettings, connection_id: &str, now_ms: i64) -> BTreeMap<ScheduledFlow, i64> {
    let mut runs = BTreeMap::new();
    if profile.jobs().is_some() {
        runs.insert(ScheduledFlow::Jobs, now_ms);
    }
    if let Some(at) = next_run(ScheduledFlow::Hires, profile, settings, connection_id, now_ms) {
        runs.insert(ScheduledFlow::Hires, at);
    }
    runs
}

/// The schedule after a settings change: flows that stay keep their time (a changed daily
/// time zone moves the daily run), flows switched on get their next time, flows switched off go.
pub fn rescheduled(
    current: &BTreeMap<ScheduledFlow, i64>,
    profile: &Profile,
    settings: &ConnectionSettings,
    connection_id: &str,
    now_ms: i64,
) -> BTreeMap<ScheduledFlow, i64> {
    let mut runs = BTreeMap::new();
    for flow in ScheduledFlow::ALL {
        let Some(next) = next_run(flow, profile, settings, connection_id, now_ms) else { continue };
        let keep = match flow {
            ScheduledFlow::Jobs => current.get(&flow).copied(),
            ScheduledFlow::Hires => None,
        };
        runs.insert(flow, keep.unwrap_or(next));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::catalog::ProfileCatalog;

    /// A bundled profile with the given trait (tests name no partner).
    fn profile_where(pred: impl Fn(&Profile) -> bool) -> std::sync::Arc<Profile> {
        let catalog = ProfileCatalog::bundled().unwrap();
        let id = catalog.ids().find(|id| pred(catalog.get(id).unwrap())).expect("a bundled profile of that kind").to_owned();
        catalog.get(&id).cloned().unwrap()
    }

    fn hourly_jobs() -> std::sync::Arc<Profile> {
        profile_where(|p| p.jobs().is_some_and(|j| j.cadence.seconds() == 3600) && p.hires().is_none())
    }

    /// Daily hires at midnight Pacific, as in the HRIS seed.
    fn daily_hires() -> std::sync::Arc<Profile> {
        let p = profile_where(|p| p.hires().is_some_and(|h| h.triggers.contains(&HireTrigger::Daily)));
        let h = p.hires().unwrap();
        assert_eq!((h.daily_at.map(|t| (t.hour, t.minute)), h.timezone.as_ref().map(TzName::as_str)), (Some((0, 0)), Some("America/Los_Angeles")));
        p
    }

    // 2026-03-07T12:00:00Z, the day before the US spring-forward change.
    const NOW: i64 = 1_772_884_800_000;

    #[test]
    fn a_jobs_partner_polls_at_once_then_on_its_cadence_in_a_fixed_slot() {
        let jobs_partner = hourly_jobs();
        let runs = first_runs(&jobs_partner, &ConnectionSettings::default(), "c1", NOW);
        assert_eq!(runs, BTreeMap::from([(ScheduledFlow::Jobs, NOW)]));
        let next = next_run(ScheduledFlow::Jobs, &jobs_partner, &ConnectionSettings::default(), "c1", NOW).unwrap();
        assert!(next > NOW && next <= NOW + 3_600_000, "within the hour: {next}");
        let after = next_run(ScheduledFlow::Jobs, &jobs_partner, &ConnectionSettings::default(), "c1", next).unwrap();
        assert_eq!(after - next, 3_600_000, "one cadence later");
        assert_eq!(next_run(ScheduledFlow::Hires, &jobs_partner, &ConnectionSettings::default(), "c1", NOW), None);
    }

    #[test]
    fn the_daily_import_runs_at_midnight_pacific_until_the_customer_switches_it_off() {
        let hris = daily_hires();
        let runs = first_runs(&hris, &ConnectionSettings::default(), "c1", NOW);
        // 2026-03-08T00:00 PST = 08:00Z.
        assert_eq!(runs, BTreeMap::from([(ScheduledFlow::Hires, 1_772_956_800_000)]));
        let webhook_only: ConnectionSettings = serde_json::from_str(r#"{"hire_triggers":["webhook"]}"#).unwrap();
        assert_eq!(next_run(ScheduledFlow::Hires, &hris, &webhook_only, "c1", NOW), None);
        assert!(rescheduled(&runs, &hris, &webhook_only, "c1", NOW).is_empty(), "switched off: no run left");
    }

    /// The dispatcher moves a daily run on with `next_run(…, due_at)`: step it through both of
    /// the year's daylight-saving changes and every run is at local midnight.
    #[test]
    fn the_daily_import_steps_across_both_daylight_saving_changes() {
        let hris = daily_hires();
        let ms = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        let step = |from: &str, n: usize| {
            let mut at = ms(from);
            (0..n)
                .map(|_| {
                    at = next_run(ScheduledFlow::Hires, &hris, &ConnectionSettings::default(), "c1", at).unwrap();
                    jiff::Timestamp::from_millisecond(at).unwrap().to_string()
                })
                .collect::<Vec<_>>()
        };
        // Spring forward on 2026-03-08 (02:00 PST → 03:00 PDT): midnight moves from 08:00Z to 07:00Z.
        assert_eq!(step("2026-03-06T12:00:00Z", 4), ["2026-03-07T08:00:00Z", "2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z", "2026-03-10T07:00:00Z"]);
        // Fall back on 2026-11-01 (02:00 PDT → 01:00 PST): midnight moves from 07:00Z to 08:00Z.
        assert_eq!(step("2026-10-30T12:00:00Z", 4), ["2026-10-31T07:00:00Z", "2026-11-01T07:00:00Z", "2026-11-02T08:00:00Z", "2026-11-03T08:00:00Z"]);
        // Exactly at a run, the next is the next local midnight (the dispatcher passes the due time).
        assert_eq!(step("2026-11-01T07:00:00Z", 1), ["2026-11-02T08:00:00Z"]);
        // The account's own zone follows its own changes (Europe: last Sunday of March, 2026-03-29).
        let berlin: ConnectionSettings = serde_json::from_str(r#"{"timezone":"Europe/Berlin"}"#).unwrap();
        let first = next_run(ScheduledFlow::Hires, &hris, &berlin, "c1", ms("2026-03-28T12:00:00Z")).unwrap();
        let second = next_run(ScheduledFlow::Hires, &hris, &berlin, "c1", first).unwrap();
        assert_eq!((first, second), (ms("2026-03-28T23:00:00Z"), ms("2026-03-29T22:00:00Z")));
    }

    #[test]
    fn a_new_time_zone_moves_the_daily_run_but_not_the_job_poll() {
        let hris = daily_hires();
        let berlin: ConnectionSettings = serde_json::from_str(r#"{"timezone":"Europe/Berlin"}"#).unwrap();
        let runs = rescheduled(&BTreeMap::new(), &hris, &berlin, "c1", NOW);
        // 2026-03-08T00:00 CET = 2026-03-07T23:00Z.
        assert_eq!(runs.get(&ScheduledFlow::Hires), Some(&1_772_924_400_000));
        let jobs_partner = hourly_jobs();
        let current = BTreeMap::from([(ScheduledFlow::Jobs, NOW + 5)]);
        assert_eq!(rescheduled(&current, &jobs_partner, &ConnectionSettings::default(), "c1", NOW), current);
    }
}
