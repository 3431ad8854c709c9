use super::*;
use serde_json::Value;

/// Our tree as serde_json's, to compare the two parsers' results.
fn to_serde(value: &Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(text) => serde_json::from_str(text).unwrap(),
        Json::String(text) => Value::String(text.clone()),
        Json::Array(items) => Value::Array(items.iter().map(to_serde).collect()),
        Json::Object(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.clone(), to_serde(v)))
                .collect(),
        ),
    }
}

const VALID: &[&str] = &[
    "null",
    " true ",
    "false",
    "0",
    "-0",
    "12",
    "-3.25e+10",
    "1E-2",
    "18446744073709551615",
    r#""""#,
    r#""plain""#,
    r#""\" \\ \/ \b \f \n \r \t""#,
    r#""\u00e9 \uD83D\uDE00 é 😀""#,
    "[]",
    "[1, [2, [3]], {}]",
    r#"{"a": 1, "b": [true, null], "c": {"d": "e"}}"#,
    "\n\t{ \"x\" :\r\n 1 }\n",
];

const INVALID: &[&str] = &[
    "",
    " ",
    "nul",
    "True",
    "01",
    "-",
    "1.",
    ".5",
    "1e",
    "+1",
    "0x10",
    "NaN",
    r#"""#,
    r#""abc"#,
    "\"a\u{1}b\"",
    r#""\x""#,
    r#""\u12""#,
    r#""\uD800""#,
    r#""\uDC00""#,
    r#""\uD800\u0041""#,
    "[1,]",
    "[1 2]",
    "[",
    "{",
    r#"{"a"}"#,
    r#"{"a":1,}"#,
    "{a:1}",
    "{1:1}",
    "1 2",
    "[] x",
    "// comment\n1",
];

#[test]
fn accepts_and_refuses_what_serde_json_does() {
    for text in VALID {
        let ours = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let theirs: Value = serde_json::from_str(text).unwrap();
        assert_eq!(to_serde(&ours), theirs, "{text:?}");
        assert!(is_whole(text.as_bytes()), "{text:?}");
    }
    for text in INVALID {
        assert!(serde_json::from_str::<Value>(text).is_err(), "{text:?}");
        assert!(parse(text.as_bytes()).is_err(), "{text:?} parsed");
        assert!(!is_whole(text.as_bytes()), "{text:?} is whole");
    }
}

#[test]
fn nesting_stops_at_serde_jsons_limit() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    for n in [1, 100, 127, 128, 129, 200] {
        let ours = parse(deep(n).as_bytes());
        assert_eq!(
            ours.is_ok(),
            serde_json::from_str::<Value>(&deep(n)).is_ok(),
            "{n}"
        );
        assert_eq!(ours.is_ok(), is_whole(deep(n).as_bytes()));
    }
    let error = parse(deep(200).as_bytes()).unwrap_err();
    assert!(error.to_string().starts_with("recursion limit exceeded"));
}

