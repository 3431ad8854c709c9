use super::*;
use crate::json::{FromJson, Json, ToJson};

fn parse(text: &str) -> Option<u64> {
    Decimal::parse(text).map(Decimal::billionths)
}

#[test]
fn reads_every_form_json_and_toml_write() {
    for (text, billionths) in [
        ("0", 0),
        ("2", 2_000_000_000),
        ("0.7", 700_000_000),
        ("+1.5", 1_500_000_000),
        ("1.", 1_000_000_000),
        (".5", 500_000_000),
        ("1.5e-3", 1_500_000),
        ("12E2", 1_200_000_000_000),
        ("3e+0", 3_000_000_000),
        ("0.000000001", 1),
        ("1e-9", 1),
        ("2.50", 2_500_000_000),
        ("000.7", 700_000_000),
        ("18446744073.709551615", u64::MAX),
    ] {
        assert_eq!(parse(text), Some(billionths), "{text}");
    }
}

#[test]
fn rounds_past_the_ninth_place_to_the_nearest_billionth() {
    assert_eq!(parse("0.1234567894"), Some(123_456_789));
    assert_eq!(parse("0.1234567895"), Some(123_456_790));
    assert_eq!(parse("0.30000000000000004"), Some(300_000_000));
    assert_eq!(parse("0.0000000004"), Some(0));
    assert_eq!(parse("0.0000000005"), Some(1));
    assert_eq!(parse("4e-10"), Some(0));
    assert_eq!(parse("1e-999999999999"), Some(0));
    assert_eq!(parse("0.9999999999"), Some(1_000_000_000));
}

#[test]
fn refuses_negatives_the_out_of_range_and_what_is_not_a_number() {
    for text in [
        "-1",
        "-0.000000001",
        "-1e-20",
        "18446744073.709551616",
        "1e11",
        "1e999999999999",
        "",
        ".",
        "-",
        "e5",
        "1e",
        "1e+",
        "1.2.3",
        "0x10",
        "inf",
        "nan",
        "1_000",
        " 1",
        "1 ",
        "١",
    ] {
        assert_eq!(parse(text), None, "{text:?}");
    }
    // Negative zero is zero, as a float compares.
    assert_eq!(parse("-0"), Some(0));
    assert_eq!(parse("-0.0e5"), Some(0));
}

#[test]
fn writes_what_serde_json_wrote_for_the_same_float() {
    // Temperatures from 0 to 2 in steps of 0.001, and a spread of prices.
    let mut values: Vec<u64> = (0..=2000).map(|n| n * 1_000_000).collect();
    values.extend([
        10_000,
        123_456_789,
        1_999_999_999,
        150_000_000,
        75_000_000_000,
        1_000_000_000_000_000,
    ]);
    for billionths in values {
        let ours = match Decimal::from_billionths(billionths).to_json() {
            Json::Number(text) => text,
            other => panic!("{other:?}"),
        };
        let theirs = serde_json::to_string(&(billionths as f64 / 1e9)).unwrap();
        assert_eq!(ours, theirs, "{billionths}");
        assert_eq!(
            Decimal::parse(&ours),
            Some(Decimal::from_billionths(billionths))
        );
    }
}

#[test]
fn writes_small_values_plainly_and_they_read_back_as_the_same_number() {
    for billionths in [1, 9, 1_234, 9_999] {
        let Json::Number(text) = Decimal::from_billionths(billionths).to_json() else {
            panic!()
        };
        assert!(!text.contains('e'), "{text}");
        let as_float: f64 = text.parse().unwrap();
        assert_eq!(as_float, billionths as f64 / 1e9, "{text}");
    }
}

#[test]
fn displays_like_a_float_in_messages() {
    assert_eq!(Decimal::whole(2).unwrap().to_string(), "2");
    assert_eq!(Decimal::from_billionths(700_000_000).to_string(), "0.7");
    assert_eq!(Decimal::from_billionths(1_234).to_string(), "0.000001234");
    assert_eq!(Decimal::ZERO.to_string(), "0");
}

#[test]
fn ceil_is_the_next_whole_number() {
    assert_eq!(Decimal::ZERO.ceil(), 0);
    assert_eq!(Decimal::from_billionths(1).ceil(), 1);
    assert_eq!(Decimal::whole(37).unwrap().ceil(), 37);
    assert_eq!(Decimal::parse("1.5").unwrap().ceil(), 2);
}

#[test]
fn reads_from_json_with_a_clear_error() {
    assert_eq!(
        Decimal::from_json(Json::Number("0.7".into())).unwrap(),
        Decimal::from_billionths(700_000_000)
    );
    let negative = Decimal::from_json(Json::Number("-0.5".into())).unwrap_err();
    assert!(
        negative
            .to_string()
            .contains("-0.5 is negative or too large"),
        "{negative}"
    );
    assert!(Decimal::from_json(Json::String("1".into())).is_err());
}
