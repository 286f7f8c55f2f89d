//! The shape of the crate, read from its source: the core stays pure (no store, secrets, API,
//! flows or file system), only the hub reaches up into the API, and no two files need each
//! other. The compiler accepts all three breaches without a word, so this test is what keeps
//! them out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A source file of `shared/src`: its path there, its module path, and its code without
/// comments and without its `#[cfg(test)] mod tests` (tests may use anything).
struct SourceFile {
    rel: String,
    module: Vec<String>,
    code: String,
}

fn source_files() -> Vec<SourceFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    collect_rs(&root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&p).unwrap();
            SourceFile { module: module_of(&rel), code: code_of(&text), rel }
        })
        .collect()
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `core/profile.rs` → `[core, profile]`; `core/hire/mod.rs` → `[core, hire]`; `lib.rs` → `[]`.
fn module_of(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel.trim_end_matches(".rs").split('/').map(str::to_owned).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code without line comments (doc comments name modules they do not use) and without the
/// unit tests at the end of the file.
fn code_of(text: &str) -> String {
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed == "#[cfg(test)]" && lines.peek().is_some_and(|next| next.trim_start().starts_with("mod tests")) {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        code.push_str(line);
        code.push('\n');
    }
    code
}

/// Every module path the code names through `crate::` or `super::`, absolute, with one level
/// of `{a, b}` groups expanded (`use crate::{store, api::x}` names both).
fn named_paths(file: &SourceFile) -> Vec<Vec<String>> {
    let code = &file.code;
    let mut out = Vec::new();
    let ident = |s: &str| -> usize { s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len()) };
    let mut at = 0;
    while let Some(found) = code[at..]
        .find("crate::")
        .map(|i| ("crate::", at + i))
        .into_iter()
        .chain(code[at..].find("super::").map(|i| ("super::", at + i)))
        .min_by_key(|(_, i)| *i)
    {
        let (word, start) = found;
        at = start + word.len();
        // Part of a longer name (`my_crate::`, `$crate::`) is not ours.
        if start > 0 && code[..start].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let mut base: Vec<String> = if word == "crate::" {
            Vec::new()
        } else {
            let mut m = file.module.clone();
            m.pop();
            m
        };
        let mut rest = &code[at..];
        loop {
            if let Some(after) = rest.strip_prefix("super::") {
                base.pop();
                rest = after;
                continue;
            }
            break;
        }
        // Segments up to a group, a glob or the end of the path.
        loop {
            let n = ident(rest);
            if n == 0 {
                break;
            }
            base.push(rest[..n].to_owned());
            rest = &rest[n..];
            match rest.strip_prefix("::") {
                Some(after) => rest = after,
                None => break,
            }
        }
        // Past this path, so the `super::` inside `super::super::` is not read again.
        at = code.len() - rest.len();
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                let item = item.trim();
                let mut path = base.clone();
                path.extend(item.split("::").map(str::trim).filter(|s| !s.is_empty() && *s != "*").map(|s| s[..ident(s)].to_owned()));
                out.push(path);
            }
        } else {
            out.push(base);
        }
    }
    out
}

fn names_fs(code: &str) -> bool {
    code.contains("std::fs") || code.contains("tokio::fs") || {
        // `use std::{fs, …}`
        code.match_indices("std::{")
            .any(|(i, _)| code[i..].split('}').next().unwrap_or("").split(|c: char| c == ',' || c == '{').any(|s| s.trim() == "fs"))
    }
}

#[test]
fn the_core_is_pure() {
    let mut breaches = Vec::new();
    for f in source_files().iter().filter(|f| f.module.first().is_some_and(|m| m == "core")) {
        for path in named_paths(f) {
            if let Some(top) = path.first().filter(|m| ["store", "secrets", "api", "flows", "files", "queue", "hub"].contains(&m.as_str())) {
                breaches.push(format!("{} names crate::{} ({})", f.rel, top, path.join("::")));
            }
        }
        if names_fs(&f.code) {
            breaches.push(format!("{} uses the file system", f.rel));
        }
    }
    assert!(breaches.is_empty(), "the core must not do I/O or know the layers above it:\n{}", breaches.join("\n"));
}

