//! The single-table key layout. Every key the hub writes is built here, so the layout can be
//! read in one place (and in `docs/store.md`, which mirrors it).
//!
//! Per-connection data shares the connection's partition (`CONN#<id>`) so one query with a
//! sort-key prefix reads one kind of it; look-ups by another id (API key, OAuth state) get
//! their own partitions; the due index (GSI1) finds work by time without a scan.

use super::{IndexKey, Key};

/// Due-index partitions. Spreading connections over a few partitions keeps the scheduler's
/// queries off one hot key; the dispatcher queries each.
pub const DUE_SHARDS: u32 = 4;

pub fn partner(partner_id: &str) -> Key {
    Key::new(format!("PARTNER#{partner_id}"), "PARTNER")
}

/// API keys are looked up by the SHA-256 of the key, never by the key.
pub fn api_key(key_hash: &str) -> Key {
    Key::new(format!("APIKEY#{key_hash}"), "APIKEY")
}

/// The list of all partners: one partition, one entry per partner.
pub const PARTNER_LIST_PK: &str = "PARTNERS";

pub fn partner_list_entry(partner_id: &str) -> Key {
    Key::new(PARTNER_LIST_PK, partner_id.to_owned())
}

/// A partner's API key, listed under the partner by key id.
pub fn partner_api_key(partner_id: &str, key_id: &str) -> Key {
    Key::new(format!("PARTNER#{partner_id}"), format!("{PARTNER_API_KEY_PREFIX}{key_id}"))
}

pub const PARTNER_API_KEY_PREFIX: &str = "APIKEY#";

/// Partner webhook endpoints and other per-partner records.
pub fn partner_item(partner_id: &str, sk: &str) -> Key {
    Key::new(format!("PARTNER#{partner_id}"), sk.to_owned())
}

/// An erasure a partner asked for (`POST /v1/erasures`), in the partner's partition.
pub fn erasure(partner_id: &str, erasure_id: &str) -> Key {
    Key::new(format!("PARTNER#{partner_id}"), format!("ERASURE#{erasure_id}"))
}

/// Erasures still pending, on one partition of the due index (they are rare and short-lived).
pub fn erasure_due(partner_id: &str, erasure_id: &str, due_at_ms: i64) -> IndexKey {
    IndexKey { partition: ERASURE_DUE_PARTITION.to_owned(), sort: format!("{}#{partner_id}#{erasure_id}", sortable_ms(due_at_ms)) }
}

pub const ERASURE_DUE_PARTITION: &str = "ERASEDUE";

/// A disconnected connection's personal data, to be erased when the grace has passed.
pub fn connection_purge(connection_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), "PURGE")
}

pub fn connection_purge_due(connection_id: &str, due_at_ms: i64) -> IndexKey {
    IndexKey { partition: PURGE_DUE_PARTITION.to_owned(), sort: format!("{}#{connection_id}", sortable_ms(due_at_ms)) }
}

pub const PURGE_DUE_PARTITION: &str = "PURGEDUE";

pub fn connection(connection_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), "CONN")
}

/// The partner's list of its connections (a pointer item in the partner partition).
pub fn partner_connection(partner_id: &str, connection_id: &str) -> Key {
    Key::new(format!("PARTNER#{partner_id}"), format!("CONN#{connection_id}"))
}

pub const PARTNER_CONNECTIONS_PREFIX: &str = "CONN#";

pub fn oauth_state(nonce: &str) -> Key {
    Key::new(format!("OAUTHSTATE#{nonce}"), "STATE")
}

/// A connection's magic link (the hub's connect page), by its nonce.
pub fn connect_link(nonce: &str) -> Key {
    Key::new(format!("CONNECTLINK#{nonce}"), "LINK")
}

pub fn idempotency(partner_id: &str, idempotency_key: &str) -> Key {
    Key::new(format!("IDEM#{partner_id}#{idempotency_key}"), "IDEM")
}

pub fn lease(name: &str) -> Key {
    Key::new(format!("LEASE#{name}"), "LEASE")
}

/// A webhook the hub registered in the connection's Lever account, one per Lever event.
pub fn lever_webhook(connection_id: &str, event: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), format!("{LEVER_WEBHOOK_PREFIX}{event}"))
}

pub const LEVER_WEBHOOK_PREFIX: &str = "LEVERHOOK#";

