//! What a candidate document must be before it goes to Lever: one of the kinds Lever takes (pdf,
//! doc, docx, txt, jpg, png), with bytes that are that kind (a declared type is only a claim),
//! a name that displays as what it is, and a submission that stays within the hub's caps.
//!
//! Pure: the flows hand in the bytes (inline, or the first bytes of an upload) and get back the
//! kind or the reason, which the caller reports against the file's field.

/// Files in one submission at most. Lever takes its files in one request with the opportunity;
/// more than a handful is a mistake or an attack, and each one is a Lever call on an update.
pub const MAX_FILES_PER_SUBMISSION: usize = 20;

/// Bytes of all files of one submission (inline and uploads) at most. A new candidate's files go
/// to Lever in one multipart request, for which Lever documents no limit beyond 30 MB per file:
/// the total stays near that (one file of Lever's largest and a cover letter), which also bounds
/// what the writer holds in memory.
pub const MAX_SUBMISSION_BYTES: u64 = 32 * 1024 * 1024;

/// How many leading bytes a check of a binary kind reads (the rest is not looked at).
pub const SNIFF_BYTES: usize = 8 * 1024;

/// A kind of document Lever accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Doc,
    Docx,
    Txt,
    Jpeg,
    Png,
}

const DOCX_TYPE: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

impl FileKind {
    pub const ALL: [FileKind; 6] = [FileKind::Pdf, FileKind::Doc, FileKind::Docx, FileKind::Txt, FileKind::Jpeg, FileKind::Png];

    /// The kind of a declared content type (case and parameters ignored), if Lever takes it.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let base = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|k| k.content_type() == base)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Doc => "application/msword",
            FileKind::Docx => DOCX_TYPE,
            FileKind::Txt => "text/plain",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
        }
    }

    /// The extension Lever is given (it names the file's kind by it).
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Doc => "doc",
            FileKind::Docx => "docx",
            FileKind::Txt => "txt",
            FileKind::Jpeg => "jpg",
            FileKind::Png => "png",
        }
    }

    /// Whether the check needs every byte (text: each byte counts) or only the first
    /// [`SNIFF_BYTES`] (the binary kinds have their signature at the start).
    pub fn needs_all_bytes(self) -> bool {
        self == FileKind::Txt
    }

    /// Checks that `bytes` (all of the file, or at least its first [`SNIFF_BYTES`] for a binary
    /// kind) are this kind. The error says what the bytes are instead.
    pub fn check_content(self, bytes: &[u8]) -> Result<(), String> {
        if self == FileKind::Txt {
            return check_text(bytes);
        }
        let head = bytes.get(..SNIFF_BYTES).unwrap_or(bytes);
        // A page a browser would render is never a document, whatever signature follows it.
        if infer::text::is_html(head) {
            return Err(format!("the bytes are HTML, not {}", self.content_type()));
        }
        let found = infer::get(head).map(|t| t.mime_type());
        let matches = match self {
            // docx is a zip; one that infer cannot place further is still taken as a document
            // (writers order their entries differently), but a known other zip kind is not.
            FileKind::Docx => matches!(found, Some(DOCX_TYPE)) || (found == Some("application/zip") && head.starts_with(b"PK\x03\x04")),
            other => found == Some(other.content_type()),
        };
        if matches {
            Ok(())
        } else {
            Err(match found {
                Some(t) => format!("the bytes are {t}, not {}", self.content_type()),
                None => format!("the bytes are not {} (its signature is missing)", self.content_type()),
            })
        }
    }
}

/// Text is UTF-8 (a byte-order mark allowed) without NUL or other control characters than tab,
/// line breaks and form feed, and not an HTML page.
fn check_text(bytes: &[u8]) -> Result<(), String> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(body)
        .map_err(|e| format!("not UTF-8 text (byte {}); send text as UTF-8, or other files as their own type", e.valid_up_to()))?;
    if let Some(c) = text.chars().find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}')) {
        return Err(format!("binary content declared as text/plain (control character U+{:04X})", u32::from(c)));
    }
    if infer::text::is_html(body) {
        return Err("the bytes are HTML, not text/plain".into());
    }
    Ok(())
}

