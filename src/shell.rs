//! Values put into the commands printed for the owner to paste: POSIX `sh` single-quoting,
//! so that nothing in a value (`$(…)`, backquotes, quotes, spaces, newlines, globs) is
//! run or split by the shell that runs the command.

/// `value` as one POSIX shell word: inside single quotes nothing is special, and each `'`
/// is closed, escaped and reopened (`'\''`).
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// A path as one shell word (a path that is not UTF-8 is shown lossily, still quoted).
pub fn quote_path(path: &std::path::Path) -> String {
    quote(&path.to_string_lossy())
}
