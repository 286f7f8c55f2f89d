//! Rooms stay small: no source file of the product (`shared`, `functions/*`, `tools/*`; the
//! test stand-ins under `tests/` are test code) is over 800 lines before its tests, and no
//! function is over 120 lines, unless a comment at the file's or the function's head says why
//! (`size: …`). Read from the source with a small lexer that skips comments, strings and
//! characters, so braces inside them do not count.

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 800;
const MAX_FN_LINES: usize = 120;
/// A comment with this, at a file's head or in the lines just above a function, says why it
/// may be larger.
const EXCUSE: &str = "size:";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under the product crates' `src/` directories.
fn sources() -> Vec<PathBuf> {
    let root = workspace();
    let mut crates = vec![root.join("shared")];
    for group in ["functions", "tools"] {
        for entry in std::fs::read_dir(root.join(group)).unwrap() {
            crates.push(entry.unwrap().path());
        }
    }
    let mut out = vec![];
    for c in crates {
        collect(&c.join("src"), &mut out);
    }
    out.sort();
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text with comments, strings and character literals blanked (newlines kept), so
/// braces can be counted and line numbers still hold.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('#') || next == Some('"'))
            && !chars.get(i.wrapping_sub(1)).is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            let rest: String = chars[j + 1..].iter().collect();
            let end = rest.find(&close).map_or(chars.len(), |e| j + 1 + rest[..e].chars().count() + close.chars().count());
            for &ch in &chars[i..end] {
                out.push(blank(ch));
            }
            i = end;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('{', '\n', '\''); a lifetime has no closing quote.
            let end = if next == Some('\\') { (i + 2..chars.len()).find(|&k| chars[k] == '\'' && k > i + 2).unwrap_or(i + 3) + 1 } else { i + 3 };
            for &ch in &chars[i..end.min(chars.len())] {
                out.push(blank(ch));
            }
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The lines before the file's `#[cfg(test)]` module.
fn lines_before_tests(text: &str) -> usize {
    text.lines().take_while(|l| !l.trim_start().starts_with("#[cfg(test)]")).count()
}

fn excused(lines: &[&str], at: usize) -> bool {
    lines[at.saturating_sub(6)..at].iter().any(|l| l.contains(EXCUSE))
}

/// Every function longer than the limit: (first line, length, name).
fn long_functions(text: &str) -> Vec<(usize, usize, String)> {
    let code = code_only(text);
    let lines: Vec<&str> = code.lines().collect();
    let original: Vec<&str> = text.lines().collect();
    let mut out = vec![];
    for (n, line) in lines.iter().enumerate() {
        let Some(at) = line.find("fn ") else { continue };
        if at > 0 && !line[..at].ends_with(' ') && !line[..at].ends_with('(') {
            continue;
        }
        let head = line[..at].trim();
        if !head.split_whitespace().all(|w| ["pub", "pub(crate)", "pub(super)", "async", "const", "unsafe", "extern", "default"].contains(&w)) {
            continue;
        }
        let name: String = line[at + 3..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        // Walk to the body's opening brace, then to the brace that closes it.
        let (mut depth, mut opened, mut end) = (0i32, false, None);
        'scan: for (k, l) in lines.iter().enumerate().skip(n) {
            for ch in l.chars() {
                match ch {
                    ';' if !opened && depth == 0 => break 'scan,
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => {
                        depth -= 1;
                        if opened && depth == 0 {
                            end = Some(k);
                            break 'scan;
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Some(end) = end {
            let length = end - n + 1;
            if length > MAX_FN_LINES && !excused(&original, n) {
                out.push((n + 1, length, name));
            }
        }
    }
    out
}

#[test]
fn no_room_is_too_big() {
    let root = workspace();
    let mut too_big = vec![];
    let files = sources();
    assert!(files.len() > 100, "the walk finds the workspace's sources: {}", files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let rel = path.strip_prefix(&root).unwrap().display().to_string();
        let head_excused = text.lines().take(12).any(|l| l.contains(EXCUSE));
        let lines = lines_before_tests(&text);
        if lines > MAX_FILE_LINES && !head_excused {
            too_big.push(format!("{rel}: {lines} lines before its tests (at most {MAX_FILE_LINES})"));
        }
        for (line, length, name) in long_functions(&text) {
            too_big.push(format!("{rel}:{line}: fn {name} is {length} lines (at most {MAX_FN_LINES})"));
        }
    }
    assert!(too_big.is_empty(), "rooms over the size rule (split them, or say why in a `{EXCUSE}` comment):\n{}", too_big.join("\n"));
}

#[test]
fn the_lexer_counts_only_code() {
    let text = "fn a() {\n    let s = \"}}}\";\n    let c = '}';\n    // }\n    let r = r#\"}\"#;\n}\nfn b<'x>(v: &'x str) -> &'x str {\n    v\n}\n";
    let code = code_only(text);
    assert_eq!(code.matches('{').count(), code.matches('}').count(), "{code}");
    assert_eq!(code.lines().count(), text.lines().count());
    let long = format!("fn big() {{\n{}}}\n", "    x();\n".repeat(130));
    assert_eq!(long_functions(&long), vec![(1, 132, "big".to_owned())]);
    let excused = format!("// size: a generated table\n{long}");
    assert!(long_functions(&excused).is_empty());
}
