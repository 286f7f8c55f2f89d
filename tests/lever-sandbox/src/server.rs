//! Accept loop. We drive hyper ourselves instead of `axum::serve` so a fault
//! rule can drop a connection without answering (see `ConnKill`).

use std::sync::Arc;

use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::Shared;

/// Request extension: notifying it closes the underlying connection.
#[derive(Clone)]
pub struct ConnKill(pub Arc<Notify>);

pub fn router(shared: Shared) -> Router {
    Router::new()
        .merge(crate::oauth::routes(shared.clone()))
        .merge(crate::data::routes(shared.clone()))
        .merge(crate::admin_http::routes(shared.clone()))
        .fallback(crate::data::not_found)
        .method_not_allowed_fallback(crate::data::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), crate::gate::persist_layer))
        // Lever accepts files up to 30 MB; leave room for multipart framing.
        .layer(axum::extract::DefaultBodyLimit::max(40 * 1024 * 1024))
}

/// The routes the start address serves: those of the account, or, when the account lives in
/// the EU data centre, Lever's global hosts in front of them (see `eu`).
pub fn global_router(shared: Shared) -> Router {
    router(shared.clone()).layer(axum::middleware::from_fn_with_state(shared, crate::eu::global_layer))
}

pub async fn serve(listener: TcpListener, app: Router) {
    // Dropping the JoinSet (when this task is aborted) aborts every connection task.
    let mut conns = JoinSet::new();
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        while conns.try_join_next().is_some() {}
        let app = app.clone();
        conns.spawn(async move {
            let kill = Arc::new(Notify::new());
            let k2 = kill.clone();
            let svc = hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnKill(k2.clone()));
                let app = app.clone();
                async move { app.oneshot(req.map(axum::body::Body::new)).await }
            });
            let conn = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = kill.notified() => {}
            }
        });
    }
}
