//! Lever's cursor pagination: `limit` (1–100) and an opaque `offset` token copied from the previous
//! page's `next`. The token arrives already percent-encoded and goes back verbatim (see
//! `http::offset_param`). The last page has no `next` (and `hasNext: false`, or no `hasNext`).
//!
//! Two ways to walk a listing:
//! - page at a time with a [`Pager`] (callers that checkpoint the cursor between invocations);
//! - [`collect_all`] for small listings (stages, users, archive reasons).
//!
//! Both refuse a token seen before in the same walk ([`LeverError::PaginationLoop`]): a cursor
//! stuck on a page is an error, never an endless loop.

use std::collections::HashSet;
use std::future::Future;

use serde::{Deserialize, Serialize};

use super::error::{LeverError, LeverResult};
use super::wire::null_default;

/// Lever's maximum page size.
pub const MAX_LIMIT: u32 = 100;

/// One page of a listing: `{"data": [...], "next": "...", "hasNext": true}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct Page<T> {
    #[serde(default = "Vec::new", deserialize_with = "null_default")]
    pub data: Vec<T>,
    /// The next page's `offset`, verbatim. Missing (or empty) on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Missing on some endpoints (`/webhooks`): reads as false.
    #[serde(default, deserialize_with = "null_default")]
    pub has_next: bool,
}

impl<T> Page<T> {
    /// The cursor for the following page, or `None` when this is the last page. A missing `next`
    /// ends the listing even if `hasNext` claims otherwise (there is nothing to send back).
    pub fn next_offset(&self) -> Option<&str> {
        self.next.as_deref().filter(|n| !n.is_empty())
    }

    pub fn is_last(&self) -> bool {
        self.next_offset().is_none()
    }
}

/// Which page to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    /// `None` for the first page; otherwise a previous page's `next`, unchanged.
    pub offset: Option<String>,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        Self { limit: limit.clamp(1, MAX_LIMIT), offset: None }
    }

    pub fn after(limit: u32, offset: impl Into<String>) -> Self {
        Self { limit: limit.clamp(1, MAX_LIMIT), offset: Some(offset.into()) }
    }

    /// The effective limit, clamped to Lever's 1..=100.
    pub fn limit(&self) -> u32 {
        self.limit.clamp(1, MAX_LIMIT)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::first(MAX_LIMIT)
    }
}

/// Walks a listing one page at a time and guards against a repeated cursor.
///
/// ```no_run
/// # use shared::lever::*;
/// # async fn walk(api: &dyn LeverApi, auth: &LeverAuth) -> Result<(), LeverError> {
/// let mut pager = Pager::new(100);
/// while let Some(req) = pager.next_request() {
///     let page = api.list_postings(auth, &PostingsQuery::default(), req).await?;
///     pager.advance(&page)?; // errors on a repeated offset
///     let _checkpoint = pager.cursor(); // persist it; continue later with Pager::resume
///     for _posting in page.data { /* handle */ }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Pager {
    limit: u32,
    next: Option<String>,
    seen: HashSet<String>,
    done: bool,
    pages: u32,
}

impl Pager {
    pub fn new(limit: u32) -> Self {
        Self { limit: limit.clamp(1, MAX_LIMIT), next: None, seen: HashSet::new(), done: false, pages: 0 }
    }

    /// Continue a listing from a checkpointed cursor (`None` = from the start).
    pub fn resume(limit: u32, cursor: Option<String>) -> Self {
        let mut p = Self::new(limit);
        if let Some(c) = cursor {
            p.seen.insert(c.clone());
            p.next = Some(c);
        }
        p
    }

    /// The request for the next page, or `None` once the last page was seen.
    pub fn next_request(&self) -> Option<PageRequest> {
        (!self.done).then(|| PageRequest { limit: self.limit, offset: self.next.clone() })
    }

