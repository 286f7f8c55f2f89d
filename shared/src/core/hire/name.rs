//! Lever keeps one name field; an HRIS wants first, middle and last name. Pure.
//!
//! The rules, applied in this order (each is tested below on the names that need it):
//!
//! 1. **Spacing.** Any run of whitespace (tabs, no-break spaces) is one space; a hyphen standing
//!    alone between two words joins them (`Smith - Jones` → `Smith-Jones`). A hyphenated word is
//!    one word: `Jean-Luc`, `Smith-Jones`.
//! 2. **Nicknames** in parentheses or quotes are dropped: `Robert (Bob) Smith`, `Robert "Bob" Smith`.
//! 3. **Honorifics** at the start are dropped when a name follows: Mr, Mrs, Ms, Mx, Miss, Dr,
//!    Prof (with or without a dot).
//! 4. **Suffixes** at the end stay with the last name: `Martin Luther King Jr.` → last name
//!    `King Jr.`; Jr, Sr, II, III, IV, PhD, MD, Esq (with or without dots, after a comma or not).
//! 5. **Last name first with a comma**: `Lovelace, Ada Maria` → first `Ada`, middle `Maria`,
//!    last `Lovelace` (what follows the comma is the given names unless it is a suffix).
//! 6. **CJK names** (every letter Han, Hiragana, Katakana or Hangul) are family name first:
//!    `山田 太郎` → last `山田`, first `太郎`; `김 민준` → last `김`, first `민준`. Written without a
//!    space (`山田太郎`) the boundary is not knowable (family names are one to three characters),
//!    so the name is one word (rule 7).
//! 7. **One word** is the first name; the last name is then missing (`Cher`, `Sukarno`).
//! 8. **Particles** start the last name: `Ludwig van Beethoven` → last `van Beethoven`, `Juan de
//!    la Cruz` → last `de la Cruz`. A particle counts from the second word on and only when a
//!    word follows it: van, von, der, den, ter, ten, de, del, della, dos, das, do, da, di, du,
//!    la, le, bin, binti, ibn, al, el, st, saint (any case). Known limit: a capitalised middle
//!    name that is also a particle (Vietnamese `An Van Nguyen`) is read as a particle.
//! 9. **Otherwise** the first word is the first name, the last word the last name, and the words
//!    between are the middle name (`Ada Maria King Lovelace` → middle `Maria King`).

/// A name split for an HRIS. `None` = Lever's name does not have that part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameParts {
    pub first: Option<String>,
    pub middle: Option<String>,
    pub last: Option<String>,
}

const HONORIFICS: &[&str] = &["mr", "mrs", "ms", "mx", "miss", "dr", "prof"];
const SUFFIXES: &[&str] = &["jr", "sr", "ii", "iii", "iv", "phd", "md", "esq"];
const PARTICLES: &[&str] = &[
    "van", "von", "der", "den", "ter", "ten", "de", "del", "della", "dos", "das", "do", "da", "di", "du", "la", "le", "bin", "binti", "ibn", "al",
    "el", "st", "saint",
];

/// A word without dots and in lower case, for comparing with the lists above.
fn bare(word: &str) -> String {
    word.chars().filter(|c| *c != '.').flat_map(char::to_lowercase).collect()
}

fn is_in(list: &[&str], word: &str) -> bool {
    let w = bare(word);
    list.contains(&w.as_str())
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana (incl. the middle dot of foreign names)
        | 0x3400..=0x4DBF    // Han extension A
        | 0x4E00..=0x9FFF    // Han
        | 0xF900..=0xFAFF    // Han compatibility
        | 0x1100..=0x11FF    // Hangul Jamo
        | 0x3130..=0x318F    // Hangul compatibility Jamo
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0x20000..=0x2FA1F  // Han extensions B–F and compatibility supplement
    )
}

/// Rules 1 and 2: the words of the name, nicknames dropped, lone hyphens joining.
fn words(full: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(full.len());
    let mut depth = 0usize;
    let mut in_quote = false;
    for c in full.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '"' | '“' | '”' => in_quote = !in_quote,
            _ if depth > 0 || in_quote => {}
            c if c.is_whitespace() => cleaned.push(' '),
            c => cleaned.push(c),
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut join_next = false;
    for w in cleaned.split(' ').filter(|w| !w.is_empty()) {
        if w == "-" {
            join_next = !out.is_empty();
            continue;
        }
        match out.last_mut() {
            Some(prev) if join_next => {
                prev.push('-');
                prev.push_str(w);
            }
            _ => out.push(w.to_owned()),
        }
        join_next = false;
    }
    out
}