/// A file name the hub keeps and shows: not blank, no path, at most 255 bytes, not dots only,
/// and no control or format characters (U+202E and its kin make "cv\u{202e}fdp.exe" display as
/// "cvexe.pdf"; zero-width characters hide what a name says).
pub fn check_file_name(name: &str) -> Result<(), String> {
    let n = name.trim();
    let reason = if n.is_empty() {
        "is empty"
    } else if name.chars().count() > 255 {
        "is longer than 255 characters"
    } else if n.contains('/') || n.contains('\\') {
        "contains a path separator"
    } else if n.chars().all(|c| c == '.' || c.is_whitespace()) {
        "is only dots"
    } else if n.chars().any(crate::core::text::is_hidden_or_control) {
        "contains control or format characters (bidirectional overrides, zero-width characters)"
    } else {
        return Ok(());
    };
    Err(format!("{name:?} is not a file name: it {reason}"))
}

/// The name Lever gets: the partner's name with the extension of the checked kind, replacing
/// the name's own extension (a short letters-and-digits suffix) if it has one, so Lever's
/// `ext` is always what the bytes are ("cv.exe" checked as a PDF goes as "cv.pdf").
pub fn lever_file_name(name: &str, kind: FileKind) -> String {
    let n = name.trim();
    let stem = match n.rsplit_once('.') {
        Some((stem, ext))
            if !stem.trim_end_matches('.').is_empty() && (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            stem
        }
        _ => n,
    };
    format!("{stem}.{}", kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docx() -> Vec<u8> {
        // A zip's first local header whose entry is `word/document.xml`.
        let mut b = b"PK\x03\x04".to_vec();
        b.extend_from_slice(&[0u8; 26]);
        b.extend_from_slice(b"word/document.xml");
        b.extend_from_slice(&[0u8; 64]);
        b
    }

    #[test]
    fn content_must_be_the_declared_kind() {
        let ok: [(FileKind, Vec<u8>); 6] = [
            (FileKind::Pdf, b"%PDF-1.7\n1 0 obj".to_vec()),
            (FileKind::Doc, b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0".to_vec()),
            (FileKind::Docx, docx()),
            (FileKind::Txt, "Dear team,\n\tI write — naïvely.\r\n".as_bytes().to_vec()),
            (FileKind::Jpeg, b"\xFF\xD8\xFF\xE0\0\x10JFIF\0".to_vec()),
            (FileKind::Png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
        ];
        for (kind, bytes) in &ok {
            assert_eq!(kind.check_content(bytes), Ok(()), "{kind:?}");
            assert_eq!(FileKind::from_content_type(&format!("{}; charset=x", kind.content_type().to_uppercase())), Some(*kind));
        }
        let exe = b"MZ\x90\0\x03\0\0\0%PDF-1.4 hidden".to_vec();
        assert!(FileKind::Pdf.check_content(&exe).unwrap_err().contains("application/vnd.microsoft.portable-executable"));
        assert!(FileKind::Pdf.check_content(b"<html><script>alert(1)</script>%PDF-1.4").unwrap_err().contains("HTML"));
        assert!(FileKind::Txt.check_content(b"  <!DOCTYPE html><script>x</script>").is_err());
        assert!(FileKind::Txt.check_content(b"text\0with a NUL").unwrap_err().contains("U+0000"));
        assert!(FileKind::Txt.check_content(b"\xFF\xFEc\0v\0").is_err(), "UTF-16 is not UTF-8");
        assert!(FileKind::Png.check_content(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0").unwrap_err().contains("image/jpeg"));
        assert!(FileKind::Docx.check_content(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1").is_err());
        assert!(FileKind::Jpeg.check_content(b"").is_err());
        assert_eq!(FileKind::from_content_type("application/x-msdownload"), None);
    }

    #[test]
    fn names_display_as_what_they_are() {
        for good in ["cv.pdf", "Ada Lovelace – CV (2024).docx", ".profile", "résumé"] {
            assert_eq!(check_file_name(good), Ok(()), "{good}");
        }
        for bad in ["", "  ", ".", "..", "...", "a/b.pdf", "a\\b", "cv\u{202e}fdp.exe", "cv\u{200b}.pdf", "cv\u{0}.pdf", "x\u{7}"] {
            assert!(check_file_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(lever_file_name("cv\u{202e}fdp.exe", FileKind::Pdf), "cv\u{202e}fdp.pdf");
        assert_eq!(lever_file_name("cv.exe", FileKind::Pdf), "cv.pdf");
        assert_eq!(lever_file_name("CV.JPEG", FileKind::Jpeg), "CV.jpg");
        assert_eq!(lever_file_name("Ada Lovelace CV", FileKind::Docx), "Ada Lovelace CV.docx");
        assert_eq!(lever_file_name("v1.2 final notes", FileKind::Txt), "v1.2 final notes.txt");
        assert_eq!(lever_file_name(".profile", FileKind::Txt), ".profile.txt");
    }
}
