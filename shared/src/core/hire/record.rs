//! The hub's record of one hire, and when it is sent to the partner. Pure.
//!
//! One record per connection and Lever opportunity, whoever finds the hire first — the
//! `candidateHired` webhook, the daily run or a manual import — so the three are one hire, sent
//! once. Sends are counted: `sends_wanted` is 1 when the hire is first recorded and grows by one
//! for each resend a partner asks for; `sends_done` is how many of those reached the outbox.
//! Send number *n* is published as the event `hire/<connection>/<opportunity>/<n>`, so a send
//! repeated after a crash (the record says it is owed) is the same event, deduplicated by the
//! outbox, never a second delivery.

use serde::{Deserialize, Serialize};

use super::offer::StartOfferStatus;
use super::{HireFacts, HireMapping, HrisRecord};
use crate::core::profile::HireTrigger;

/// The Lever objects a hire was read from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeverIds {
    pub opportunity_id: String,
    pub contact_id: Option<String>,
    pub posting_id: Option<String>,
    pub offer_id: Option<String>,
    /// The status `offer_id` had when read. Records kept before it was recorded have none.
    #[serde(default)]
    pub offer_status: Option<StartOfferStatus>,
    pub hiring_manager_id: Option<String>,
    pub archive_reason_id: Option<String>,
}

impl LeverIds {
    pub fn of(facts: &HireFacts) -> Self {
        Self {
            opportunity_id: facts.opportunity_id.clone(),
            contact_id: facts.contact_id.clone(),
            posting_id: facts.posting_id.clone(),
            offer_id: facts.offer_id.clone(),
            offer_status: facts.offer_status,
            hiring_manager_id: facts.hiring_manager_id.clone(),
            archive_reason_id: facts.archive_reason_id.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HireRecord {
    pub connection_id: String,
    pub opportunity_id: String,
    pub lever: LeverIds,
    /// When Lever archived the opportunity as hired.
    pub hired_at_ms: Option<i64>,
    /// The profile's HRIS fields and the names of those Lever had no value for.
    pub mapping: HireMapping,
    /// What found the hire first.
    pub found_by: HireTrigger,
    pub found_at_ms: i64,
    pub updated_at_ms: i64,
    pub sends_wanted: u32,
    pub sends_done: u32,
    /// What asked for the latest send (the finder, or `on_demand` for a resend).
    pub send_trigger: HireTrigger,
    pub last_sent_at_ms: Option<i64>,
    /// The manual run that asked for the latest resend: the same run, retried, asks only once.
    #[serde(default)]
    pub resend_run: Option<String>,
}

/// What an import does with one hired opportunity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HireStep {
    /// Not recorded yet: read it from Lever, record it, send it.
    New,
    /// Recorded and sent as often as asked: nothing to do (not even a read from Lever).
    Done,
    /// Recorded; send `n` did not reach the outbox (a run stopped in between): send it now.
    Owed(u32),
    /// Recorded; this run asks for it again: read it afresh from Lever and send it once more.
    Resend,
}

/// The step for a hire found by an import. `resend_run` is the manual run asking for a resend.
pub fn next_step(existing: Option<&HireRecord>, resend_run: Option<&str>) -> HireStep {
    let Some(r) = existing else { return HireStep::New };
    match resend_run {
        Some(run) if r.resend_run.as_deref() != Some(run) => HireStep::Resend,
        _ => r.owed().map_or(HireStep::Done, HireStep::Owed),
    }
}

impl HireRecord {
    pub fn new(connection_id: &str, facts: &HireFacts, mapping: HireMapping, found_by: HireTrigger, now_ms: i64) -> Self {
        Self {
            connection_id: connection_id.to_owned(),
            opportunity_id: facts.opportunity_id.clone(),
            lever: LeverIds::of(facts),
            hired_at_ms: facts.hired_at_ms,
            mapping,
            found_by,
            found_at_ms: now_ms,
            updated_at_ms: now_ms,
            sends_wanted: 1,
            sends_done: 0,
            send_trigger: found_by,
            last_sent_at_ms: None,
            resend_run: None,
        }
    }

    /// A resend asked for by `run`, with what Lever says now. Asking twice in one run is once.
    pub fn resend(&mut self, run: &str, facts: &HireFacts, mapping: HireMapping, now_ms: i64) {
        if self.resend_run.as_deref() == Some(run) {
            return;
        }
        self.lever = LeverIds::of(facts);
        self.hired_at_ms = facts.hired_at_ms.or(self.hired_at_ms);
        self.mapping = mapping;
        self.sends_wanted += 1;
        self.send_trigger = HireTrigger::OnDemand;
        self.resend_run = Some(run.to_owned());
        self.updated_at_ms = now_ms;
    }

    /// The send still to be published, if any. Sends left behind fold into the newest: the
    /// partner gets the hire once with what the hub knows now.
    pub fn owed(&self) -> Option<u32> {
        (self.sends_done < self.sends_wanted).then_some(self.sends_wanted)
    }

    /// Send `n` is in the outbox.
    pub fn sent(&mut self, n: u32, now_ms: i64) {
        if n > self.sends_done {
            self.sends_done = n;
            self.last_sent_at_ms = Some(now_ms);
            self.updated_at_ms = now_ms;
        }
    }

    /// The outbox id of send `n` (the publisher derives a UUID from it).
    pub fn event_id(&self, n: u32) -> String {
        format!("hire/{}/{}/{n}", self.connection_id, self.opportunity_id)
    }

    /// The hire as partners see it, in `GET …/hires` and in `hire.created` events.
    pub fn view(&self) -> HireView {
        HireView {
            id: self.opportunity_id.clone(),
            connection_id: self.connection_id.clone(),
            fields: self.mapping.fields.clone(),
            missing: self.mapping.missing.clone(),
            lever: self.lever.clone(),
            hired_at: self.hired_at_ms.and_then(rfc3339),
            found_by: self.found_by,
            found_at: rfc3339(self.found_at_ms).unwrap_or_default(),
            sends: self.sends_done,
            last_sent_at: self.last_sent_at_ms.and_then(rfc3339),
        }
    }

    /// The `data` of the `hire.created` event for send `n`.
    pub fn event_data(&self, n: u32) -> HireEventData {
        let mut hire = self.view();
        hire.sends = hire.sends.max(n);
        HireEventData { hire, send: n, resend: n > 1, trigger: self.send_trigger }
    }
}

/// A hire as the partner API and events show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HireView {
    /// The hire's id: the Lever opportunity id (also the "Employee Number" of the seed's mapping).
    pub id: String,
    pub connection_id: String,
    /// The profile's HRIS field names and their values (`null` when Lever has none).
    pub fields: HrisRecord,
    /// The fields Lever had no value for.
    pub missing: Vec<String>,
    pub lever: LeverIds,
    pub hired_at: Option<String>,
    pub found_by: HireTrigger,
    pub found_at: String,
    /// How many times the hire was sent as `hire.created`.
    pub sends: u32,
    pub last_sent_at: Option<String>,
}

/// `hire.created`'s `data`: the hire, and which send of it this is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HireEventData {
    #[serde(flatten)]
    pub hire: HireView,
    /// 1 for the first send; more for each resend the partner asked for.
    pub send: u32,
    pub resend: bool,
    /// What caused this send: `webhook`, `daily` or `on_demand`.
    pub trigger: HireTrigger,
}

