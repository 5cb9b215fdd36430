//! A reader of UCI files (`/etc/config/*`) with the syntax libuci itself accepts.
//!
//! Rules (uci `file.c`): a file is a list of commands `package`, `config`, `option`, `list`
//! (or their one-letter forms), ended by a newline or `;`. An argument is built from adjacent
//! pieces: `'single quoted'` (literal, may span lines), `"double quoted"` (a backslash takes
//! the next character literally; may span lines) and unquoted text (ends at blanks, `;` or
//! `#`; a backslash takes the next character, a backslash before a newline continues the
//! line). So `'it'\''s'`, the form `uci commit` writes for an apostrophe, reads as `it's`.
//! `#` outside quotes starts a comment. A named section that appears twice is merged.

use std::fmt;

/// A parse error, naming the line it was found on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UciError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for UciError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for UciError {}

/// The value of an option: `option` gives one string, `list` a list of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Single(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UciOption {
    pub name: String,
    pub value: Value,
    /// Line of the (last) command that set it.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub kind: String,
    /// `None` for an anonymous section (`config host`).
    pub name: Option<String>,
    pub options: Vec<UciOption>,
    /// Line of the `config` command that opened it.
    pub line: usize,
}

impl Section {
    pub fn get(&self, name: &str) -> Option<&UciOption> {
        self.options.iter().find(|o| o.name == name)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Package {
    pub name: Option<String>,
    pub sections: Vec<Section>,
}

/// One argument with the line it started on.
struct Word {
    text: String,
    line: usize,
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
}

fn err(line: usize, message: impl Into<String>) -> UciError {
    UciError {
        line,
        message: message.into(),
    }
}

impl Lexer<'_> {
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next();
        if c == Some('\n') {
            self.line += 1;
        }
        c
    }

    /// Reads the next command as its words; `None` at the end of the input.
    fn command(&mut self) -> Result<Option<Vec<Word>>, UciError> {
        let mut words: Vec<Word> = Vec::new();
        loop {
            match self.chars.peek().copied() {
                None => return Ok((!words.is_empty()).then_some(words)),
                Some(' ' | '\t' | '\r') => {
                    self.bump();
                }
                Some('\n') => {
                    self.bump();
                    if !words.is_empty() {
                        return Ok(Some(words));
                    }
                }
                Some(';') => {
                    self.bump();
                    if !words.is_empty() {
                        return Ok(Some(words));
                    }
                }
                Some('#') => {
                    while self.chars.peek().is_some_and(|c| *c != '\n') {
                        self.bump();
                    }
                }
                Some('\\') if self.continues_line() => {}
                Some(_) => words.push(self.word()?),
            }
        }
    }

    /// Consumes a backslash-newline pair (a line continuation between words).
    fn continues_line(&mut self) -> bool {
        let mut ahead = self.chars.clone();
        ahead.next();
        let next = ahead.next();
        if next == Some('\n') || (next == Some('\r') && ahead.next() == Some('\n')) {
            self.bump();
            if self.chars.peek() == Some(&'\r') {
                self.bump();
            }
            self.bump();
            true
        } else {
            false
        }
    }

    fn word(&mut self) -> Result<Word, UciError> {
        let start = self.line;
        let mut text = String::new();
        while let Some(c) = self.chars.peek().copied() {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '#' => break,
                '\'' => {
                    let open = self.line;
                    self.bump();
                    loop {
                        match self.bump() {
                            None => return Err(err(open, "unterminated single-quoted string")),
                            Some('\'') => break,
                            Some(c) => text.push(c),
                        }
                    }
                }
                '"' => {
                    let open = self.line;
                    self.bump();
                    loop {
                        match self.bump() {
                            None => return Err(err(open, "unterminated double-quoted string")),
                            Some('"') => break,
                            Some('\\') => self.escaped(&mut text, open)?,
                            Some(c) => text.push(c),
                        }
                    }
                }
                '\\' => {
                    self.bump();
                    self.escaped(&mut text, start)?;
                }
                c => {
                    self.bump();
                    text.push(c);
                }
            }
        }
        if let Some(bad) = text
            .chars()
            .find(|c| (*c as u32) < 32 && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(err(
                start,
                format!("control character {} in a value", bad.escape_default()),
            ));
        }
        Ok(Word { text, line: start })
    }

    /// After a backslash: a newline continues the line, anything else is taken literally.
    fn escaped(&mut self, text: &mut String, open: usize) -> Result<(), UciError> {
        match self.bump() {
            None => Err(err(open, "backslash at the end of the file")),
            Some('\n') => Ok(()),
            Some('\r') if self.chars.peek() == Some(&'\n') => {
                self.bump();
                Ok(())
            }
            Some(c) => {
                text.push(c);
                Ok(())
            }
        }
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn valid_type(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| (33..=126).contains(&b))
}