/// A Lever webhook delivery token already received (its own partition: busy webhooks spread out).
pub fn lever_delivery_seen(connection_id: &str, token: &str) -> Key {
    Key::new(format!("LEVERSEEN#{connection_id}#{token}"), "SEEN")
}

pub fn checkpoint(connection_id: &str, flow: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), format!("CHECKPOINT#{flow}"))
}

pub fn job(connection_id: &str, posting_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), format!("JOB#{posting_id}"))
}

pub const JOBS_PREFIX: &str = "JOB#";

/// What one page of a job sync pass found (seen and leaving postings), kept until the pass
/// completes; named by the pass so an abandoned pass's pages are never read again.
pub fn job_pass_page(connection_id: &str, pass_id: &str, page: u32) -> Key {
    Key::new(format!("CONN#{connection_id}"), format!("{}{page:06}", job_pass_prefix(pass_id)))
}

pub fn job_pass_prefix(pass_id: &str) -> String {
    format!("JOBPASS#{pass_id}#")
}

/// The connection's share of Lever's rate limit (one per connection, rewritten in place).
pub fn rate_budget(connection_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), "RATE")
}

pub fn submission(connection_id: &str, submission_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), format!("SUB#{submission_id}"))
}

pub const SUBMISSIONS_PREFIX: &str = "SUB#";

/// Partitions of open submissions (queued, pending, or not yet announced) in GSI1.
pub const SUBMISSION_DUE_SHARDS: u32 = 4;

/// An open submission in GSI1, found by the candidate sweeper once `due_at_ms` has passed (a
/// retry that was never queued, a held referral to poll or expire, an announcement to repeat).
pub fn submission_due(connection_id: &str, submission_id: &str, due_at_ms: i64) -> IndexKey {
    IndexKey {
        partition: submission_due_partition(shard_of(submission_id, SUBMISSION_DUE_SHARDS)),
        sort: format!("{}#{connection_id}#{submission_id}", sortable_ms(due_at_ms)),
    }
}

pub fn submission_due_partition(shard: u32) -> String {
    format!("SUBDUE#{shard}")
}

/// A partner upload waiting to be used by a submission.
pub fn upload(connection_id: &str, upload_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), format!("{UPLOADS_PREFIX}{upload_id}"))
}

/// The sort-key prefix of a connection's uploads.
pub const UPLOADS_PREFIX: &str = "UPLOAD#";

/// An opportunity the hub wrote a submission to: its status is reported to the partner.
pub fn submitted_opportunity(connection_id: &str, opportunity_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), format!("{SUBMITTED_OPPORTUNITY_PREFIX}{opportunity_id}"))
}

pub const SUBMITTED_OPPORTUNITY_PREFIX: &str = "SUBOPP#";

/// A held referral, listed by the candidate's email (hashed) and posting, so the application
/// Lever reports finds it with one query.
pub fn pending_referral(connection_id: &str, email_key: &str, posting_id: &str, submission_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), format!("{}{submission_id}", pending_referrals_prefix(email_key, posting_id)))
}

pub fn pending_referrals_prefix(email_key: &str, posting_id: &str) -> String {
    format!("PENDING#{email_key}#{posting_id}#")
}

/// What the hub last learned of a Lever user (deactivated or not), kept for a while.
pub fn lever_user(connection_id: &str, user_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), format!("LEVERUSER#{user_id}"))
}

/// Which Lever user (if any) has this email (hashed), kept for a while.
pub fn lever_referrer(connection_id: &str, email_key: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), format!("LEVERREF#{email_key}"))
}

/// The account's stage and archive-reason names, kept for a while.
pub fn lever_names(connection_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), "LEVERNAMES")
}

/// The poll that reports status changes of submitted candidates when webhooks do not arrive.
pub fn status_poll(connection_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), "CANDPOLL")
}

pub const STATUS_POLL_SHARDS: u32 = 4;

pub fn status_poll_due(connection_id: &str, due_at_ms: i64) -> IndexKey {
    IndexKey {
        partition: status_poll_partition(shard_of(connection_id, STATUS_POLL_SHARDS)),
        sort: format!("{}#{connection_id}", sortable_ms(due_at_ms)),
    }
}

pub fn status_poll_partition(shard: u32) -> String {
    format!("CANDPOLL#{shard}")
}

