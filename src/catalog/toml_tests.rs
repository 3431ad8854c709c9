use super::*;

/// Our tree in toml's terms, to compare with what toml's parser reads.
fn as_toml(table: &Table) -> toml::Table {
    fn value(item: &Item) -> toml::Value {
        match &item.value {
            Value::String(text) => toml::Value::String(text.clone()),
            Value::Integer(whole) => toml::Value::Integer(*whole),
            Value::Float(text) => toml::Value::Float(text.parse().unwrap()),
            Value::Boolean(flag) => toml::Value::Boolean(*flag),
            Value::Array(items) => toml::Value::Array(items.iter().map(value).collect()),
            Value::Table(table) => toml::Value::Table(as_toml(table)),
        }
    }
    table
        .entries()
        .iter()
        .map(|entry| (entry.key.clone(), value(&entry.item)))
        .collect()
}

/// NaN is not equal to itself: compare its text.
fn same(ours: &toml::Table, theirs: &toml::Table) -> bool {
    format!("{ours:?}") == format!("{theirs:?}")
}

/// Whether our reader and toml's agree on `text`: the same tree, or both refuse it (a
/// date-time, which toml takes, is refused by name).
fn agree(text: &str) -> Result<(), String> {
    let theirs = toml::from_str::<toml::Table>(text);
    match (parse(text), theirs) {
        (Ok(ours), Ok(theirs)) if same(&as_toml(&ours), &theirs) => Ok(()),
        (Ok(ours), Ok(theirs)) => Err(format!("{text:?}: we read {ours:?}, toml {theirs:?}")),
        (Err(_), Err(_)) => Ok(()),
        (Err(ours), Ok(theirs)) if ours.message.contains("date-time") => {
            if format!("{theirs:?}").contains("Datetime") {
                Ok(())
            } else {
                Err(format!(
                    "{text:?}: we saw a date-time, toml read {theirs:?}"
                ))
            }
        }
        (Err(ours), Ok(theirs)) => Err(format!(
            "{text:?}: we refused ({ours:?}), toml read {theirs:?}"
        )),
        (Ok(ours), Err(theirs)) => Err(format!(
            "{text:?}: we read {ours:?}, toml refused: {theirs}"
        )),
    }
}