fn joined(words: &[String]) -> Option<String> {
    (!words.is_empty()).then(|| words.join(" "))
}

/// Splits Lever's single name field by the rules of this module.
pub fn split_name(full: &str) -> NameParts {
    // Rule 5 first looks at commas, before words lose them.
    let parts: Vec<&str> = full.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    let mut suffixes: Vec<String> = vec![];
    let mut parts = parts;
    while parts.len() > 1 && parts.last().is_some_and(|p| words(p).iter().all(|w| is_in(SUFFIXES, w))) {
        suffixes.splice(0..0, parts.pop().map(words).unwrap_or_default());
    }
    let (mut given, family): (Vec<String>, Option<Vec<String>>) = match parts.as_slice() {
        [family, given] => (words(given), Some(words(family))),
        _ => (words(&parts.join(" ")), None),
    };
    if let Some(family) = family {
        // `Lovelace, Ada`: the family name as written, the given names split as usual.
        let mut family = family;
        family.extend(suffixes);
        let mut given = given;
        strip_honorifics(&mut given);
        return match given.split_first() {
            None => NameParts { first: joined(&family), middle: None, last: None },
            Some((first, middle)) => NameParts { first: Some(first.clone()), middle: joined(middle), last: joined(&family) },
        };
    }
    strip_honorifics(&mut given);
    // Rule 4: trailing suffixes, kept for the last name.
    while given.len() > 1 && given.last().is_some_and(|w| is_in(SUFFIXES, w)) {
        if let Some(s) = given.pop() {
            suffixes.insert(0, s);
        }
    }
    let is_cjk_name = !given.is_empty() && given.iter().all(|w| w.chars().filter(|c| c.is_alphabetic()).all(is_cjk));
    let with_suffixes = |mut last: Vec<String>| {
        last.extend(suffixes.iter().cloned());
        joined(&last)
    };
    match given.as_slice() {
        [] => NameParts::default(),
        [one] => NameParts { first: Some(one.clone()), middle: None, last: (!suffixes.is_empty()).then(|| suffixes.join(" ")) },
        // Rule 6: family name first.
        [family, rest @ ..] if is_cjk_name => NameParts { first: joined(rest), middle: None, last: with_suffixes(vec![family.clone()]) },
        [first, rest @ ..] => {
            // Rule 8: the last name starts at the first particle that has a word after it.
            let start = rest.iter().position(|w| is_in(PARTICLES, w)).filter(|&i| i + 1 < rest.len()).unwrap_or(rest.len() - 1);
            let (middle, last) = rest.split_at(start);
            NameParts { first: Some(first.clone()), middle: joined(middle), last: with_suffixes(last.to_vec()) }
        }
    }
}

