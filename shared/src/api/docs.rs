//! The API describes itself: `GET /openapi.json` (docs/openapi.yaml, converted at build time),
//! `GET /docs` (a self-contained page that renders it; no CDN, no network) and
//! `GET /problems/{name}`, the page each problem `type` URI resolves to.

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::problem::{Problem, ProblemType};

/// The OpenAPI document as JSON.
pub const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/openapi.json", get(openapi)).route("/docs", get(page)).route("/problems/{name}", get(problem_page))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

fn html(body: String) -> Response {
    super::html::page(axum::http::StatusCode::OK, body)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2330}\
code,pre{font:13px ui-monospace,monospace;background:#f3f4f7;border-radius:4px}pre{padding:.6rem;overflow:auto}\
code{padding:0 .2rem}h2{margin-top:2.2rem;border-bottom:1px solid #dde}details{margin:.4rem 0}\
summary{cursor:pointer}.m{display:inline-block;min-width:4.2rem;font-weight:600}.s{color:#555}table{border-collapse:collapse}\
td,th{border:1px solid #dde;padding:.2rem .5rem;text-align:left;vertical-align:top}";

/// Renders the operations from the embedded document in the browser; the document travels in
/// the page itself, so a saved copy works offline too.
async fn page() -> Response {
    let problems: String = ProblemType::ALL
        .iter()
        .map(|t| {
            format!(
                "<tr><td><a href=\"{uri}\"><code>{uri}</code></a></td><td>{}</td><td>{}</td></tr>",
                t.status().as_u16(),
                escape(t.title()),
                uri = t.uri()
            )
        })
        .collect();
    // `</` cannot end the script element early once escaped as `<\/`.
    let spec = OPENAPI_JSON.replace("</", "<\\/");
    html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Partner API — Lever integration hub</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head><body>
<h1 id="title">Partner API</h1><p>Machine-readable: <a href="openapi.json"><code>/openapi.json</code></a> (OpenAPI 3.1).</p>
<div id="intro"></div><h2>Operations</h2><div id="ops"><noscript>Enable JavaScript to list the operations, or read /openapi.json.</noscript></div>
<h2>Problem types</h2><table><tr><th>type</th><th>status</th><th>title</th></tr>{problems}</table>
<script type="application/json" id="spec">{spec}</script>
<script>
const spec = JSON.parse(document.getElementById('spec').textContent);
const el = (tag, text, cls) => {{ const e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; }};
const resolve = (o) => {{ let n = o; while (n && n.$ref) {{ n = n.$ref.slice(2).split('/').reduce((a, k) => a[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec); }} return n; }};
document.getElementById('title').textContent = spec.info.title;
document.getElementById('intro').appendChild(el('pre', spec.info.description || ''));
const ops = document.getElementById('ops');
for (const [path, item] of Object.entries(spec.paths)) {{
  for (const [method, op] of Object.entries(item)) {{
    if (!['get','post','put','patch','delete'].includes(method)) continue;
    const d = el('details'); const s = el('summary');
    s.append(el('span', method.toUpperCase(), 'm'), el('code', path), el('span', ' — ' + (op.summary || ''), 's'));
    d.appendChild(s);
    const params = [...(item.parameters || []), ...(op.parameters || [])].map(resolve);
    if (params.length) d.appendChild(el('p', 'Parameters: ' + params.map(p => p.name + ' (' + p.in + ')').join(', ')));
    if (op.requestBody) d.appendChild(el('pre', 'Request body: ' + JSON.stringify(resolve(op.requestBody).content, null, 1)));
    const rs = el('table'); rs.appendChild(el('tr')).append(el('th', 'status'), el('th', 'meaning'));
    for (const [code, r] of Object.entries(op.responses || {{}})) rs.appendChild(el('tr')).append(el('td', code), el('td', resolve(r).description || ''));
    d.appendChild(rs); ops.appendChild(d);
  }}
}}
</script></body></html>"#
    ))
}

async fn problem_page(Path(name): Path<String>) -> Response {
    let Some(kind) = ProblemType::from_name(&name) else {
        return Problem::new(ProblemType::NotFound, "no such problem type; /docs lists them").into_response();
    };
    html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head><body>\
         <p><a href=\"../docs\">Partner API</a> › problem types</p><h1>{title}</h1>\
         <p><code>type: {uri}</code> · HTTP {status}</p><p>{explanation}</p></body></html>",
        title = escape(kind.title()),
        uri = kind.uri(),
        status = kind.status().as_u16(),
        explanation = escape(kind.explanation()),
    ))
}