fn all_agree(texts: &[&str]) {
    let failures: Vec<String> = texts.iter().filter_map(|t| agree(t).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn documents_read_as_toml_reads_them() {
    all_agree(&[
        "",
        "\u{feff}a = 1",
        "# only a comment\n\n",
        "a = 1\r\nb = 2\r\n",
        "a = 1 # comment\nb = \"x\" # another",
        "bare_key-1 = 1\n\"quoted key\" = 2\n'literal key' = 3\n\"\" = 4\n1234 = 5",
        "a.b.c = 1\na.b.d = 2\na . e = 3",
        "[table]\nkey = 1\n[table.sub]\nkey = 2",
        "[ a . \"b c\" . 'd' ]\nx = 1",
        "[[list]]\nx = 1\n[[list]]\nx = 2\n[list.sub]\ny = 3\n[[list.items]]\nz = 4",
        "[a.b.c]\nx = 1\n[a]\ny = 2",
        "[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true",
        "a.x = 1\n[a.y]\nz = 2",
        "arr = [1, 2, 3,]\nnested = [[1, 2], [\"a\", 'b'], []]\nmixed = [1, \"x\", 1.5, true, {a = 1}]",
        "arr = [\n  1, # one\n  2,\n  # nothing\n]\n",
        "t = {}\nu = { a = 1, b.c = \"x\", 'd' = [1] }",
        "t = {\n  a = 1, # comment\n  b = 2,\n}\n",
        "t = { a\n= 1, b = # comment\n 2, c.d \r\n\n = 3 }\nu = [{ a\n = 1 }]",
        "models = [{ id = \"x\", name = \"X\" }, { id = \"y\", name = \"Y\" }]",
        // Numbers.
        "a = 0\nb = +17\nc = -17\nd = 1_000\ne = 0xDEAD_beef\nf = 0o755\ng = 0b1101",
        "a = 9223372036854775807\nb = -9223372036854775808",
        "a = 1.0\nb = -0.5\nc = 5e+22\nd = 1e06\ne = -2E-2\nf = 6.626e-34\ng = 224_617.445_991\nh = 0.0e0",
        "a = inf\nb = +inf\nc = -inf\ne = 0e-0\nf = 1_0.0_1e1_0",
        "a = nan\nb = +nan\nc = -nan\nd = 1e-400\ne = -1e-400",
        // The largest floats, and the most a float rounds down to the largest.
        "a = 1.7976931348623157e308\nb = 1.7976931348623158e308\nc = -0.000179769313486231580e312",
        "a = 179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.0",
        // Strings.
        "s = \"tab\\there \\\"quoted\\\" \\\\ \\u00e9 \\U0001F600 \\x41 \\e \\b \\f \\r \\n\"",
        "s = 'C:\\\\Users\\\\nodejs'\nt = 'with \"quotes\"'",
        "s = \"\"\"\nRoses\nViolets\"\"\"\nt = \"\"\"one \\\n    two \\\n\n   three\"\"\"",
        "s = \"\"\"a \"quote\" and \"\"two\"\" \"\"\"\"\"\nt = '''\nfirst\n   second'''\nu = ''''one quote''''",
        "s = \"\"\"\r\nwindows\r\nlines\"\"\"",
        "s = \"\"\"trailing \\   \n  space\"\"\"",
        "s = \"é ünïcödé ✓\"\n\"ключ\" = 1",
        "s = \"tab\there\"\nt = 'tab\there'",
        "s = \"\"\"\"\"\"",
        "s = ''''''",
        "s = \"\"\"\\\"\"\"\"",
    ]);
}

#[test]
fn mistakes_toml_refuses_are_refused() {
    all_agree(&[
        "a",
        "a =",
        "a = 1 b = 2",
        "= 1",
        "a = 1\na = 2",
        "a.b = 1\na.b = 2",
        "a = 1\na.b = 2",
        "a.b = 1\n[a]",
        "a.b.c = 1\n[a.b]",
        "[a]\n[a]",
        "[a]\nb = 1\n[a.b]",
        "[a.b]\n[[a]]",
        "[[a]]\n[a]",
        "[a]\n[[a]]",
        "a = []\n[[a]]",
        "a = [{}]\n[a.b]",
        "a = {}\n[a.b]",
        "a = { b = 1 }\na.c = 2",
        "[a.b.c]\nz = 9\n[a]\nb.c.t = 1",
        "[a.b.c.d]\nz = 9\n[a]\nb.c.d.k.t = 1",
        "[a.b]\n[a]\nb.c = 1",
        "[a]\nx.y = 1\n[a.x]",
        "[ a ]]",
        "[[a] ]",
        "[ [a]]",
        "[]",
        "[a.]",
        "[.a]",
        "a..b = 1",
        "\"\"\"a\"\"\" = 1",
        "a = \"unclosed",
        "a = \"line\nbreak\"",
        "a = 'line\nbreak'",
        "a = \"\\q\"",
        "a = \"\\u12\"",
        "a = \"\\uD800\"",
        "a = \"\\U00110000\"",
        "a = \"\"\"never closed",
        "a = \"\u{1}\"",
        "a = \"\u{7f}\"",
        "a = 1 # \u{7f}",
        "a = 1\rb = 2",
        "a = \"\"\"x\ry\"\"\"",
        "a = \"\"\"\"\"\"\"",
        "a = 01",
        "a = 0_1",
        "a = 1__0",
        "a = _1",
        "a = 1_",
        "a = +0x10",
        "a = 0x",
        "a = 0xG",
        "a = 9223372036854775808",
        "a = 0x8000000000000000",
        "a = 1.",
        "a = 1e400",
        "a = 1.7976931348623159e308",
        "a = 1e309",
        "a = 179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792.0",
        "a = -179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792e0",
        "a = -1.8e308",
        "a = .5",
        "a = 1.e5",
        "a = 1e",
        "a = 1e+",
        "a = 1.5.5",
        "a = 00.5",
        "a = 1_.5",
        "a = 1._5",
        "a = infinity",
        "a = NaN",
        "a = TRUE",
        "a = truee",
        "a = [1 2]",
        "a = [,]",
        "a = [1,,2]",
        "a = [",
        "a = {,}",
        "a = { b = 1 c = 2 }",
        "a = { b = 1, b = 2 }",
        "a = { b = 1",
        "a = { b\n.c = 1 }",
        "a = { b.\nc = 1 }",
        "b \n= 1",
        "b = \n1",
        "a = 1979-05-27",
        "a = 07:32:00",
        "a = 1979-05-27T07:32:00Z",
        "a = 1979-05-27 07:32:00",
    ]);
}

#[test]
fn lists_and_tables_nest_only_so_deep() {
    let deep = format!("a = {}{}", "[".repeat(1000), "]".repeat(1000));
    assert!(refused(&deep).contains("nest too deeply"));
    let deep = format!("a = {}{}", "{b = ".repeat(1000), "}".repeat(1000));
    assert!(refused(&deep).contains("nest too deeply"));
    let fine = format!("a = {}{}", "[".repeat(60), "]".repeat(60));
    assert!(parse(&fine).is_ok());
    // Headers and dotted keys count too, with what nests below them.
    let deep = format!("{}a = 1", "a.".repeat(100_000));
    assert!(refused(&deep).contains("keys nest too deeply"));
    let deep = format!("[{}a]", "a.".repeat(100_000));
    assert!(refused(&deep).contains("tables nest too deeply"));
    let deep = format!(
        "[{}a]\n{}b = {}",
        "a.".repeat(40),
        "b.".repeat(20),
        "[".repeat(3)
    );
    assert!(refused(&deep).contains("lists nest too deeply"));
    // 41 tables by the header, 21 by the key, and two lists: 64 levels.
    let fine = format!(
        "[{}a]\n{}b = {}{}",
        "a.".repeat(40),
        "b.".repeat(20),
        "[".repeat(2),
        "]".repeat(2)
    );
    assert!(parse(&fine).is_ok());
}

#[test]
fn a_table_holds_at_most_a_thousand_keys() {
    let keys = |n: usize| (0..n).map(|i| format!("k{i} = {i}\n")).collect::<String>();
    assert_eq!(parse(&keys(1_000)).unwrap().entries().len(), 1_000);
    assert!(refused(&keys(1_001)).contains("at most 1000 keys"));
    let dotted = format!("[t]\n{}", keys(1_001).replace("k", "a.k"));
    assert!(refused(&dotted).contains("at most 1000 keys"));
}

fn refused(text: &str) -> String {
    match parse(text) {
        Ok(table) => panic!("{text:?} was read as {table:?}"),
        Err(error) => error.message,
    }
}

#[test]
fn a_mistake_says_where_and_what() {
    for (text, at, says) in [
        (
            "a = 1\nb = ",
            10,
            "expected a value, found the end of the file",
        ),
        ("a = 1\na = 2", 6, "`a` is defined twice"),
        ("[x]\n[x]", 5, "`x` is defined twice"),
        ("a = yes", 4, "`yes` is not a value"),
        ("when = 2025-01-01", 7, "a date-time"),
        ("a = \"open\nb = 1", 4, "is not closed on its line"),
        ("a = 1 2", 6, "expected the end of the line, found `2`"),
        (
            "a = 99999999999999999999",
            4,
            "does not fit a 64-bit integer",
        ),
    ] {
        match parse(text) {
            Ok(table) => panic!("{text:?} was read as {table:?}"),
            Err(error) => {
                assert!(error.message.contains(says), "{text:?}: {}", error.message);
                assert_eq!(error.at, at, "{text:?}: {}", error.message);
            }
        }
    }
}

#[test]
fn each_key_and_value_knows_where_it_is_written() {
    let root = parse("a = 1\n[[t]]\n  b = 'x'\n").unwrap();
    let a = &root.entries()[0];
    assert_eq!((a.at, a.item.at), (0, 4));
    let Value::Array(tables) = &root.get("t").unwrap().value else {
        panic!("t is a list")
    };
    assert_eq!(tables[0].at, 6, "a header's table starts at the header");
    let Value::Table(t) = &tables[0].value else {
        panic!("a table")
    };
    assert_eq!((t.entries()[0].at, t.entries()[0].item.at), (14, 18));
}

#[test]
fn the_built_in_catalog_reads_as_toml_reads_it() {
    agree(include_str!("../../assets/models.toml")).unwrap();
}
