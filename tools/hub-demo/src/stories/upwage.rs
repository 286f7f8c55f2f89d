//! Upwage (AI screening): the screener is tied to a posting by its Lever-hosted job URL; a
//! screening result for someone not in Lever creates the candidate with the result tag and the
//! transcript.

use serde_json::json;

use super::{Demo, b64, pdf, strings};
use crate::api::file_bytes;
use crate::report::{Failure, Story, check};

pub async fn run(d: &Demo) -> Result<(), Failure> {
    let s = Story::begin("Upwage", "AI screening");
    let p = d.partner(&s, "upwage")?;
    let (posting, hosted) = s
        .step("Lever posting", async {
            let title = format!("Cashier {}", d.run);
            let id = d.lever.create_posting(&json!({"text": title, "state": "published", "distributionChannels": ["public"]})).await?;
            let hosted = d.hosted_url(&id).await?;
            Ok(((id, hosted.clone()), format!("a recruiter publishes \"{title}\" at {hosted}")))
        })
        .await?;
    let connection = d.connect(&s, &p).await?;
    d.settings(&s, &p, &connection).await?;
    s.step("resolve", async {
        let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("url", &hosted).finish();
        let job = p.get(&format!("/v1/connections/{connection}/jobs/resolve?{q}")).await?;
        check(job["id"] == posting.as_str(), format!("posting {posting}"), &job["id"])?;
        Ok(((), format!("the hosted job URL resolves to posting {posting} (\"{}\")", job["title"].as_str().unwrap_or_default())))
    })
    .await?;
    s.step("screening", async {
        let transcript = pdf(&format!("SuperScreener transcript {}", d.run), 18_000);
        let email = d.email("dennis");
        let body = json!({
            "kind": "screening",
            "candidate": {"name": "Dennis Ritchie", "emails": [email]},
            "postings": [hosted],
            "screening": {"status": "passed", "score": 91, "summary": "Clear and friendly."},
            "files": [{"name": "SuperScreener.pdf", "content_type": "application/pdf", "role": "transcript", "content_base64": b64(&transcript)}],
        });
        let c = d.submit(&p, &connection, "upwage-screening", &body).await?;
        check(c["state"] == "created", "a new candidate (state created)", &c["state"])?;
        let opp = c["lever"]["opportunity_id"].as_str().unwrap_or_default().to_owned();
        let o = d.lever.opportunity(&opp).await?;
        let tags = strings(&o["tags"]);
        check(tags.iter().any(|t| t == "UW Screened: PASSED"), "tag \"UW Screened: PASSED\"", &tags)?;
        check(strings(&o["postings"]) == [posting.clone()], format!("on posting {posting}"), &o["postings"])?;
        let files = o["files"].as_array().cloned().unwrap_or_default();
        check(
            files.iter().any(|f| f["name"] == "SuperScreener.pdf" && file_bytes(f).as_deref() == Some(transcript.as_slice())),
            "the transcript SuperScreener.pdf, byte for byte",
            files.iter().map(|f| f["name"].clone()).collect::<Vec<_>>(),
        )?;
        Ok((
            (),
            format!(
                "candidate {opp} created in Lever with tag \"UW Screened: PASSED\" and the transcript SuperScreener.pdf ({} bytes, identical)",
                transcript.len()
            ),
        ))
    })
    .await
}
