//! The repeated-offset guard over real HTTP, against a tiny local server that keeps answering the
//! same `next` token (the "cursor silently looping on page 1" failure). Also checks on the wire
//! that the token arrives byte for byte as Lever sent it.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use shared::lever::*;

const TOKEN: &str = "%5B3%2C1491435120000%2C%225599cc20-349f-4b60-b531-6fe31e329717%22%5D";

async fn serve(queries: Arc<Mutex<Vec<String>>>) -> String {
    let app = Router::new()
        .route(
            "/v1/postings",
            get(|State(q): State<Arc<Mutex<Vec<String>>>>, RawQuery(raw): RawQuery| async move {
                q.lock().unwrap().push(raw.unwrap_or_default());
                // Always "page one" with the same cursor.
                axum::Json(serde_json::json!({
                    "data": [{"id": "p1", "text": "Looping posting", "state": "published"}],
                    "next": TOKEN,
                    "hasNext": true
                }))
            }),
        )
        .with_state(queries);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_repeated_offset_is_an_error_not_an_endless_loop() {
    let queries = Arc::new(Mutex::new(Vec::new()));
    let base = serve(queries.clone()).await;
    let client = LeverHttpClient::new(LeverConfig::local(&base, "id", Secret::new("secret")).unwrap()).unwrap();
    let auth = LeverAuth::bearer("conn-loop", Secret::new("token"));
    let api: Arc<dyn LeverApi> = Arc::new(client);

    let result = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        collect_all(100, 1_000, |req| {
            let api = api.clone();
            let auth = auth.clone();
            async move { api.list_postings(&auth, &PostingsQuery::default(), req).await }
        }),
    )
    .await
    .expect("the walk must end by itself");
    assert!(matches!(result, Err(LeverError::PaginationLoop { pages: 2 })), "{result:?}");

    let seen = queries.lock().unwrap().clone();
    assert_eq!(seen, vec!["limit=100".to_owned(), format!("limit=100&offset={TOKEN}")], "token sent back verbatim, once");

    // Page at a time: the same guard in the Pager.
    let mut pager = Pager::new(50);
    let first = api.list_postings(&auth, &PostingsQuery::default(), pager.next_request().unwrap()).await.unwrap();
    pager.advance(&first).unwrap();
    let second = api.list_postings(&auth, &PostingsQuery::default(), pager.next_request().unwrap()).await.unwrap();
    assert!(matches!(pager.advance(&second), Err(LeverError::PaginationLoop { .. })));
    assert!(pager.next_request().is_none());
}
