//! New jobs created without conditions: the fast path of a page's writes.
//!
//! A transaction costs DynamoDB twice the write units of a plain write and is slower per item,
//! so a full sync that finds thousands of new postings would be paced by the store, not by
//! Lever. New jobs need no condition when the run alone may create them: it read each one
//! absent in this page's batch read, and its lease has at least half its time left, so no other
//! run can have taken the connection's sync over since (a lease is taken over only once it
//! has lapsed). What stays exactly once is the event. Each event is stored before its job, and
//! one an earlier run already stored is left alone; its change goes the careful way instead.
//! A run that stops between the two has stored an event whose job is absent. The next run
//! reads the job absent again, finds that event and publishes it the careful way, which
//! creates nothing twice.

use super::JobPoller;
use crate::flows::events::StagedEvent;
use crate::flows::jobs::JobsError;
use crate::store::Write;

/// How many new jobs one group writes; a page's groups go out together, each waiting on its
/// own events only.
pub(super) const CREATES_PER_GROUP: usize = 100;

/// A new job to create, with its event if the partner hears of it.
pub(super) struct Create {
    /// Its place in the caller's list.
    pub index: usize,
    pub job: Write,
    pub event: Option<StagedEvent>,
}

impl JobPoller {
    /// Creates a group of new jobs: their events stored first, then the jobs whose events are
    /// stored (and those that announce nothing), then the events' deliveries queued. For each,
    /// whether it was written; `false`: its event was already stored, and the caller publishes
    /// it and writes the job the careful way.
    pub(super) async fn create_all(&self, group: Vec<Create>) -> Result<Vec<(usize, bool)>, JobsError> {
        let publish = |e: crate::flows::events::PublishError| JobsError::Publish(e.to_string());
        let mut jobs = Vec::with_capacity(group.len());
        let mut events = Vec::new();
        let mut announced = Vec::new();
        for Create { index, job, event } in group {
            match event {
                Some(event) => {
                    events.push(event);
                    announced.push((index, job));
                }
                None => jobs.push((index, job)),
            }
        }
        let stored = match self.events.store_new(&mut events).await.map_err(publish)? {
            Some(stored) if stored.len() == events.len() => stored,
            _ => vec![false; events.len()],
        };
        let (mut written, mut puts): (Vec<(usize, bool)>, Vec<Write>) = jobs.into_iter().map(|(index, job)| ((index, true), job)).unzip();
        let mut committed = Vec::with_capacity(events.len());
        for (((index, job), event), stored) in announced.into_iter().zip(events).zip(stored) {
            written.push((index, stored));
            if stored {
                puts.push(job);
                committed.push(event);
            }
        }
        self.records.put_new(puts).await?;
        self.events.committed(committed).await.map_err(publish)?;
        Ok(written)
    }
}