#[test]
fn only_the_hub_uses_the_api() {
    // `contract` checks responses against the API's own document (a test helper).
    let allowed = ["api", "hub", "contract"];
    let mut breaches = Vec::new();
    for f in source_files().iter().filter(|f| !f.module.first().is_some_and(|m| allowed.contains(&m.as_str()))) {
        for path in named_paths(f) {
            if path.first().is_some_and(|m| m == "api") {
                breaches.push(format!("{} names crate::{}", f.rel, path.join("::")));
            }
        }
    }
    assert!(breaches.is_empty(), "only `hub` (and the functions) may use `api`:\n{}", breaches.join("\n"));
}

#[test]
fn no_two_files_need_each_other() {
    let files = source_files();
    let by_module: BTreeMap<Vec<String>, &str> = files.iter().map(|f| (f.module.clone(), f.rel.as_str())).collect();
    // The file of the longest module prefix: `crate::core::profile::Profile` is core/profile.rs.
    let file_of = |path: &[String]| (1..=path.len()).rev().find_map(|n| by_module.get(&path[..n]).copied());
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for f in &files {
        let to = edges.entry(f.rel.as_str()).or_default();
        for path in named_paths(f) {
            if let Some(target) = file_of(&path).filter(|t| *t != f.rel) {
                to.insert(target);
            }
        }
    }
    let circles = circles(&edges);
    let shown: Vec<String> = circles
        .iter()
        .map(|c| {
            let members: BTreeSet<&str> = c.iter().copied().collect();
            let arrows: Vec<String> =
                c.iter().flat_map(|a| edges[a].iter().filter(|b| members.contains(*b)).map(move |b| format!("{a} → {b}"))).collect();
            arrows.join(", ")
        })
        .collect();
    assert!(circles.is_empty(), "files that import each other (directly or round a circle):\n{}", shown.join("\n"));
}

/// The strongly connected groups of more than one file (Tarjan's algorithm).
fn circles<'a>(edges: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<Vec<&'a str>> {
    struct Walk<'a, 'e> {
        edges: &'e BTreeMap<&'a str, BTreeSet<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<&'a str>>,
    }
    impl<'a> Walk<'a, '_> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for &w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    group.push(w);
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk = Walk { edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), on_stack: BTreeSet::new(), found: Vec::new() };
    for &v in edges.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn the_reader_finds_what_the_rules_look_for() {
    // The rules above are only as good as this reading of the source.
    let f = SourceFile {
        rel: "core/x/y.rs".into(),
        module: module_of("core/x/y.rs"),
        code: code_of(
            "use crate::{store::keys, api};\nuse super::super::super::flows::z::W;\n// crate::secrets in a comment\nfn f() { std::fs::read(\"a\"); }\n#[cfg(test)]\nmod tests {\n    use crate::queue::Q;\n}\n",
        ),
    };
    assert_eq!(f.module, ["core", "x", "y"]);
    let paths: Vec<String> = named_paths(&f).iter().map(|p| p.join("::")).collect();
    assert_eq!(paths, ["store::keys", "api", "flows::z::W"]);
    assert!(names_fs(&f.code));
    assert!(names_fs("use std::{collections::BTreeMap, fs};"));
    assert!(!names_fs("use std::collections::BTreeMap;"));
    let mut edges = BTreeMap::new();
    edges.insert("a", BTreeSet::from(["b"]));
    edges.insert("b", BTreeSet::from(["c"]));
    edges.insert("c", BTreeSet::from(["a"]));
    edges.insert("d", BTreeSet::from(["a"]));
    assert_eq!(circles(&edges), vec![vec!["a", "b", "c"]]);
}