#[test]
fn a_repeated_key_is_refused_in_small_and_large_objects() {
    assert!(parse(br#"{"a": 1, "a": 2}"#).is_err());
    let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
    assert!(parse(format!("{{{}}}", many.join(",")).as_bytes()).is_ok());
    let repeated = format!("{{{}, \"k7\": 0}}", many.join(","));
    let error = parse(repeated.as_bytes()).unwrap_err();
    assert!(error.to_string().contains("repeats a key"), "{error}");
}

#[test]
fn every_short_read_of_an_object_is_an_eof_error() {
    let text = r#"{"id": "c1", "n": [1, 2.5e3, -4], "s": "a\"\u00e9😀", "t": true, "z": null}"#;
    assert!(parse(text.as_bytes()).is_ok());
    for end in 0..text.len() {
        let Some(prefix) = text.as_bytes().get(..end) else {
            continue;
        };
        if std::str::from_utf8(prefix).is_err() {
            continue; // cut inside a character: refused as invalid UTF-8 instead
        }
        let error = parse(prefix).unwrap_err();
        assert!(error.is_eof(), "{end}: {error}");
        assert!(!is_whole(prefix));
    }
}

#[test]
fn errors_say_where() {
    let error = parse(b"{\n  \"a\": tru\n}").unwrap_err();
    assert_eq!(error.to_string(), "expected value at line 2 column 11");
    assert!(!error.is_eof());
    assert!(parse(b"\xff").unwrap_err().to_string().contains("UTF-8"));
}

#[derive(Debug, PartialEq)]
struct Sample {
    name: String,
    count: u64,
    small: u32,
    ratio: Option<crate::decimal::Decimal>,
    tags: Vec<String>,
    pairs: Vec<(u32, u32)>,
    flag: bool,
}

impl FromJson for Sample {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a sample")?;
        Ok(Self {
            name: f.take("name")?,
            count: f.take("count")?,
            small: f.take_or_default("small")?,
            ratio: f.take("ratio")?,
            tags: f.take_or_default("tags")?,
            pairs: f.take_or_default("pairs")?,
            flag: f.take_or_default("flag")?,
        })
    }
}

fn sample(text: &str) -> Result<Sample, String> {
    Sample::from_bytes(text.as_bytes()).map_err(|e| e.to_string())
}

#[test]
fn fields_follow_serdes_rules_for_absent_and_null() {
    let read = sample(r#"{"name": "x", "count": 3, "extra": [1]}"#).unwrap();
    assert_eq!(
        read,
        Sample {
            name: "x".into(),
            count: 3,
            small: 0,
            ratio: None,
            tags: vec![],
            pairs: vec![],
            flag: false,
        }
    );
    let read = sample(
        r#"{"name": "y", "count": 18446744073709551615, "small": 7, "ratio": 0.5,
            "tags": ["a", "b"], "pairs": [[1, 2], [3, 4]], "flag": true}"#,
    )
    .unwrap();
    assert_eq!(read.count, u64::MAX);
    assert_eq!(read.ratio, crate::decimal::Decimal::parse("0.5"));
    assert_eq!(read.pairs, vec![(1, 2), (3, 4)]);
    assert_eq!(
        sample(r#"{"name": "x", "count": 1, "ratio": null}"#)
            .unwrap()
            .ratio,
        None
    );
}

#[test]
fn reading_errors_name_the_field_and_what_was_expected() {
    let cases = [
        (r#"{"count": 1}"#, "missing field `name`"),
        (
            r#"{"name": 1, "count": 1}"#,
            "`name`: expected a string, found the number 1",
        ),
        (
            r#"{"name": "x", "count": 1.5}"#,
            "`count`: expected a whole number, found the number 1.5",
        ),
        (
            r#"{"name": "x", "count": -1}"#,
            "`count`: expected a whole number, found the number -1",
        ),
        (
            r#"{"name": "x", "count": 18446744073709551616}"#,
            "`count`: 18446744073709551616 is too large",
        ),
        (
            r#"{"name": "x", "count": 1, "small": 4294967296}"#,
            "`small`: 4294967296 is too large",
        ),
        (
            r#"{"name": "x", "count": 1, "small": null}"#,
            "`small`: expected a whole number, found null",
        ),
        (
            r#"{"name": "x", "count": 1, "ratio": 1e400}"#,
            "`ratio`: 1e400 is negative or too large",
        ),
        (
            r#"{"name": "x", "count": 1, "tags": ["a", false]}"#,
            "`tags[1]`: expected a string, found the boolean false",
        ),
        (
            r#"{"name": "x", "count": 1, "pairs": [[1, 2], [3]]}"#,
            "`pairs[1]`: expected a list of two, found a list",
        ),
        (
            r#"{"name": "x", "count": 1, "pairs": [[1, "2"]]}"#,
            "`pairs[0][1]`: expected a whole number, found the string \"2\"",
        ),
        (r#"["name"]"#, "expected a sample, found a list"),
        (r#"{"name": "x""#, "EOF while parsing at line 1 column 13"),
    ];
    for (text, expected) in cases {
        assert_eq!(sample(text).unwrap_err(), expected, "{text}");
    }
}

#[test]
fn a_path_through_objects_in_lists_reads_naturally() {
    struct Outer {
        _items: Vec<Sample>,
    }
    impl FromJson for Outer {
        fn from_json(value: Json) -> Result<Self, JsonError> {
            let mut f = Fields::of(value, "an outer")?;
            Ok(Self {
                _items: f.take("items")?,
            })
        }
    }
    let error = Outer::from_bytes(br#"{"items": [{"name": "a", "count": 1}, {"name": 2}]}"#)
        .err()
        .unwrap();
    assert_eq!(
        error.to_string(),
        "`items[1].name`: expected a string, found the number 2"
    );
}

/// Writes `value` both ways and requires the same bytes.
fn writes_as_serde<T: ToJson + serde::Serialize + ?Sized>(value: &T) {
    let ours = value.to_json().to_text();
    let theirs = serde_json::to_string(value).unwrap();
    assert_eq!(ours, theirs);
}

#[test]
fn strings_are_written_as_serde_json_writes_them() {
    let every_low: String = (0u8..0x80).map(char::from).collect();
    for text in [
        "",
        "plain",
        "\" \\ / \u{8} \u{c} \n \r \t",
        &every_low,
        "é 😀 \u{2028} \u{7f} \u{fffd}",
    ] {
        writes_as_serde(text);
    }
}

#[test]
fn numbers_are_written_as_serde_json_writes_them() {
    for n in [0u64, 1, 9, 10, 12345, u64::MAX] {
        writes_as_serde(&n);
    }
}

#[test]
fn trees_are_written_compactly_in_their_order() {
    for text in VALID {
        let tree = parse(text.as_bytes()).unwrap();
        let serde: Value = serde_json::from_str(text).unwrap();
        // serde_json's map sorts keys; compare the trees, and our bytes read back.
        assert_eq!(to_serde(&parse(&tree.to_bytes()).unwrap()), serde);
        assert!(!tree.to_text().contains(['\n', '\t']));
    }
    let built =
        crate::json::object! { "b": 1u64, "a": [Some("x"), None], "c": Object::new().build() };
    assert_eq!(built.to_text(), r#"{"b":1,"a":["x",null],"c":{}}"#);
    let mut view = built;
    view.insert("a", Json::Null);
    view.insert("d", true.to_json());
    assert_eq!(view.to_text(), r#"{"b":1,"a":null,"c":{},"d":true}"#);
    assert_eq!(view.get("b").and_then(Json::as_u64), Some(1));
    assert_eq!(view.get("d"), Some(&Json::Bool(true)));
    assert_eq!(view.get("zz"), None);
}
