//! Outhire (job ads): imports only open postings on the internal or external job site (never
//! unlisted or closed ones), and pushes an application back as a tagged lead attributed to the
//! user chosen at setup.

use reqwest::Method;
use serde_json::json;

use super::{Demo, b64, pdf, strings};
use crate::api::file_bytes;
use crate::report::{Failure, Story, check};

pub async fn run(d: &Demo) -> Result<(), Failure> {
    let s = Story::begin("Outhire", "job descriptions and ads");
    let p = d.partner(&s, "outhire")?;
    let kinds = [
        ("external", json!({"state": "published", "distributionChannels": ["public"]}), true),
        ("internal", json!({"state": "published", "distributionChannels": ["internal"]}), true),
        ("unlisted", json!({"state": "internal"}), false),
        ("closed", json!({"state": "closed"}), false),
    ];
    let postings = s
        .step("Lever postings", async {
            let mut made = vec![];
            for (kind, fields, open) in &kinds {
                let mut body = fields.clone();
                body["text"] = json!(format!("Designer {} ({kind})", d.run));
                made.push((*kind, d.lever.create_posting(&body).await?, *open));
            }
            Ok((made, "a recruiter has four postings: open on the external site, open on the internal site, unlisted, closed".to_owned()))
        })
        .await?;
    let connection = d.connect(&s, &p).await?;
    let chosen = d.settings(&s, &p, &connection).await?;

    s.step("jobs", async {
        let mut imported = vec![];
        for (kind, id, _) in postings.iter().filter(|(_, _, open)| *open) {
            let job = d.job_in_feed(&p, &connection, id).await?;
            imported.push(format!("{kind} ({})", strings(&job["distribution"]).join("+")));
        }
        // The open ones are in, so the pass that listed them also saw the other two.
        let mut left_out = vec![];
        for (kind, id, _) in postings.iter().filter(|(_, _, open)| !*open) {
            let (status, job) = p.call(Method::GET, &format!("/v1/connections/{connection}/jobs/{id}"), None, None).await?;
            check(!status.is_success() || job["status"] != "open", format!("the {kind} posting not imported"), &job)?;
            left_out.push(*kind);
        }
        Ok(((), format!("imports {}; leaves out {}", imported.join(" and "), left_out.join(" and "))))
    })
    .await?;

    s.step("application", async {
        let (user, name) = chosen.clone().ok_or_else(|| anyhow::anyhow!("expected the perform_as setting to be required and chosen"))?;
        let posting = &postings[0].1;
        let resume = pdf(&format!("resume of Bea {}", d.run), 9_000);
        let body = json!({
            "kind": "application",
            "candidate": {"name": "Bea Ray", "emails": [d.email("bea")]},
            "postings": [posting],
            "files": [{"name": "bea.pdf", "content_type": "application/pdf", "role": "resume", "content_base64": b64(&resume)}],
        });
        let c = d.submit(&p, &connection, "outhire-application", &body).await?;
        let opp = c["lever"]["opportunity_id"].as_str().unwrap_or_default().to_owned();
        let o = d.lever.opportunity(&opp).await?;
        check(o["stage"] == "lead-new", "stage lead-new (New lead)", &o["stage"])?;
        let tags = strings(&o["tags"]);
        check(tags.iter().any(|t| t == "Outhire"), "tag Outhire", &tags)?;
        check(o["owner"] == user.as_str(), format!("owner {name}"), &o["owner"])?;
        check(file_bytes(&o["resume"]).as_deref() == Some(resume.as_slice()), "the resume, byte for byte", &o["resume"]["name"])?;
        Ok(((), format!("the application is lead {opp} in \"New lead\", tagged Outhire, owned by {name}, with the resume")))
    })
    .await
}