/// Epoch ms as RFC 3339 UTC.
pub fn rfc3339(ms: i64) -> Option<String> {
    jiff::Timestamp::from_millisecond(ms).ok().map(|t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> HireFacts {
        HireFacts { opportunity_id: "o1".into(), contact_id: Some("c1".into()), hired_at_ms: Some(1_000), ..Default::default() }
    }

    fn mapping() -> HireMapping {
        HireMapping { fields: HrisRecord::from([("Employee Number".into(), Some("o1".into()))]), missing: vec![] }
    }

    fn record() -> HireRecord {
        HireRecord::new("conn", &facts(), mapping(), HireTrigger::Webhook, 5_000)
    }

    #[test]
    fn a_new_hire_is_read_and_sent_once() {
        assert_eq!(next_step(None, None), HireStep::New);
        let mut r = record();
        assert_eq!(next_step(Some(&r), None), HireStep::Owed(1), "recorded but not yet in the outbox");
        r.sent(1, 6_000);
        assert_eq!(next_step(Some(&r), None), HireStep::Done, "the daily run and a manual import find it sent");
        assert_eq!((r.sends_done, r.last_sent_at_ms), (1, Some(6_000)));
        r.sent(1, 7_000);
        assert_eq!(r.last_sent_at_ms, Some(6_000), "marking the same send again changes nothing");
    }

    #[test]
    fn a_resend_is_one_more_send_per_run() {
        let mut r = record();
        r.sent(1, 6_000);
        assert_eq!(next_step(Some(&r), Some("run-1")), HireStep::Resend);
        r.resend("run-1", &facts(), mapping(), 7_000);
        assert_eq!(next_step(Some(&r), Some("run-1")), HireStep::Owed(2), "the same run retried: no third send");
        r.resend("run-1", &facts(), mapping(), 7_500);
        assert_eq!(r.sends_wanted, 2);
        r.sent(2, 8_000);
        assert_eq!(next_step(Some(&r), Some("run-1")), HireStep::Done);
        assert_eq!(next_step(Some(&r), Some("run-2")), HireStep::Resend, "another run asks again");
        assert_eq!(r.send_trigger, HireTrigger::OnDemand);
        assert_eq!(r.found_by, HireTrigger::Webhook, "who found it stays");
    }

    #[test]
    fn sends_have_stable_event_ids() {
        let r = record();
        assert_eq!(r.event_id(1), "hire/conn/o1/1");
        assert_ne!(r.event_id(1), r.event_id(2));
        let data = r.event_data(1);
        assert_eq!((data.send, data.resend, data.trigger), (1, false, HireTrigger::Webhook));
        assert_eq!(data.hire.sends, 1);
        let json = serde_json::to_value(&data).unwrap();
        assert_eq!(json["id"], "o1");
        assert_eq!(json["lever"]["contact_id"], "c1");
        assert_eq!(json["hired_at"], "1970-01-01T00:00:01Z");
        assert_eq!(json["found_by"], "webhook");
    }

    #[test]
    fn the_start_dates_offer_and_its_status_are_shown() {
        let facts = HireFacts { offer_id: Some("of1".into()), offer_status: Some(StartOfferStatus::SentManually), ..facts() };
        let r = HireRecord::new("conn", &facts, mapping(), HireTrigger::Daily, 5_000);
        let json = serde_json::to_value(r.view()).unwrap();
        assert_eq!((json["lever"]["offer_id"].as_str(), json["lever"]["offer_status"].as_str()), (Some("of1"), Some("sent-manually")));
        let none = serde_json::to_value(record().view()).unwrap();
        assert!(none["lever"]["offer_status"].is_null(), "no offer used: null, still present");
        // A record stored before the status was kept reads as having none.
        let mut old = serde_json::to_value(&r).unwrap();
        old["lever"].as_object_mut().unwrap().remove("offer_status");
        let read: HireRecord = serde_json::from_value(old).unwrap();
        assert_eq!((read.lever.offer_id.as_deref(), read.lever.offer_status), (Some("of1"), None));
    }
}
