use super::*;

const KEY: &str = "mint_test_0123456789";

fn env_with(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let mut map: HashMap<String, String> = [
        ("MINTLIFY_API_KEY", KEY),
        ("MINTLIFY_PROJECT_ID", "proj"),
        ("MINTLIFY_JOB_ID", "job_1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in pairs {
        map.insert(k.to_string(), v.to_string());
    }
    move |name: &str| map.get(name).cloned()
}

fn parse(args: &[&str], pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    match Command::parse(&args, &env_with(pairs))? {
        Command::Run(config) => Ok(*config),
        other => panic!("expected a run, got {other:?}"),
    }
}

fn refusal(args: &[&str], pairs: &[(&str, &str)]) -> String {
    match parse(args, pairs) {
        Err(ConfigError(message)) => {
            assert_eq!(message.lines().count(), 1, "{message}");
            assert!(!message.contains(KEY), "the key leaked: {message}");
            message
        }
        Ok(config) => panic!("expected a refusal, got {config:?}"),
    }
}

#[test]
fn defaults_apply_when_only_the_required_settings_are_given() {
    let config = parse(&[], &[]).unwrap();
    assert_eq!(config.api_key.expose(), KEY);
    assert_eq!(
        (config.project_id.as_str(), config.job_id.as_str()),
        ("proj", "job_1")
    );
    assert_eq!(config.api_url.as_str(), "https://api.mintlify.com/");
    assert_eq!(config.timeout, Duration::from_secs(1800));
    assert_eq!(config.poll_initial, Duration::from_secs(1));
    assert_eq!(config.poll_max, Duration::from_secs(10));
    assert_eq!(config.request_timeout, Duration::from_secs(30));
    assert!(!config.allow_archived && !config.require_pr);
    assert_eq!(config.log_level, LevelFilter::INFO);
    assert!(config.destinations.github_output.is_none() && config.destinations.dotenv.is_none());
}

#[test]
fn every_setting_is_read_from_its_variable() {
    let config = parse(
        &[],
        &[
            ("MINTLIFY_API_URL", "http://127.0.0.1:8080/base"),
            ("MINTLIFY_TIMEOUT", "1h30m"),
            ("MINTLIFY_POLL_INITIAL", "500ms"),
            ("MINTLIFY_POLL_MAX", "5s"),
            ("MINTLIFY_REQUEST_TIMEOUT", "10"),
            ("MINTLIFY_ALLOW_ARCHIVED", "YES"),
            ("MINTLIFY_REQUIRE_PR", "1"),
            ("MINTLIFY_LOG", "Debug"),
            ("MINTLIFY_DOTENV", "gate.env"),
            ("GITHUB_OUTPUT", "/tmp/out"),
            ("GITHUB_STEP_SUMMARY", "/tmp/summary"),
            ("GITHUB_ACTIONS", "true"),
        ],
    )
    .unwrap();
    assert_eq!(config.api_url.as_str(), "http://127.0.0.1:8080/base");
    assert_eq!(config.timeout, Duration::from_secs(5400));
    assert_eq!(config.poll_initial, Duration::from_millis(500));
    assert_eq!(config.poll_max, Duration::from_secs(5));
    assert_eq!(config.request_timeout, Duration::from_secs(10));
    assert!(config.allow_archived && config.require_pr);
    assert_eq!(config.log_level, LevelFilter::DEBUG);
    let destinations = &config.destinations;
    assert_eq!(
        destinations.dotenv.as_deref(),
        Some(std::path::Path::new("gate.env"))
    );
    assert_eq!(
        destinations.github_output.as_deref(),
        Some(std::path::Path::new("/tmp/out"))
    );
    assert_eq!(
        destinations.step_summary.as_deref(),
        Some(std::path::Path::new("/tmp/summary"))
    );
    assert!(destinations.github_actions);
}

#[test]
fn flags_win_over_the_environment_in_both_spellings() {
    let config = parse(
        &[
            "--job-id",
            "from_flag",
            "--timeout=90",
            "--require-pr",
            "true",
        ],
        &[("MINTLIFY_TIMEOUT", "5m")],
    )
    .unwrap();
    assert_eq!(config.job_id, "from_flag");
    assert_eq!(config.timeout, Duration::from_secs(90));
    assert!(config.require_pr);
}

#[test]
fn empty_values_count_as_unset() {
    let config = parse(
        &[],
        &[
            ("MINTLIFY_TIMEOUT", ""),
            ("MINTLIFY_REQUIRE_PR", ""),
            ("GITHUB_OUTPUT", ""),
        ],
    )
    .unwrap();
    assert_eq!(config.timeout, Duration::from_secs(1800));
    assert!(!config.require_pr);
    assert!(config.destinations.github_output.is_none());
    assert!(refusal(&[], &[("MINTLIFY_JOB_ID", "")]).starts_with("MINTLIFY_JOB_ID is not set"));
}

#[test]
fn missing_required_settings_are_named() {
    for var in ["MINTLIFY_API_KEY", "MINTLIFY_PROJECT_ID", "MINTLIFY_JOB_ID"] {
        let message = refusal(&[], &[(var, "")]);
        assert!(
            message.starts_with(&format!("{var} is not set")),
            "{message}"
        );
    }
}

#[test]
fn keys_of_the_wrong_type_are_refused_by_name_without_echoing_them() {
    let message = refusal(&[], &[("MINTLIFY_API_KEY", "mint_dsc_secretvalue")]);
    assert!(
        message.contains("assistant key") && message.contains("admin API key"),
        "{message}"
    );
    assert!(!message.contains("secretvalue"));
    let message = refusal(&[], &[("MINTLIFY_API_KEY", "mint_us_secretvalue")]);
    assert!(
        message.contains("index key") && !message.contains("secretvalue"),
        "{message}"
    );
    let message = refusal(&[], &[("MINTLIFY_API_KEY", "mint_a b")]);
    assert!(message.starts_with("MINTLIFY_API_KEY holds"), "{message}");
}

#[test]
fn a_trailing_newline_on_the_key_is_dropped() {
    let config = parse(&[], &[("MINTLIFY_API_KEY", "mint_abc\n")]).unwrap();
    assert_eq!(config.api_key.expose(), "mint_abc");
    assert!(
        !format!("{config:?}").contains("mint_abc"),
        "Debug shows the key"
    );
}

#[test]
fn the_key_is_never_a_flag() {
    let message = refusal(&["--api-key", "mint_flag_secret"], &[]);
    assert!(
        message.contains("MINTLIFY_API_KEY in the environment")
            && !message.contains("mint_flag_secret"),
        "{message}"
    );
}

#[test]
fn the_url_must_keep_the_key_encrypted() {
    for url in [
        "http://127.0.0.1:9",
        "http://127.1.2.3",
        "http://[::1]:80",
        "http://localhost:3000",
        "https://api.example.com/prefix",
    ] {
        assert!(parse(&[], &[("MINTLIFY_API_URL", url)]).is_ok(), "{url}");
    }
    for (url, expected) in [
        ("http://api.mintlify.com", "plain http to another host"),
        ("http://10.0.0.1", "plain http"),
        ("http://localhost.evil.com", "plain http"),
        ("ftp://127.0.0.1", "scheme \"ftp\""),
        ("api.mintlify.com", "is not a URL"),
        ("https://user:pw@api.mintlify.com", "credentials"),
        ("https://api.mintlify.com/?x=1", "query"),
    ] {
        let message = refusal(&[], &[("MINTLIFY_API_URL", url)]);
        assert!(
            message.starts_with("MINTLIFY_API_URL") && message.contains(expected),
            "{url}: {message}"
        );
    }
}

#[test]
fn durations_are_checked() {
    for var in [
        "MINTLIFY_TIMEOUT",
        "MINTLIFY_POLL_INITIAL",
        "MINTLIFY_POLL_MAX",
        "MINTLIFY_REQUEST_TIMEOUT",
    ] {
        assert!(refusal(&[], &[(var, "0")]).starts_with(&format!("{var} is zero")));
        assert!(refusal(&[], &[(var, "soon")]).contains("is not a duration"));
    }
    assert!(refusal(&[], &[("MINTLIFY_POLL_MAX", "11s")]).contains("above 10s"));
    assert!(
        refusal(
            &[],
            &[("MINTLIFY_POLL_INITIAL", "5s"), ("MINTLIFY_POLL_MAX", "2s")]
        )
        .contains("above MINTLIFY_POLL_MAX")
    );
}

#[test]
fn booleans_and_log_levels_are_checked() {
    for var in ["MINTLIFY_ALLOW_ARCHIVED", "MINTLIFY_REQUIRE_PR"] {
        for yes in ["true", "TRUE", "1", "yes", "Yes"] {
            assert!(parse(&[], &[(var, yes)]).is_ok());
        }
        assert!(
            refusal(&[], &[(var, "maybe")])
                .starts_with(&format!("{var}=\"maybe\" is not a boolean"))
        );
    }
    assert!(refusal(&[], &[("MINTLIFY_LOG", "loud")]).contains("is not a log level"));
}

#[test]
fn ids_that_could_leave_their_path_segment_or_line_are_refused() {
    assert!(refusal(&[], &[("MINTLIFY_JOB_ID", "job\n")]).contains("control character"));
    assert!(refusal(&[], &[("MINTLIFY_PROJECT_ID", "p\u{1b}[31m")]).contains("control character"));
    assert!(refusal(&[], &[("MINTLIFY_JOB_ID", "..")]).contains("is not an id"));
    assert_eq!(
        parse(&[], &[("MINTLIFY_JOB_ID", "../../x")])
            .unwrap()
            .job_id,
        "../../x"
    );
}

#[test]
fn unknown_arguments_are_refused() {
    assert!(refusal(&["--jobid", "x"], &[]).starts_with("unknown flag --jobid"));
    assert!(refusal(&["job_1"], &[]).starts_with("unexpected argument"));
    assert!(refusal(&["--job-id"], &[]).starts_with("--job-id needs a value"));
}

#[test]
fn help_lists_every_setting_with_its_variable_and_default() {
    let text = help();
    for setting in SETTINGS {
        let line = text
            .lines()
            .find(|l| l.contains(setting.var))
            .unwrap_or_else(|| panic!("{} missing", setting.var));
        assert!(line.contains(setting.default), "{line}");
    }
    assert!(text.contains("--job-id") && !text.contains("--api-key"));
    let args = vec!["--help".to_string()];
    assert!(matches!(
        Command::parse(&args, &|_| None),
        Ok(Command::Help)
    ));
}