/// Rule 3: leading honorifics, as long as a name is left after them.
fn strip_honorifics(words: &mut Vec<String>) {
    while words.len() > 1 && words.first().is_some_and(|w| is_in(HONORIFICS, w)) {
        words.remove(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `first / middle / last`, `-` for a missing part.
    fn split(s: &str) -> String {
        let p = split_name(s);
        [p.first, p.middle, p.last].map(|o| o.unwrap_or_else(|| "-".into())).join(" / ")
    }

    #[test]
    fn plain_names() {
        assert_eq!(split("Ada Lovelace"), "Ada / - / Lovelace");
        assert_eq!(split("Ada  Maria King Lovelace"), "Ada / Maria King / Lovelace");
        assert_eq!(split("J. R. R. Tolkien"), "J. / R. R. / Tolkien");
        assert_eq!(split("  Ada\u{a0}Lovelace\t"), "Ada / - / Lovelace", "any whitespace");
    }

    #[test]
    fn empty_and_one_word() {
        assert_eq!(split(""), "- / - / -");
        assert_eq!(split("   "), "- / - / -");
        assert_eq!(split("Cher"), "Cher / - / -", "the last name is missing, not guessed");
        assert_eq!(split("Dr."), "Dr. / - / -", "an honorific alone is kept: it is all there is");
    }

    #[test]
    fn particles_start_the_last_name() {
        assert_eq!(split("Ludwig van Beethoven"), "Ludwig / - / van Beethoven");
        assert_eq!(split("Johann Sebastian von Bach"), "Johann / Sebastian / von Bach");
        assert_eq!(split("Juan de la Cruz"), "Juan / - / de la Cruz");
        assert_eq!(split("Vincent van der Berg"), "Vincent / - / van der Berg");
        assert_eq!(split("Robert De Niro"), "Robert / - / De Niro", "any case");
        assert_eq!(split("Ahmad bin Ismail"), "Ahmad / - / bin Ismail");
        assert_eq!(split("Yves Saint Laurent"), "Yves / - / Saint Laurent");
        // Only from the second word on, and only with a word after it.
        assert_eq!(split("Van Morrison"), "Van / - / Morrison");
        assert_eq!(split("Kim Le"), "Kim / - / Le");
        assert_eq!(split("Mary Ann Do"), "Mary / Ann / Do");
    }

    #[test]
    fn suffixes_stay_with_the_last_name() {
        assert_eq!(split("Martin Luther King Jr."), "Martin / Luther / King Jr.");
        assert_eq!(split("Martin Luther King, Jr."), "Martin / Luther / King Jr.");
        assert_eq!(split("John Smith III"), "John / - / Smith III");
        assert_eq!(split("Grace Hopper PhD"), "Grace / - / Hopper PhD");
        assert_eq!(split("Sammy Davis Jr"), "Sammy / - / Davis Jr");
        assert_eq!(split("Ludwig van Beethoven II"), "Ludwig / - / van Beethoven II");
    }

    #[test]
    fn honorifics_and_nicknames_are_dropped() {
        assert_eq!(split("Dr. Ada Lovelace"), "Ada / - / Lovelace");
        assert_eq!(split("Mrs Grace Hopper"), "Grace / - / Hopper");
        assert_eq!(split("Robert (Bob) Smith"), "Robert / - / Smith");
        assert_eq!(split("Robert \"Bob\" Smith"), "Robert / - / Smith");
        assert_eq!(split("Robert “Bob” Smith"), "Robert / - / Smith");
    }

    #[test]
    fn hyphens_keep_words_together() {
        assert_eq!(split("Jean-Luc Picard"), "Jean-Luc / - / Picard");
        assert_eq!(split("Mary Smith-Jones"), "Mary / - / Smith-Jones");
        assert_eq!(split("Mary Smith - Jones"), "Mary / - / Smith-Jones");
        assert_eq!(split("Anne-Marie Claire Dubois-Martin"), "Anne-Marie / Claire / Dubois-Martin");
    }

    #[test]
    fn family_name_first_after_a_comma() {
        assert_eq!(split("Lovelace, Ada"), "Ada / - / Lovelace");
        assert_eq!(split("Lovelace, Ada Maria"), "Ada / Maria / Lovelace");
        assert_eq!(split("van Beethoven, Ludwig"), "Ludwig / - / van Beethoven");
        assert_eq!(split("King, Martin Luther, Jr."), "Martin / Luther / King Jr.");
    }

    #[test]
    fn cjk_names_are_family_name_first() {
        assert_eq!(split("山田 太郎"), "太郎 / - / 山田");
        assert_eq!(split("김 민준"), "민준 / - / 김");
        assert_eq!(split("王 小明"), "小明 / - / 王");
        // No space: the boundary is not knowable, so it is not guessed.
        assert_eq!(split("山田太郎"), "山田太郎 / - / -");
        assert_eq!(split("김민준"), "김민준 / - / -");
        // Latin-script names of CJK origin follow the Western rules.
        assert_eq!(split("Taro Yamada"), "Taro / - / Yamada");
    }

    #[test]
    fn nothing_panics_on_odd_input() {
        for s in ["(", ")", "\"", "-", " - ", ",", ",,", "a,", ",b", "Jr.", "Jr. Jr.", "de", "van de", "((x)", "Mr Mr", "a - ", " - b"] {
            let _ = split_name(s);
        }
        assert_eq!(split("Jr."), "Jr. / - / -");
        assert_eq!(split("a - "), "a / - / -");
    }
}
