//! The UCI reader against the syntax libuci accepts and the exact form `uci commit` writes.

use route53_ddns::uci::{parse, Package, Value};

fn single(p: &Package, section: usize, opt: &str) -> String {
    match p.sections[section].get(opt).map(|o| &o.value) {
        Some(Value::Single(s)) => s.clone(),
        other => panic!("{opt}: {other:?}"),
    }
}

#[test]
fn reads_a_file_exactly_as_uci_commit_writes_it() {
    // Tab-indented, single quotes everywhere, an apostrophe as '\'', a blank line between
    // sections, anonymous sections written with their generated name omitted.
    let text = "
config global 'global'
\toption enabled '1'
\toption endpoint 'https://abc.lambda-url.eu-west-1.on.aws/'
\toption log_level 'info'

config host
\toption name 'home.example.com'
\toption ipv6 '0'

config host
\toption name 'nas.example.com'
\toption ipv6_suffix '::1234'
\tlist note 'Bob'\\''s NAS'
\tlist note 'second'
";
    let p = parse(text).expect("parses");
    assert_eq!(p.sections.len(), 3);
    assert_eq!(p.sections[0].kind, "global");
    assert_eq!(p.sections[0].name.as_deref(), Some("global"));
    assert_eq!(
        single(&p, 0, "endpoint"),
        "https://abc.lambda-url.eu-west-1.on.aws/"
    );
    assert_eq!(p.sections[1].name, None, "anonymous");
    assert_eq!(single(&p, 1, "ipv6"), "0");
    assert_eq!(
        p.sections[2].get("note").map(|o| &o.value),
        Some(&Value::List(vec!["Bob's NAS".into(), "second".into()]))
    );
    assert_eq!(p.sections[2].get("note").map(|o| o.line), Some(15));
}

#[test]
fn package_line_and_short_commands() {
    let p =
        parse("package route53-ddns\nc host\n  o name a.example.com\n  l x 1\n").expect("parses");
    assert_eq!(p.name.as_deref(), Some("route53-ddns"));
    assert_eq!(single(&p, 0, "name"), "a.example.com");
}

#[test]
fn double_quotes_take_backslash_escapes() {
    let p = parse(
        r#"config a 'b'
option x "say \"hi\" \\ \$HOME"
"#,
    )
    .expect("parses");
    assert_eq!(single(&p, 0, "x"), r#"say "hi" \ $HOME"#);
}

#[test]
fn single_quotes_are_literal() {
    let p = parse("config a 'b'\noption x 'back\\slash \"dq\" #nocomment'\n").expect("parses");
    assert_eq!(single(&p, 0, "x"), "back\\slash \"dq\" #nocomment");
}

#[test]
fn pieces_concatenate() {
    let p =
        parse("config a 'b'\noption x 'one'\"two\"three'four'\noption y it\\'s\n").expect("parses");
    assert_eq!(single(&p, 0, "x"), "onetwothreefour");
    assert_eq!(single(&p, 0, "y"), "it's");
}

#[test]
fn unquoted_words_and_comments() {
    let p = parse(
        "# leading comment\nconfig a b # trailing comment\n\toption x value#comment\n\t# option y 'no'\n",
    )
    .expect("parses");
    assert_eq!(p.sections[0].name.as_deref(), Some("b"));
    assert_eq!(single(&p, 0, "x"), "value");
    assert!(p.sections[0].get("y").is_none());
}

#[test]
fn semicolons_separate_commands() {
    let p = parse("config a 'b'; option x '1'; option y '2'\n").expect("parses");
    assert_eq!(single(&p, 0, "x"), "1");
    assert_eq!(single(&p, 0, "y"), "2");
}

#[test]
fn quoted_values_may_span_lines() {
    let p =
        parse("config a 'b'\noption x 'line one\nline two'\noption y \"a\nb\"\noption z 'after'\n")
            .expect("parses");
    assert_eq!(single(&p, 0, "x"), "line one\nline two");
    assert_eq!(single(&p, 0, "y"), "a\nb");
    assert_eq!(p.sections[0].get("z").map(|o| o.line), Some(6));
}

#[test]
fn backslash_continues_a_line() {
    let p =
        parse("config a 'b'\noption x \\\n  'continued'\noption y ab\\\ncd\noption z \"q\\\nr\"\n")
            .expect("parses");
    assert_eq!(single(&p, 0, "x"), "continued");
    assert_eq!(single(&p, 0, "y"), "abcd");
    assert_eq!(single(&p, 0, "z"), "qr");
}

#[test]
fn empty_values_and_names() {
    let p = parse("config host ''\noption ca_file ''\n").expect("parses");
    assert_eq!(p.sections[0].name, None, "empty name = anonymous");
    assert_eq!(single(&p, 0, "ca_file"), "");
}

#[test]
fn crlf_files_are_read() {
    let p = parse("config a 'b'\r\n\toption x 'y'\r\n").expect("parses");
    assert_eq!(single(&p, 0, "x"), "y");
}

#[test]
fn repeated_named_sections_merge_and_later_options_win() {
    let p = parse(
        "config global 'global'\n\toption enabled '0'\n\toption a '1'\nconfig host\n\toption name 'x.example.com'\nconfig global 'global'\n\toption enabled '1'\n",
    )
    .expect("parses");
    assert_eq!(p.sections.len(), 2);
    assert_eq!(single(&p, 0, "enabled"), "1");
    assert_eq!(single(&p, 0, "a"), "1");
    assert_eq!(p.sections[0].get("enabled").map(|o| o.line), Some(7));
}

#[test]
fn list_after_option_and_option_after_list() {
    let p = parse("config a 'b'\noption x '1'\nlist x '2'\nlist y 'a'\noption y 'z'\n")
        .expect("parses");
    assert_eq!(
        p.sections[0].get("x").map(|o| &o.value),
        Some(&Value::List(vec!["1".into(), "2".into()]))
    );
    assert_eq!(single(&p, 0, "y"), "z");
}

#[test]
fn errors_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "config a 'b'\noption x 'unterminated\n\n",
            2,
            "unterminated",
        ),
        ("config a 'b'\n\noption x \"open\n", 3, "unterminated"),
        ("option x 'y'\n", 1, "outside"),
        ("config a 'b'\nfrobnicate x\n", 2, "invalid command"),
        (
            "config a 'b'\noption bad-name 'v'\n",
            2,
            "invalid option name",
        ),
        ("config a 'b'\noption x 'v' 'extra'\n", 2, "one value"),
        ("config a 'b'\noption x\n", 2, "one value"),
        ("\n\nconfig a 'b' 'c'\n", 3, "config"),
        ("config a 'b-c'\n", 1, "section name"),
        ("config a 'b'\nconfig other 'b'\n", 2, "declared as"),
        ("config a 'b'\noption x 'ctl\x01'\n", 2, "control character"),
        ("package 'bad name'\n", 1, "package"),
    ];
    for (text, line, needle) in cases {
        let e = parse(text).expect_err(text);
        assert_eq!(e.line, *line, "{text:?}: {e}");
        assert!(e.message.contains(needle), "{text:?}: {e}");
        assert!(e.to_string().starts_with(&format!("line {line}:")));
    }
}

#[test]
fn an_empty_file_is_an_empty_package() {
    assert_eq!(parse("").expect("parses").sections.len(), 0);
    assert_eq!(
        parse("\n# only a comment\n\n")
            .expect("parses")
            .sections
            .len(),
        0
    );
}
