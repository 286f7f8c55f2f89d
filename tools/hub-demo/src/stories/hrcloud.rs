//! HR Cloud (HRIS): a hire made in Lever reaches the partner within seconds as an employee with
//! the article's 11 fields.

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::{Demo, later};
use crate::report::{Failure, Story, check};

const DAY_MS: i64 = 86_400_000;

pub async fn run(d: &Demo) -> Result<(), Failure> {
    let s = Story::begin("HR Cloud", "HRIS");
    let p = d.partner(&s, "hrcloud")?;
    let connection = d.connect(&s, &p).await?;
    d.settings(&s, &p, &connection).await?;
    let title = format!("Flight Engineer {}", d.run);
    let email = d.email("katherine");
    let (opportunity, manager) = s
        .step("candidate", async {
            let users = p.get(&format!("/v1/connections/{connection}/lever/users")).await?;
            let c = p.get(&format!("/v1/connections/{connection}")).await?;
            let manager = users["data"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|u| u["id"] != c["lever"]["authorized_by_user_id"])
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("no Lever user to be the hiring manager"))?;
            let posting = d
                .lever
                .create_posting(&json!({
                    "text": title, "state": "published", "distributionChannels": ["public"],
                    "categories": {"department": "Engineering", "team": "Flight Research", "location": "Hampton", "commitment": "Full-time"},
                    "hiringManager": manager["id"],
                }))
                .await?;
            let opp = d.lever.apply(&posting, "Katherine Coleman Johnson", &email).await?;
            let name = manager["name"].as_str().unwrap_or_default().to_owned();
            Ok(((opp.clone(), name.clone()), format!("Katherine Coleman Johnson applies to \"{title}\" (hiring manager {name}): opportunity {opp}")))
        })
        .await?;

    s.step("hire", async {
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        let start_ms = (now_ms / DAY_MS + 30) * DAY_MS;
        let start = time::OffsetDateTime::from_unix_timestamp(start_ms / 1000)?.date().to_string();
        let hired_at = Instant::now();
        d.lever.post(&format!("/opportunities/{opportunity}/hire"), &json!({"start_date_ms": start_ms})).await?;
        let (event, arrived) = d.event(&p, &connection, "hire.created", |e| e["data"]["id"] == opportunity.as_str()).await?;
        // The article's mapping, in its order.
        let expected: [(&str, &str); 11] = [
            ("First Name", "Katherine"),
            ("Middle Name", "Coleman"),
            ("Last Name", "Johnson"),
            ("Email", &email),
            ("Position", &title),
            ("Department", "Engineering"),
            ("Location", "Hampton"),
            ("Employment Type", "Full-time"),
            ("Manager", &manager),
            ("Start Date", &start),
            ("Employee Number", &opportunity),
        ];
        let fields = event["data"]["fields"].as_object().cloned().unwrap_or_default();
        let differing: Map<String, Value> = expected
            .iter()
            .filter(|(k, v)| fields.get(*k).and_then(Value::as_str) != Some(*v))
            .map(|(k, _)| ((*k).to_owned(), fields.get(*k).cloned().unwrap_or(Value::Null)))
            .collect();
        check(
            differing.is_empty() && fields.len() == expected.len(),
            format!("the 11 fields {expected:?}"),
            json!({"differing": differing, "field_count": fields.len()}),
        )?;
        let shown: Vec<String> = expected.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        Ok(((), format!("hire.created reached HR Cloud {} after the hire in Lever, 11 fields: {}", later(hired_at, arrived), shown.join("; "))))
    })
    .await
}
