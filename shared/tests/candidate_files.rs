//! Candidate documents through the partner API and the hub's own upload URLs (as hub-local
//! serves them), over the embedded store and the Lever sandbox: the bytes must be what their
//! type says, names display as what they are and Lever's extension is the checked kind's, a
//! submission has a cap on files and bytes, an upload URL takes one PUT and an upload serves one
//! submission, and every refusal of the upload route is a problem document.

mod common;

use base64::Engine as _;
use common::{LocalHub, Request};
use serde_json::{Value, json};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n";
/// A Windows executable's first bytes, with a PDF signature tucked in its DOS stub.
const EXE: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00%PDF-1.4 not really";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

struct Partner {
    h: LocalHub,
    key: String,
    id: String,
    posting: String,
}

async fn partner() -> Partner {
    let h = LocalHub::start().await;
    let key = h.partner("hireup").await;
    let id = h.connect(&key, "hireup").await;
    let posting = h.sandbox.admin().create_posting(json!({"text": "Files", "state": "published"})).unwrap();
    Partner { h, key, id, posting }
}

impl Partner {
    fn referral(&self, email: &str, files: Value) -> Value {
        json!({"kind": "referral", "candidate": {"name": "Ada", "emails": [email]}, "postings": [self.posting],
               "referrer": {"name": "Grace"}, "files": files})
    }

    async fn submit(&self, key: &str, body: &Value) -> (u16, Value) {
        let req = Request::new("POST", format!("/v1/connections/{}/candidates", self.id)).key(&self.key).header("idempotency-key", key).json(body);
        let a = self.h.send(req).await;
        (a.status, a.json())
    }

    async fn create_upload(&self, name: &str, content_type: &str, size: usize) -> (u16, Value) {
        let req = Request::new("POST", format!("/v1/connections/{}/uploads", self.id))
            .key(&self.key)
            .json(&json!({"name": name, "content_type": content_type, "size_bytes": size}));
        let a = self.h.send(req).await;
        (a.status, a.json())
    }

    /// The hub's path of an upload's URL.
    fn put_path(upload: &Value) -> String {
        upload["upload_url"].as_str().unwrap().strip_prefix(common::PUBLIC_URL).unwrap().to_owned()
    }

    async fn put(&self, upload: &Value, bytes: &[u8]) -> common::Answer {
        let content_type = upload["content_type"].as_str().unwrap();
        self.h.send_to_hub(Request::new("PUT", Self::put_path(upload)).header("content-type", content_type).raw(bytes.to_vec())).await
    }

    /// An upload with these bytes PUT to it.
    async fn uploaded(&self, name: &str, content_type: &str, bytes: &[u8]) -> Value {
        let (status, upload) = self.create_upload(name, content_type, bytes.len()).await;
        assert_eq!(status, 201, "{upload}");
        assert_eq!(self.put(&upload, bytes).await.status, 200);
        upload
    }
}

fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"].as_array().map(|e| e.iter().filter_map(|f| f["field"].as_str()).collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_contents_must_be_what_their_type_says_inline_and_uploaded() {
    let p = partner().await;
    let inline = |name: &str, content_type: &str, bytes: &[u8]| json!([{"name": name, "content_type": content_type, "role": "resume", "content_base64": b64(bytes)}]);
    let html = b"<!DOCTYPE html><html><script>fetch('//evil.example')</script></html>";
    let refused: [(&str, Value); 4] = [
        ("exe as pdf", inline("cv.pdf", "application/pdf", EXE)),
        ("html as pdf", inline("cv.pdf", "application/pdf", html)),
        ("html as text", inline("cv.txt", "text/plain", html)),
        ("binary as text", inline("cv.txt", "text/plain", b"MZ\x00\x00binary")),
    ];
    for (i, (what, files)) in refused.into_iter().enumerate() {
        let (status, problem) = p.submit(&format!("bad-{i}"), &p.referral("ada@files.example", files)).await;
        assert_eq!(status, 422, "{what}: {problem}");
        assert_eq!(problem["type"], "/problems/invalid-request");
        assert_eq!(fields(&problem), vec!["files[0].content_base64"], "{what}: {problem}");
    }
    let (_, problem) = p.submit("bad-exe", &p.referral("ada@files.example", inline("cv.pdf", "application/pdf", EXE))).await;
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("portable-executable"), "says what the bytes are: {problem}");

    // An upload is checked when a submission takes it: the local PUT stores what it is given.
    let exe = p.uploaded("cv.pdf", "application/pdf", EXE).await;
    let files = json!([{"name": "cv.pdf", "content_type": "application/pdf", "role": "resume", "upload_id": exe["id"]}]);
    let (status, problem) = p.submit("up-exe", &p.referral("ada@files.example", files)).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(fields(&problem), vec!["files[0].upload_id"]);
    assert!(p.h.sandbox.admin().opportunities_by_email("ada@files.example").is_empty(), "nothing reached Lever");

    // What is what it says goes through: a PDF upload, UTF-8 text and a PNG inline.
    let pdf = p.uploaded("cv.pdf", "application/pdf", PDF).await;
    let files = json!([
        {"name": "cv.pdf", "content_type": "application/pdf", "role": "resume", "upload_id": pdf["id"]},
        {"name": "letter.txt", "content_type": "text/plain; charset=utf-8", "role": "cover_letter", "content_base64": b64("Dear team — naïvely yours\n".as_bytes())},
        {"name": "badge.png", "content_type": "image/png", "role": "cover_letter", "content_base64": b64(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")},
    ]);
    let (status, created) = p.submit("good", &p.referral("ada@files.example", files)).await;
    assert_eq!(status, 201, "{created}");
    let o = p.h.sandbox.admin().opportunities_by_email("ada@files.example").remove(0);
    assert_eq!(o.resume.as_ref().unwrap().bytes, PDF);
    assert_eq!(o.files.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_names_with_control_or_format_characters_or_only_dots_are_refused_and_lever_gets_the_checked_extension() {
    let p = partner().await;
    for (i, name) in ["cv\u{202e}fdp.exe", "cv\u{200b}.pdf", "..", "."].into_iter().enumerate() {
        let files = json!([{"name": name, "content_type": "application/pdf", "role": "resume", "content_base64": b64(PDF)}]);
        let (status, problem) = p.submit(&format!("name-{i}"), &p.referral("bea@files.example", files)).await;
        assert_eq!(status, 422, "{name:?}: {problem}");
        assert_eq!(fields(&problem), vec!["files[0].name"], "{name:?}");
        let (status, problem) = p.create_upload(name, "application/pdf", PDF.len()).await;
        assert_eq!(status, 422, "{name:?}: {problem}");
        assert_eq!(fields(&problem), vec!["name"], "{name:?}");
    }

    // A PDF named as an executable reaches Lever as what it is.
    let files = json!([{"name": "cv.exe", "content_type": "application/pdf", "role": "resume", "content_base64": b64(PDF)},
                       {"name": "letter", "content_type": "text/plain", "role": "cover_letter", "content_base64": b64(b"Hello")}]);
    let (status, created) = p.submit("named", &p.referral("bea@files.example", files)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["files"][0]["name"], "cv.pdf", "{created}");
    let o = p.h.sandbox.admin().opportunities_by_email("bea@files.example").remove(0);
    let resume = o.resume.as_ref().unwrap();
    assert_eq!((resume.name.as_str(), resume.ext.as_str()), ("cv.pdf", "pdf"));
    assert_eq!((o.files[0].name.as_str(), o.files[0].ext.as_str()), ("letter.txt", "txt"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_takes_at_most_twenty_files_and_thirty_two_mebibytes() {
    let p = partner().await;
    let letter = json!({"name": "letter.pdf", "content_type": "application/pdf", "role": "cover_letter", "content_base64": b64(PDF)});
    let (status, problem) = p.submit("many", &p.referral("cy@files.example", Value::Array(vec![letter.clone(); 21]))).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(fields(&problem), vec!["files"]);
    assert!(problem["detail"].as_str().unwrap().contains("at most 20"), "{problem}");

    // Two uploads of 17 MiB each: each is within Lever's 30 MB, together they are over 32 MiB.
    let mut big = PDF.to_vec();
    big.resize(17 * 1024 * 1024, b' ');
    let mut files = Vec::new();
    for (i, role) in ["resume", "cover_letter"].into_iter().enumerate() {
        let upload = p.uploaded(&format!("part-{i}.pdf"), "application/pdf", &big).await;
        files.push(json!({"name": format!("part-{i}.pdf"), "content_type": "application/pdf", "role": role, "upload_id": upload["id"]}));
    }
    let (status, problem) = p.submit("large", &p.referral("cy@files.example", Value::Array(files.clone()))).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(fields(&problem), vec!["files"]);
    assert!(problem["detail"].as_str().unwrap().contains(&(32 * 1024 * 1024).to_string()), "{problem}");
    // Refused, the uploads were not taken: each can still go with a submission.
    let (status, created) = p.submit("one", &p.referral("cy@files.example", Value::Array(files[..1].to_vec()))).await;
    assert_eq!(status, 201, "{created}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_url_takes_one_put_and_an_upload_serves_one_submission() {
    let p = partner().await;
    let upload = p.uploaded("cv.pdf", "application/pdf", PDF).await;
    let mut other = PDF.to_vec();
    other[PDF.len() - 2] = b'X';
    let again = p.put(&upload, &other).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.header("content-type"), Some("application/problem+json"));
    assert_eq!(again.json()["type"], "/problems/upload-used");

    let files = json!([{"name": "cv.pdf", "content_type": "application/pdf", "role": "resume", "upload_id": upload["id"]}]);
    let first = p.referral("dee@files.example", files.clone());
    let (status, created) = p.submit("first", &first).await;
    assert_eq!(status, 201, "{created}");
    // The same request again is answered as before, upload and all.
    let (status, replayed) = p.submit("first", &first).await;
    assert_eq!((status, &replayed["id"]), (201, &created["id"]));
    // Another submission naming the upload is refused, naming the file.
    let (status, problem) = p.submit("second", &p.referral("eve@files.example", files)).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["type"], "/problems/upload-used");
    assert_eq!(fields(&problem), vec!["files[0].upload_id"]);
    assert!(p.h.sandbox.admin().opportunities_by_email("eve@files.example").is_empty());
    let o = p.h.sandbox.admin().opportunities_by_email("dee@files.example").remove(0);
    assert_eq!(o.resume.as_ref().unwrap().bytes, PDF, "the first bytes, not the second PUT's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_route_answers_every_refusal_with_a_problem_document() {
    let p = partner().await;
    let (_, upload) = p.create_upload("cv.pdf", "application/pdf", PDF.len()).await;
    let path = Partner::put_path(&upload);
    let problem = |a: &common::Answer, status: u16, kind: &str| {
        assert_eq!(a.status, status, "{:?}", String::from_utf8_lossy(&a.body));
        assert_eq!(a.header("content-type"), Some("application/problem+json"), "{status}");
        let body = a.json();
        assert_eq!(body["type"], format!("/problems/{kind}"));
        assert_eq!(body["status"], status);
        body
    };
    problem(&p.h.send_to_hub(Request::new("GET", &path)).await, 405, "method-not-allowed");
    let huge = vec![b'%'; 30 * 1024 * 1024 + 2];
    problem(&p.h.send_to_hub(Request::new("PUT", &path).header("content-type", "application/pdf").raw(huge)).await, 413, "payload-too-large");
    let mut forged = path.clone();
    forged.pop();
    let bad = problem(
        &p.h.send_to_hub(Request::new("PUT", forged).header("content-type", "application/pdf").raw(PDF.to_vec())).await,
        403,
        "upload-url-invalid",
    );
    assert_eq!(bad["title"], "The upload URL is not valid or has expired");
    problem(&p.h.send_to_hub(Request::new("PUT", &path).header("content-type", "text/plain").raw(PDF.to_vec())).await, 422, "invalid-request");
    assert_eq!(p.put(&upload, PDF).await.status, 200, "the refusals left the URL unused");
}
