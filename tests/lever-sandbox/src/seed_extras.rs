//! What a real account has on its candidates besides their candidacy: notes, referral forms
//! and a location on (almost) every opportunity. Seeded after the candidates, from a random
//! stream of its own (derived from the same seed), so the ids and picks of everything seeded
//! before stay what they were: tests that count or name seeded things are not moved.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::state::*;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

/// The first seeded candidates are the ones tests write to (a note, a stage move) and then
/// read back by position: they get no seeded notes or referrals.
const UNTOUCHED: usize = 8;

const NOTES: &[&str] = &[
    "Phone screen went well: clear on fundamentals, wants a team that ships often.",
    "Asked to be contacted again after the 15th; currently on a notice period.",
    "Salary expectations are within the posted range.",
    "Portfolio reviewed: strong on systems work, less on front end.",
];
const REPLIES: &[&str] = &["Agreed, moving forward.", "Noted, I'll follow up."];
const RELATIONSHIPS: &[&str] = &["Former colleague", "Friend", "Classmate", "Other"];

fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid().to_string()
}

/// Adds the notes, referrals and locations; `users` are the active users who write them.
pub fn add(seed: u64, st: &mut State, users: &[String]) {
    // Any fixed offset gives a stream independent of the candidates' one.
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6e6f_7465_7265_6673);
    let template = uuid(&mut rng);
    let names: Vec<(String, String)> = st.users.iter().map(|u| (u.id.clone(), u.name.clone())).collect();
    let name_of = |id: &str| names.iter().find(|(i, _)| i == id).map(|(_, n)| n.clone()).unwrap_or_default();
    for i in 0..st.opportunities.len() {
        let location = {
            let o = &st.opportunities[i];
            st.contacts.get(&o.contact).map(|c| c.location.clone())
        };
        let Some(o) = st.opportunities.get_mut(i) else { break };
        // Lever's recordings: 971 of 1,004 opportunities have a location. A candidate who did
        // not apply to a posting has the contact's; one in forty has none at all.
        if o.opportunity_location.is_none() && i % 40 != 39 {
            o.opportunity_location = location.filter(|l| !l.is_empty());
        }
        if i < UNTOUCHED {
            continue;
        }
        let author = o.owner.clone().unwrap_or_else(|| users[i % users.len()].clone());
        let first_stage = o.stage_changes.first().map(|s| s.to_stage_id.clone()).unwrap_or_else(|| o.stage.clone());
        // Notes never postdate the candidate's last update, as in Lever, so "updated since"
        // listings are unchanged by them.
        let at = |k: i64| (o.created_at + k * HOUR_MS).min(o.updated_at);
        if i % 3 == 0 {
            for n in 0..=(i / 3) % 2 {
                let created = at(n as i64 + 1);
                let mut comments = vec![NoteComment {
                    value: NOTES[(i + n) % NOTES.len()].into(),
                    score: None,
                    stage: first_stage.clone(),
                    user: Some(author.clone()),
                    created_at: created,
                }];
                if (i + n) % 4 == 1 {
                    let replier = users[(i + 1) % users.len()].clone();
                    comments.push(NoteComment {
                        value: REPLIES[i % REPLIES.len()].into(),
                        score: None,
                        stage: first_stage.clone(),
                        user: Some(replier),
                        created_at: (created + 5 * MINUTE_MS).min(o.updated_at),
                    });
                }
                o.notes.push(Note { id: uuid(&mut rng), comments, user: Some(author.clone()), secret: false, created_at: created });
            }
        }
        // Referred candidates come with the form their referrer filled in.
        if o.origin == "referred" {
            let referrer = users[(i * 7 + 3) % users.len()].clone();
            let created = (o.created_at + MINUTE_MS).min(o.updated_at);
            o.referrals.push(Referral {
                id: uuid(&mut rng),
                text: "Referral".into(),
                instructions: "Tell us how you know the candidate and why they would do well here.".into(),
                base_template_id: template.clone(),
                fields: referral_fields(&name_of(&referrer), i),
                user: referrer.clone(),
                referrer: Some(referrer),
                stage: first_stage,
                created_at: created,
                completed_at: created,
            });
        }
    }
}

fn referral_fields(referrer_name: &str, i: usize) -> Vec<ReferralField> {
    let field = |kind: &str, text: &str, required: bool, value: &str| ReferralField {
        kind: kind.into(),
        text: text.into(),
        description: String::new(),
        required,
        value: Some(value.into()),
        prompt: None,
        options: None,
    };
    vec![
        field("text", "Name of referrer", true, referrer_name),
        ReferralField {
            prompt: Some("How do you know the candidate?".into()),
            options: Some(RELATIONSHIPS.iter().map(|r| r.to_string()).collect()),
            ..field("dropdown", "Relationship", true, RELATIONSHIPS[i % RELATIONSHIPS.len()])
        },
        field("textarea", "Comments", false, "We worked together for two years; dependable and quick to learn."),
    ]
}
