//! The template checks fail when the template is wrong: one deliberately broken template for
//! each check (a renamed variable, a missing policy statement, a route left out), each run as
//! the stack and each failing with the function, the name and what to fix.

mod common;

use common::{RunningStack, edited_template};
use serde_json::Value;

fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_owned)).collect()
}

async fn checks_of(template: &std::path::Path) -> (Value, RunningStack) {
    let stack = RunningStack::start(&["--consent", "auto", "--template", template.to_str().unwrap()]);
    let checks = stack.checks().await;
    (checks, stack)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_environment_variable_fails_the_environment_check() {
    let work = tempfile::tempdir().unwrap();
    let template = edited_template(work.path(), |t| t.replacen("        HUB_TABLE: !Ref HubTable", "        HUB_TABLE_NAME: !Ref HubTable", 1));
    let (checks, stack) = checks_of(&template).await;
    assert_eq!(checks["passed"], false, "{checks}");
    let environment = strings(&checks["checks"]["environment"]);
    for function in ["partner-api", "candidate-writer", "dispatcher"] {
        assert!(
            environment.contains(&format!("{function} reads HUB_TABLE, which the template does not set for it")),
            "{function} is named: {environment:#?}"
        );
        assert!(
            environment.contains(&format!("the template sets HUB_TABLE_NAME for {function}, which never reads it")),
            "{function}'s unread variable is named: {environment:#?}"
        );
    }
    // The check the stack runs at start says so too.
    common::wait_for("the start-up checks printed", std::time::Duration::from_secs(60), || async {
        stack.output().contains("Stack checks FAILED").then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_policy_statement_fails_the_iam_check() {
    let work = tempfile::tempdir().unwrap();
    let template = edited_template(work.path(), |t| {
        let function = t.find("  PartnerApiFunction:").expect("PartnerApiFunction");
        let line = "        - AWSSecretsManagerGetSecretValuePolicy: { SecretArn: !Ref TokenKeySecret }\n";
        let at = function + t[function..].find(line).expect("its token key policy");
        format!("{}{}", &t[..at], &t[at + line.len()..])
    });
    let (checks, _stack) = checks_of(&template).await;
    assert_eq!(checks["passed"], false, "{checks}");
    let iam = strings(&checks["checks"]["iam"]);
    let denied = iam.iter().find(|l| l.starts_with("partner-api called secretsmanager:GetSecretValue on ")).unwrap_or_else(|| panic!("{iam:#?}"));
    assert!(denied.contains("/hub/token-key"), "the secret is named: {denied}");
    assert!(denied.contains("no statement of its Policies allows it; add {Effect: Allow, Action: secretsmanager:GetSecretValue"), "{denied}");
    assert!(iam.iter().all(|l| l.starts_with("partner-api ")), "only the function whose statement went: {iam:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_left_out_fails_the_route_check() {
    let work = tempfile::tempdir().unwrap();
    let template = edited_template(work.path(), |t| {
        let retry = "        Retry:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref HttpApi\n            Method: ANY\n            Path: /v1/connections/{id}/candidates/{candidate_id}/retry\n";
        assert!(t.contains(retry), "CandidatesApi's Retry route");
        t.replacen(retry, "", 1)
    });
    let (checks, stack) = checks_of(&template).await;
    assert_eq!(checks["passed"], false, "{checks}");
    let routes = strings(&checks["checks"]["routes"]);
    assert!(
        routes.iter().any(|l| l.starts_with("POST /v1/connections/{id}/candidates/{candidate_id}/retry (docs/openapi.yaml): ")),
        "the operation the template no longer routes: {routes:#?}"
    );
    assert_eq!(routes.len(), 1, "only that one: {routes:#?}");
    // And a partner calling it gets what API Gateway would give, not the candidates function.
    let key = stack.key("hireup");
    let answer = stack.http.post(format!("{}/v1/connections/c/candidates/s/retry", stack.hub)).bearer_auth(key).send().await.unwrap();
    assert_eq!(answer.status(), 404);
}