    /// Record a fetched page. Fails if its `next` token was already used in this walk.
    pub fn advance<T>(&mut self, page: &Page<T>) -> LeverResult<()> {
        self.pages += 1;
        match page.next_offset() {
            None => {
                if page.has_next {
                    tracing::warn!(pages = self.pages, "Lever said hasNext without a next token; treating as the last page");
                }
                self.done = true;
                self.next = None;
            }
            Some(next) => {
                if !self.seen.insert(next.to_owned()) {
                    self.done = true;
                    return Err(LeverError::PaginationLoop { pages: self.pages });
                }
                self.next = Some(next.to_owned());
            }
        }
        Ok(())
    }

    /// The offset of the next page to fetch (what to checkpoint); `None` at the start or the end.
    pub fn cursor(&self) -> Option<&str> {
        self.next.as_deref()
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    pub fn pages(&self) -> u32 {
        self.pages
    }
}

/// Fetch every page and concatenate them (for small listings). `max_pages` bounds the walk as a
/// second safety net besides the repeated-offset guard.
pub async fn collect_all<T, F, Fut>(limit: u32, max_pages: u32, mut fetch: F) -> LeverResult<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = LeverResult<Page<T>>>,
{
    let mut pager = Pager::new(limit);
    let mut all = Vec::new();
    while let Some(req) = pager.next_request() {
        if pager.pages() >= max_pages {
            return Err(LeverError::PaginationLoop { pages: pager.pages() });
        }
        let page = fetch(req).await?;
        pager.advance(&page)?;
        all.extend(page.data);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(next: Option<&str>) -> Page<u32> {
        Page { data: vec![1], next: next.map(str::to_owned), has_next: next.is_some() }
    }

    #[test]
    fn pager_stops_on_last_page_and_on_repeats() {
        let mut p = Pager::new(500);
        assert_eq!(p.next_request().unwrap().limit, 100, "limit clamped to 100");
        p.advance(&page(Some("a"))).unwrap();
        assert_eq!(p.next_request().unwrap().offset.as_deref(), Some("a"));
        p.advance(&page(Some("b"))).unwrap();
        p.advance(&page(None)).unwrap();
        assert!(p.next_request().is_none());
        assert_eq!(p.pages(), 3);

        let mut p = Pager::new(10);
        p.advance(&page(Some("a"))).unwrap();
        p.advance(&page(Some("b"))).unwrap();
        let err = p.advance(&page(Some("a"))).unwrap_err();
        assert!(matches!(err, LeverError::PaginationLoop { pages: 3 }), "{err:?}");
        assert!(p.next_request().is_none(), "a looping walk is over");
    }

    #[test]
    fn resumed_pager_refuses_its_own_start_cursor() {
        let mut p = Pager::resume(100, Some("x".into()));
        assert_eq!(p.next_request().unwrap().offset.as_deref(), Some("x"));
        assert!(p.advance(&page(Some("x"))).is_err());
    }

    #[test]
    fn missing_next_and_has_next_mean_last_page() {
        let p: Page<u32> = serde_json::from_str(r#"{"data":[1,2]}"#).unwrap();
        assert!(p.is_last() && !p.has_next);
        let p: Page<u32> = serde_json::from_str(r#"{"data":null,"hasNext":false}"#).unwrap();
        assert!(p.data.is_empty() && p.is_last());
        let p: Page<u32> = serde_json::from_str(r#"{"data":[],"hasNext":true,"next":"%5B1%5D"}"#).unwrap();
        assert_eq!(p.next_offset(), Some("%5B1%5D"));
    }

    #[tokio::test]
    async fn collect_all_errors_instead_of_looping_on_page_one() {
        let mut calls = 0;
        let err = collect_all(100, 1000, |_req| {
            calls += 1;
            async { Ok(page(Some("same-token"))) }
        })
        .await
        .unwrap_err();
        assert!(matches!(err, LeverError::PaginationLoop { .. }));
        assert_eq!(calls, 2, "second identical token is detected immediately");
    }
}
