use super::*;

proptest::proptest! {
    // The same cases on every run, and no regression file written into the repository.
    #![proptest_config(proptest::test_runner::Config {
        cases: 512,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_d83c),
        ..proptest::test_runner::Config::default()
    })]

    /// Any UTF-16 text written as `\uXXXX` escapes, surrogates paired or not, reads as the
    /// standard library's lossy decoding of it; text with no lone surrogate is left as it is.
    #[test]
    fn lone_surrogates_read_as_lossy_utf16_does(
        units in proptest::collection::vec(
            proptest::prop_oneof![0xD7F0u16..0xE010, proptest::num::u16::ANY],
            0..12,
        ),
        backslashes in 0usize..3,
    ) {
        let mut escapes = String::new();
        for unit in &units {
            escapes.push_str(&format!("\\u{unit:04x}"));
        }
        // Escaped backslashes before the escapes must not shift where escapes start.
        let json = format!(r#"["{}{escapes}"]"#, "\\\\".repeat(backslashes));
        let value: Value = serde_json::from_str(&lone_surrogates_replaced(&json)).unwrap();
        let expected = format!("{}{}", "\\".repeat(backslashes), String::from_utf16_lossy(&units));
        proptest::prop_assert_eq!(value[0].as_str(), Some(expected.as_str()));
        let plain = serde_json::to_string(&expected).unwrap();
        proptest::prop_assert!(matches!(lone_surrogates_replaced(&plain), Cow::Borrowed(_)));
    }
}
