use super::*;

#[test]
fn ids_that_cannot_be_a_path_segment_are_refused() {
    assert_eq!(check_id("job_1"), Ok(()));
    assert_eq!(check_id(""), Err(IdProblem::Empty));
    assert_eq!(check_id(".."), Err(IdProblem::DotSegment));
    assert_eq!(check_id("a\nb"), Err(IdProblem::HiddenCharacter));
    assert_eq!(check_id("a\u{202E}b"), Err(IdProblem::HiddenCharacter));
    assert_eq!(check_id(&"j".repeat(ID_LIMIT + 1)), Err(IdProblem::TooLong));
}

#[test]
fn a_link_url_readers_read_differently_is_no_link() {
    for (bad, problem) in [
        (
            "https://github.com\\@evil.example/o/r/pull/1",
            PrLinkProblem::Backslash,
        ),
        ("https://github.com/o\\r/pull/1", PrLinkProblem::Backslash),
        ("https://@evil.example/o/r/pull/1", PrLinkProblem::Userinfo),
        ("https://:@evil.example/o/r/pull/1", PrLinkProblem::Userinfo),
        ("https:github.com/o/r/pull/1", PrLinkProblem::NotHttpUrl),
        ("https:/github.com/o/r/pull/1", PrLinkProblem::NotHttpUrl),
        ("https:///github.com/o/r/pull/1", PrLinkProblem::NotHttpUrl),
        (
            "https://github.com/o/r/pull/1\u{034F}",
            PrLinkProblem::HiddenCharacters,
        ),
        (
            "https://github.com/o/r/pull/1\u{3164}",
            PrLinkProblem::HiddenCharacters,
        ),
        (
            "https://github.com/o/r/pull/1\u{FFFC}",
            PrLinkProblem::HiddenCharacters,
        ),
    ] {
        assert_eq!(plain_http_link(bad), Err(problem), "{bad:?}");
    }
    for good in [
        "HTTPS://GitHub.com/o/r/pull/1",
        "https://github.com:8443/o/r/../r/pull/1?x=<y>",
        "https://github.com",
    ] {
        assert_eq!(plain_http_link(good).as_deref(), Ok(good));
    }
    for bad in [
        "https://github.com:443/o/r/pull/1",
        "https://g\u{0456}thub.com/o/r/pull/1",
        "http://0x7f.1/o/r/pull/1",
    ] {
        assert_eq!(
            plain_http_link(bad),
            Err(PrLinkProblem::HostNotPlain),
            "{bad}"
        );
    }
}