pub fn hire(connection_id: &str, opportunity_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), format!("HIRE#{opportunity_id}"))
}

pub const HIRES_PREFIX: &str = "HIRE#";

/// A connection's hires newest first, in GSI1: the hire record carries its own entry, sorted
/// by the complemented hiring time (the index sorts ascending).
pub fn hire_by_time(connection_id: &str, hired_at_ms: i64, opportunity_id: &str) -> IndexKey {
    IndexKey { partition: hires_partition(connection_id), sort: format!("{}#{opportunity_id}", newest_first_ms(hired_at_ms)) }
}

pub fn hires_partition(connection_id: &str) -> String {
    format!("HIRES#{connection_id}")
}

/// Upper bound that includes every [`hire_by_time`] sort key.
pub const HIRES_UP_TO: &str = "~";

/// Activity entries sort by time; read newest first with a descending query on the prefix.
pub fn activity(connection_id: &str, at_ms: i64, entry_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), format!("{ACTIVITY_PREFIX}{}#{entry_id}", sortable_ms(at_ms)))
}

pub const ACTIVITY_PREFIX: &str = "ACT#";

/// Connections due for work: partition by shard, sorted by due time.
pub fn due(connection_id: &str, due_at_ms: i64) -> IndexKey {
    IndexKey { partition: format!("DUE#{}", due_shard(connection_id)), sort: format!("{}#{connection_id}", sortable_ms(due_at_ms)) }
}

/// Upper bound for "due at or before `now_ms`" in [`due`] sort keys.
pub fn due_up_to(now_ms: i64) -> String {
    // '~' sorts after '#', so every entry due at exactly `now_ms` is included.
    format!("{}~", sortable_ms(now_ms))
}

pub fn due_partition(shard: u32) -> String {
    format!("DUE#{shard}")
}

fn due_shard(connection_id: &str) -> u32 {
    shard_of(connection_id, DUE_SHARDS)
}

fn shard_of(id: &str, shards: u32) -> u32 {
    // FNV-1a: stable across processes and releases (std's hasher is not).
    let hash = id.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    hash % shards
}

/// Zero-padded so string order is time order (until the year 2286).
fn sortable_ms(ms: i64) -> String {
    format!("{:013}", ms.max(0))
}

/// A partner's webhook endpoint, in the partner's partition.
pub fn partner_webhook(partner_id: &str, webhook_id: &str) -> Key {
    Key::new(format!("PARTNER#{partner_id}"), format!("{PARTNER_WEBHOOKS_PREFIX}{webhook_id}"))
}

pub const PARTNER_WEBHOOKS_PREFIX: &str = "WEBHOOK#";

/// An outbound event (outbox entry). Each event has its own partition, shared with its
/// deliveries, so a busy partner's events spread over many partitions and one query reads an
/// event's deliveries.
pub fn outbound_event(partner_id: &str, event_id: &str) -> Key {
    Key::new(format!("EVENT#{partner_id}#{event_id}"), "EVENT")
}

/// "The deliveries of this event may not be queued yet": written with the event (or a replay)
/// and deleted once every delivery is queued. One left behind is what the sweeper looks for.
pub fn enqueue_check(partner_id: &str, event_id: &str) -> Key {
    Key::new(format!("EVENT#{partner_id}#{event_id}"), "ENQUEUE")
}

/// Partitions of the sweep entries in GSI1, spread like the connections' due index.
pub const SWEEP_SHARDS: u32 = 4;

/// An [`enqueue_check`] in GSI1: found by the sweeper once `check_at_ms` has passed.
pub fn sweep_due(partner_id: &str, event_id: &str, check_at_ms: i64) -> IndexKey {
    IndexKey { partition: sweep_partition(shard_of(event_id, SWEEP_SHARDS)), sort: format!("{}#{partner_id}#{event_id}", sortable_ms(check_at_ms)) }
}

pub fn sweep_partition(shard: u32) -> String {
    format!("SWEEP#{shard}")
}

/// One event's delivery to one webhook endpoint.
pub fn delivery(partner_id: &str, event_id: &str, webhook_id: &str) -> Key {
    Key::new(format!("EVENT#{partner_id}#{event_id}"), format!("{DELIVERIES_PREFIX}{webhook_id}"))
}

pub const DELIVERIES_PREFIX: &str = "DELIVERY#";

