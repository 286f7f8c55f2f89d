//! The file store contract on Amazon S3 (moto's server) and on a local directory: objects round
//! trip, absent ones read as absent, copies are server-side, and an upload URL takes a PUT of the
//! declared type and size.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use shared::clock::SystemClock;
use shared::files::{DirFileStore, FileStore, S3FileStore, StoredObject};

async fn s3() -> Option<Arc<dyn FileStore>> {
    let endpoint = shared::testing::moto_endpoint().await?;
    let config = shared::aws::sdk_config(Some(&endpoint)).await;
    let store = S3FileStore::new(&config, format!("hub-files-test-{}", uuid::Uuid::new_v4().simple()));
    store.ensure_bucket().await.expect("moto creates the bucket");
    store.ensure_bucket().await.expect("creating it again is no error");
    Some(Arc::new(store))
}

async fn contract(store: Arc<dyn FileStore>, http: &reqwest::Client) {
    let key = "submissions/conn-1/sub-1/0";
    assert_eq!(store.get(key).await.unwrap(), None);
    assert_eq!(store.head(key).await.unwrap(), None);
    store.put(key, "application/pdf", Bytes::from_static(b"%PDF-1.4 resume")).await.unwrap();
    assert_eq!(store.get(key).await.unwrap().unwrap(), Bytes::from_static(b"%PDF-1.4 resume"));
    assert_eq!(store.head(key).await.unwrap(), Some(StoredObject { size: 15, content_type: Some("application/pdf".into()) }));
    assert!(store.copy(key, "submissions/conn-1/sub-1/1").await.unwrap());
    assert!(!store.copy("uploads/conn-1/missing", "submissions/conn-1/sub-1/2").await.unwrap(), "nothing to copy");
    assert_eq!(store.get("submissions/conn-1/sub-1/1").await.unwrap().unwrap().len(), 15);
    store.delete(key).await.unwrap();
    store.delete(key).await.unwrap();
    assert_eq!(store.get(key).await.unwrap(), None);
    assert!(store.put("../escape", "text/plain", Bytes::new()).await.is_err(), "keys are plain paths");

    let put = store.presign_put("uploads/conn-1/u-1", "application/pdf", 5, Duration::from_secs(60)).await.unwrap();
    let header = |name: &str| put.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    assert_eq!(header("content-type").as_deref(), Some("application/pdf"));
    assert_eq!(header("content-length").as_deref(), Some("5"));
    let send = |body: &'static [u8]| {
        let mut req = http.put(&put.url).body(body);
        for (k, v) in &put.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req.send()
    };
    let res = send(b"%PDF-").await.unwrap();
    assert!(res.status().is_success(), "{} {:?}", res.status(), res.text().await);
    assert_eq!(store.head("uploads/conn-1/u-1").await.unwrap().map(|o| o.size), Some(5));
    // The URL takes one PUT: a second one, with other bytes of the same size, changes nothing.
    let again = send(b"MZ\x90\0\x03").await.unwrap();
    assert!(matches!(again.status().as_u16(), 409 | 412), "{} {:?}", again.status(), again.text().await);
    assert_eq!(store.get("uploads/conn-1/u-1").await.unwrap().unwrap(), Bytes::from_static(b"%PDF-"));
    assert_eq!(store.read_prefix("uploads/conn-1/u-1", 2).await.unwrap().unwrap(), Bytes::from_static(b"%P"));
    assert_eq!(store.read_prefix("uploads/conn-1/missing", 2).await.unwrap(), None);
}

#[tokio::test]
async fn s3_on_moto() {
    let Some(store) = s3().await else { return };
    contract(store, &reqwest::Client::new()).await;
}

#[tokio::test]
async fn local_directory_served_by_the_hub() {
    // The local store's upload URL is the hub's own `PUT /uploads/{token}`: serve it.
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = url::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let store = Arc::new(DirFileStore::new(dir.path(), Some(base), b"state key", Arc::new(SystemClock)).unwrap());
    let routes = shared::api::local_uploads::local_upload_routes(store.clone());
    tokio::spawn(async move { axum::serve(listener, routes).await });
    contract(store, &reqwest::Client::new()).await;
}
