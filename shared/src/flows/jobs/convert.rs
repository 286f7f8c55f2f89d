//! Lever's posting (the adapter's wire type) as the core's plain input.

use crate::core::job::{PostingInput, PostingListInput, SalaryRangeInput};
use crate::lever::model::Posting;

pub fn posting_input(p: &Posting) -> PostingInput {
    let hiring_manager = p.hiring_manager.as_ref();
    let expanded = hiring_manager.and_then(|h| h.expanded());
    let urls = p.urls.clone().unwrap_or_default();
    PostingInput {
        id: p.id.clone(),
        text: Some(p.text.clone()),
        state: p.state.as_ref().map(|s| s.as_str().to_owned()),
        distribution_channels: Some(p.distribution_channels.iter().map(|c| c.as_str().to_owned()).collect()),
        confidentiality: p.confidentiality.clone(),
        team: p.categories.team.clone(),
        department: p.categories.department.clone(),
        location: p.categories.location.clone(),
        all_locations: Some(p.categories.all_locations.clone()),
        commitment: p.categories.commitment.clone(),
        tags: Some(p.tags.clone()),
        description: p.content.description.clone(),
        description_html: p.content.description_html.clone(),
        lists: Some(p.content.lists.iter().map(|l| PostingListInput { text: Some(l.text.clone()), content: Some(l.content.clone()) }).collect()),
        closing: p.content.closing.clone(),
        closing_html: p.content.closing_html.clone(),
        salary_range: p.salary_range.as_ref().map(|r| SalaryRangeInput {
            min: r.min,
            max: r.max,
            currency: r.currency.clone(),
            interval: r.interval.clone(),
        }),
        salary_description: p.salary_description.clone(),
        salary_description_html: p.salary_description_html.clone(),
        workplace_type: p.workplace_type.as_ref().map(|w| w.as_str().to_owned()),
        hiring_manager: hiring_manager.map(|h| h.id().to_owned()),
        hiring_manager_name: expanded.map(|u| u.name.clone()),
        hiring_manager_email: expanded.and_then(|u| u.email.clone()),
        requisition_codes: Some(p.requisition_codes.clone()),
        req_code: p.req_code.clone(),
        country: p.country.clone(),
        hosted_url: urls.show,
        apply_url: urls.apply,
        updated_at: p.updated_at.map(|m| m.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::job::{Job, WorkplaceType};

    #[test]
    fn a_documented_posting_becomes_a_job() {
        // lever-api.md §7.1, with the hiring manager expanded.
        let p: Posting = serde_json::from_value(serde_json::json!({
            "id": "3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e", "text": "Senior Backend Engineer", "state": "published",
            "distributionChannels": ["public", "internal"], "confidentiality": "non-confidential",
            "hiringManager": {"id": "e2befaae-b830-4c21-a002-2d5019486d1a", "name": "Rachel", "email": "rachel@acme.example"},
            "categories": {"team": "Platform", "department": "Engineering", "location": "Berlin",
                           "allLocations": ["Berlin", "Remote - EU"], "commitment": "Full-time", "level": null},
            "tags": ["backend", "referralbonus:3000"],
            "content": {"description": "You will build.", "descriptionHtml": "<div>You will build.</div>",
                        "lists": [{"text": "Requirements", "content": "<li>Rust</li>"}], "closing": "EOE", "closingHtml": "<div>EOE</div>"},
            "country": "DE", "reqCode": "ENG-42", "requisitionCodes": ["ENG-42"],
            "salaryDescription": "Plus equity.", "salaryRange": {"min": 80000, "max": 110000, "currency": "EUR", "interval": "per-year-salary"},
            "urls": {"list": "https://jobs.lever.co/acme", "show": "https://jobs.lever.co/acme/3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e",
                     "apply": "https://jobs.lever.co/acme/3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e/apply"},
            "workplaceType": "on-site", "createdAt": 1717000000000u64, "updatedAt": 1717500000000u64
        }))
        .unwrap();
        let j = Job::from_posting(&posting_input(&p)).unwrap();
        assert_eq!(j.workplace_type, Some(WorkplaceType::Onsite), "the public API's spelling too");
        assert_eq!(j.requisition_codes, vec!["ENG-42"]);
        assert_eq!(j.hiring_manager.unwrap().name.as_deref(), Some("Rachel"));
        assert_eq!(j.locations, vec!["Berlin", "Remote - EU"]);
        assert_eq!(j.apply_url.as_deref(), Some("https://jobs.lever.co/acme/3c0e5b8a-1f2d-4e6a-9b7c-2d4f6a8b0c1e/apply"));
        assert_eq!(j.updated_at, Some(1717500000000));
    }
}
