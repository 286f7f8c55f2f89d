//! HireUp (employee referrals): connect; the job feed shows the referral bonus; a referral with
//! resume and endorsement lands in "New applicant" with source HireUp; a stage change in Lever
//! reaches the partner as a signed event.

use serde_json::json;

use super::{Demo, b64, later, pdf, strings};
use crate::api::file_bytes;
use crate::report::{Failure, Story, check};

pub async fn run(d: &Demo) -> Result<(), Failure> {
    let s = Story::begin("HireUp", "employee referrals");
    let p = d.partner(&s, "hireup")?;
    let title = format!("Referral Analyst {}", d.run);
    let bonus_tag = "referralbonus:3000 USD";
    let posting = s
        .step("Lever posting", async {
            let body = json!({"text": title, "state": "published", "distributionChannels": ["public"], "tags": [bonus_tag]});
            let id = d.lever.create_posting(&body).await?;
            Ok((id.clone(), format!("a recruiter publishes \"{title}\" ({id}) on the external job site, tagged \"{bonus_tag}\"")))
        })
        .await?;
    let connection = d.connect(&s, &p).await?;
    d.settings(&s, &p, &connection).await?;

    // The profile includes the referral bonus (`flows.jobs.include.referral_bonus`), read from
    // the posting's `referralbonus:` tag.
    s.step("jobs", async {
        let job = d.job_in_feed(&p, &connection, &posting).await?;
        let bonus = &job["referral_bonus"];
        check(bonus["amount"].as_f64() == Some(3000.0) && bonus["currency"] == "USD", "referral_bonus 3000 USD", bonus)?;
        check(job["distribution"] == json!(["public"]), "an external job", &job["distribution"])?;
        Ok((
            (),
            format!(
                "\"{}\" is in the job feed with referral_bonus {} {} (from the posting tag)",
                job["title"].as_str().unwrap_or_default(),
                bonus["amount"].as_f64().unwrap_or_default(),
                bonus["currency"].as_str().unwrap_or_default()
            ),
        ))
    })
    .await?;

    let email = d.email("ada");
    let resume = pdf(&format!("resume of Ada {}", d.run), 24_000);
    let endorsement = "Ada ran our analytics guild for two years; the best analyst I have worked with.";
    let opportunity = s
        .step("referral", async {
            let body = json!({
                "kind": "referral",
                "candidate": {"name": "Ada Lovelace", "emails": [email]},
                "postings": [posting],
                "referrer": {"name": "Grace Hopper", "email": "grace@customer.example"},
                "endorsement": endorsement,
                "files": [{"name": "ada-cv.pdf", "content_type": "application/pdf", "role": "resume", "content_base64": b64(&resume)}],
            });
            let c = d.submit(&p, &connection, "hireup-referral", &body).await?;
            let opp = c["lever"]["opportunity_id"].as_str().unwrap_or_default().to_owned();
            let o = d.lever.opportunity(&opp).await?;
            let stage_name = d.stages(&p, &connection).await?.into_iter().find(|(id, _)| o["stage"] == id.as_str()).map(|(_, n)| n);
            check(stage_name.as_deref() == Some("New applicant"), "Lever stage \"New applicant\"", (&o["stage"], &stage_name))?;
            check(strings(&o["sources"]) == ["HireUp"], "source HireUp", &o["sources"])?;
            check(file_bytes(&o["resume"]).as_deref() == Some(resume.as_slice()), "the resume, byte for byte", &o["resume"]["name"])?;
            let notes: Vec<String> = o["notes"].as_array().into_iter().flatten().flat_map(|n| strings(&n["values"])).collect();
            check(notes.iter().any(|n| n.contains(endorsement) && n.contains("Grace Hopper")), "a note with the endorsement and the referrer", &notes)?;
            Ok((
                opp.clone(),
                format!(
                    "opportunity {opp} in Lever: stage \"New applicant\" ({}), source HireUp, resume ada-cv.pdf ({} bytes, identical), endorsement note by Grace Hopper",
                    o["stage"].as_str().unwrap_or_default(),
                    resume.len()
                ),
            ))
        })
        .await?;

    s.step("stage change", async {
        let stages = d.stages(&p, &connection).await?;
        let (stage, name) = stages
            .iter()
            .skip_while(|(id, _)| id != "applicant-new")
            .nth(1)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no stage after New applicant in {stages:?}"))?;
        let moved_at = std::time::Instant::now();
        d.lever.post(&format!("/opportunities/{opportunity}/stage"), &json!({"stage": stage})).await?;
        let (event, arrived) = d.event(&p, &connection, "candidate.stage_changed", |e| e["data"]["opportunity_id"] == opportunity.as_str()).await?;
        let data = &event["data"];
        check(data["stage"]["id"] == stage.as_str(), format!("stage {stage}"), &data["stage"])?;
        check(data["previous_stage"]["id"] == "applicant-new", "previous stage applicant-new", &data["previous_stage"])?;
        Ok((
            (),
            format!(
                "a recruiter moves the candidate to \"{name}\"; candidate.stage_changed (stage \"{}\") reached the partner {} later, Hub-Signature verified",
                data["stage"]["name"].as_str().unwrap_or(&name),
                later(moved_at, arrived)
            ),
        ))
    })
    .await
}