fn valid_package(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Parses the text of a UCI file.
pub fn parse(text: &str) -> Result<Package, UciError> {
    let mut lx = Lexer {
        chars: text.chars().peekable(),
        line: 1,
    };
    let mut pkg = Package::default();
    // Index of the section options go to.
    let mut current: Option<usize> = None;
    while let Some(words) = lx.command()? {
        let line = words[0].line;
        let args: Vec<&str> = words[1..].iter().map(|w| w.text.as_str()).collect();
        match words[0].text.as_str() {
            "package" | "p" => pkg.name = Some(package_name(&args, line)?),
            "config" | "c" => current = Some(open_section(&mut pkg, &args, line)?),
            cmd @ ("option" | "o" | "list" | "l") => {
                let Some(i) = current else {
                    return Err(err(line, format!("`{cmd}` outside of a `config` section")));
                };
                set_option(&mut pkg.sections[i], cmd, &args, line)?;
            }
            other => return Err(err(line, format!("invalid command '{other}'"))),
        }
    }
    Ok(pkg)
}

/// `package <name>`.
fn package_name(args: &[&str], line: usize) -> Result<String, UciError> {
    let [name] = args[..] else {
        return Err(err(line, "`package` takes exactly one name"));
    };
    if !valid_package(name) {
        return Err(err(line, format!("invalid package name '{name}'")));
    }
    Ok(name.to_owned())
}

/// `config <type> [<name>]`: a new section, or the named one again (same type); its index.
fn open_section(pkg: &mut Package, args: &[&str], line: usize) -> Result<usize, UciError> {
    let (kind, name) = match args[..] {
        [kind] => (kind, None),
        [kind, ""] => (kind, None),
        [kind, name] => (kind, Some(name)),
        _ => return Err(err(line, "`config` takes a type and an optional name")),
    };
    if !valid_type(kind) {
        return Err(err(line, format!("invalid section type '{kind}'")));
    }
    if let Some(name) = name {
        if !valid_name(name) {
            return Err(err(
                line,
                format!("invalid section name '{name}' (letters, digits and _ only)"),
            ));
        }
        let same = |s: &Section| s.name.as_deref() == Some(name);
        if let Some(i) = pkg.sections.iter().position(same) {
            let earlier = &pkg.sections[i];
            if earlier.kind != kind {
                return Err(err(
                    line,
                    format!(
                        "section '{name}' was declared as '{}' on line {}, now as '{kind}'",
                        earlier.kind, earlier.line
                    ),
                ));
            }
            return Ok(i);
        }
    }
    pkg.sections.push(Section {
        kind: kind.to_owned(),
        name: name.map(str::to_owned),
        options: Vec::new(),
        line,
    });
    Ok(pkg.sections.len() - 1)
}

/// `option <name> <value>` (replaces) or `list <name> <value>` (appends) in `section`.
fn set_option(
    section: &mut Section,
    cmd: &str,
    args: &[&str],
    line: usize,
) -> Result<(), UciError> {
    let is_list = cmd.starts_with('l');
    let [name, value] = args[..] else {
        return Err(err(line, format!("`{cmd}` takes a name and one value")));
    };
    if !valid_name(name) {
        return Err(err(
            line,
            format!("invalid option name '{name}' (letters, digits and _ only)"),
        ));
    }
    let existing = section.options.iter_mut().find(|o| o.name == name);
    match (existing, is_list) {
        (Some(o), true) => {
            match &mut o.value {
                Value::List(items) => items.push(value.to_owned()),
                Value::Single(prev) => o.value = Value::List(vec![prev.clone(), value.to_owned()]),
            }
            o.line = line;
        }
        (Some(o), false) => {
            o.value = Value::Single(value.to_owned());
            o.line = line;
        }
        (None, list) => section.options.push(UciOption {
            name: name.to_owned(),
            value: if list {
                Value::List(vec![value.to_owned()])
            } else {
                Value::Single(value.to_owned())
            },
            line,
        }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_concatenate() {
        let p = parse("config a 'x'\n\toption v 'it'\\''s'\n").expect("parses");
        assert_eq!(
            p.sections[0].get("v").map(|o| &o.value),
            Some(&Value::Single("it's".into()))
        );
    }
}