/// A partner's deliveries by status, in the GSI1 index: the index sorts ascending, so the time
/// is stored inverted to read newest first. The status write itself moves the entry.
pub fn delivery_by_status(partner_id: &str, status: &str, since_ms: i64, event_id: &str, webhook_id: &str) -> IndexKey {
    IndexKey { partition: deliveries_by_status_partition(partner_id, status), sort: format!("{}#{event_id}#{webhook_id}", newest_first_ms(since_ms)) }
}

pub fn deliveries_by_status_partition(partner_id: &str, status: &str) -> String {
    format!("DLV#{partner_id}#{status}")
}

/// Upper bound that includes every [`delivery_by_status`] sort key.
pub const DELIVERIES_BY_STATUS_UP_TO: &str = "~";

/// A message of an embedded queue kept in the embedded store until it is acked (local runs).
pub fn queued_message(queue: &str, message_id: &str) -> Key {
    Key::new(queue_partition(queue), format!("{QUEUED_MESSAGE_PREFIX}{message_id}"))
}

pub fn queue_partition(queue: &str) -> String {
    format!("QUEUE#{queue}")
}

pub const QUEUED_MESSAGE_PREFIX: &str = "MSG#";

/// Zero-padded complement of the time: string order is newest first.
fn newest_first_ms(ms: i64) -> String {
    format!("{:013}", 9_999_999_999_999 - ms.clamp(0, 9_999_999_999_999))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_keys_sort_by_time_and_bound_includes_now() {
        let a = due("c1", 999);
        let b = due("c1", 1_000);
        assert!(a.sort < b.sort);
        assert!(b.sort <= due_up_to(1_000));
        assert!(due("c1", 1_001).sort > due_up_to(1_000));
    }

    #[test]
    fn activity_keys_sort_by_time() {
        assert!(activity("c", 9_000, "z").sk < activity("c", 10_000, "a").sk);
    }

    #[test]
    fn shards_are_stable_and_in_range() {
        assert_eq!(due("abc", 1).partition, due("abc", 2).partition);
        assert!((0..DUE_SHARDS).any(|s| due("abc", 1).partition == due_partition(s)));
    }

    #[test]
    fn sweep_entries_sort_by_time_under_the_due_bound() {
        let early = sweep_due("p", "e1", 1_000);
        let late = sweep_due("p", "e1", 2_000);
        assert!(early.sort < late.sort);
        assert!(early.sort <= due_up_to(1_000) && late.sort > due_up_to(1_000));
        assert!((0..SWEEP_SHARDS).any(|s| early.partition == sweep_partition(s)));
    }

    #[test]
    fn submission_and_poll_entries_sort_by_time_under_the_due_bound() {
        let early = submission_due("c", "s1", 1_000);
        assert!(early.sort < submission_due("c", "s1", 2_000).sort);
        assert!(early.sort <= due_up_to(1_000) && submission_due("c", "s1", 1_001).sort > due_up_to(1_000));
        assert!((0..SUBMISSION_DUE_SHARDS).any(|s| early.partition == submission_due_partition(s)));
        assert!((0..STATUS_POLL_SHARDS).any(|s| status_poll_due("c", 5).partition == status_poll_partition(s)));
        assert!(pending_referral("c", "e", "p", "s").sk.starts_with(&pending_referrals_prefix("e", "p")));
        assert!(!submitted_opportunity("c", "o").sk.starts_with(SUBMISSIONS_PREFIX), "listing submissions skips them");
    }

    #[test]
    fn hires_sort_newest_first_under_the_bound() {
        let older = hire_by_time("c", 1_000, "o1");
        let newer = hire_by_time("c", 2_000, "o2");
        assert!(newer.sort < older.sort);
        assert!(older.sort.as_str() <= HIRES_UP_TO);
        assert_eq!(older.partition, hires_partition("c"));
        assert_ne!(hires_partition("c"), due_partition(0));
    }

    #[test]
    fn deliveries_by_status_sort_newest_first_under_the_bound() {
        let older = delivery_by_status("p", "dead", 1_000, "e1", "w");
        let newer = delivery_by_status("p", "dead", 2_000, "e2", "w");
        assert!(newer.sort < older.sort);
        assert!(older.sort.as_str() <= DELIVERIES_BY_STATUS_UP_TO);
        assert_eq!(older.partition, deliveries_by_status_partition("p", "dead"));
    }
}
