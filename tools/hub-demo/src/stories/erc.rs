//! EmployeeReferrals.com (ERC): a candidate who applied on the careers page and is then
//! referred gets the ERC source on the same opportunity (no duplicate).

use serde_json::json;

use super::{Demo, strings};
use crate::report::{Failure, Story, check};

pub async fn run(d: &Demo) -> Result<(), Failure> {
    let s = Story::begin("ERC", "EmployeeReferrals.com referrals");
    let p = d.partner(&s, "employeereferrals")?;
    let email = d.email("ken");
    let (posting, applicant) = s
        .step("careers-page applicant", async {
            let title = format!("Support Engineer {}", d.run);
            let posting = d.lever.create_posting(&json!({"text": title, "state": "published", "distributionChannels": ["public"]})).await?;
            let opp = d.lever.apply(&posting, "Ken Thompson", &email).await?;
            let o = d.lever.opportunity(&opp).await?;
            check(strings(&o["sources"]) == ["Job site"], "source Job site", &o["sources"])?;
            Ok(((posting, opp.clone()), format!("Ken Thompson applies to \"{title}\" on the careers page: opportunity {opp}, source \"Job site\"")))
        })
        .await?;
    let connection = d.connect(&s, &p).await?;
    d.settings(&s, &p, &connection).await?;
    s.step("referral", async {
        let body = json!({
            "kind": "referral",
            "candidate": {"name": "Ken Thompson", "emails": [email]},
            "postings": [posting],
            "referrer": {"name": "Sam Employee", "email": "sam@customer.example"},
        });
        let c = d.submit(&p, &connection, "erc-referral", &body).await?;
        check(
            c["state"] == "updated" && c["lever"]["opportunity_id"] == applicant.as_str(),
            format!("state updated on {applicant}"),
            (&c["state"], &c["lever"]),
        )?;
        let o = d.lever.opportunity(&applicant).await?;
        let sources = strings(&o["sources"]);
        check(sources.iter().any(|s| s == "ERC"), "the ERC source added", &sources)?;
        let all = d.lever.opportunities_by_email(&email).await?;
        check(all.len() == 1, "one opportunity for the candidate", all.len())?;
        Ok(((), format!("Sam refers Ken through ERC: the same opportunity {applicant} now has sources {}; no duplicate", sources.join(", "))))
    })
    .await
}
