use std::collections::HashMap;

use super::flags::ValueProblem;
use super::proxy::ProxyProblem;
use super::*;
use crate::api::fields::IdProblem;

const KEY: &str = "mint_test_0123456789";

/// A value that unsets the variable in [`env_with`]: no variable can hold a NUL.
const UNSET: &str = "\0";

/// The job id the other settings have by default, unset.
const NO_JOB: (&str, &str) = ("MINTLIFY_JOB_ID", UNSET);

fn env_with(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let mut map: HashMap<String, String> = [
        ("MINTLIFY_API_KEY", KEY),
        ("MINTLIFY_PROJECT_ID", "proj"),
        ("MINTLIFY_JOB_ID", "job_1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in pairs {
        if *v == UNSET {
            map.remove(*k);
        } else {
            map.insert(k.to_string(), v.to_string());
        }
    }
    move |name: &str| map.get(name).map(OsString::from)
}

fn parse(args: &[&str], pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    match Command::parse(&args, &env_with(pairs))? {
        Command::Run(config) => Ok(*config),
        Command::Print(text) => panic!("expected a run, got {text}"),
    }
}

/// The refusal, after checking that it reads as one line and holds no key.
fn refused(args: &[&str], pairs: &[(&str, &str)]) -> ConfigError {
    match parse(args, pairs) {
        Err(error) => {
            let message = error.to_string();
            assert_eq!(message.lines().count(), 1, "{message}");
            assert!(!message.contains(KEY), "the key leaked: {message}");
            error
        }
        Ok(config) => panic!("expected a refusal, got {config:?}"),
    }
}

fn refusal(args: &[&str], pairs: &[(&str, &str)]) -> String {
    refused(args, pairs).to_string()
}

/// The problem with the value of `var`, given as a variable.
fn invalid(var: &str, value: &str) -> ValueProblem {
    match refused(&[], &[NO_JOB, (var, value)]) {
        ConfigError::Invalid {
            setting: Setting::Variable(named),
            problem,
            ..
        } if named == var => problem,
        other => panic!("{var}={value:?}: {other:?}"),
    }
}

#[test]
fn defaults_apply_when_only_the_required_settings_are_given() {
    let config = parse(&[], &[]).unwrap();
    assert_eq!(config.api_key.expose(), KEY);
    assert_eq!(config.project_id, "proj");
    assert_eq!(
        config.task,
        Task::Watch {
            job_id: "job_1".into()
        }
    );
    assert!(config.wait);
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
        &["--job-id", "from_flag", "--timeout=90", "--require-pr"],
        &[("MINTLIFY_TIMEOUT", "5m")],
    )
    .unwrap();
    assert_eq!(config.task.job_id(), Some("from_flag"));
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
    assert_eq!(refused(&[], &[NO_JOB]), ConfigError::NoJob { empty: None });
}

#[test]
fn missing_required_settings_are_named() {
    assert_eq!(
        refused(&[], &[("MINTLIFY_API_KEY", "")]),
        ConfigError::KeyMissing
    );
    assert_eq!(
        refused(&[], &[("MINTLIFY_PROJECT_ID", "")]),
        ConfigError::NoProject
    );
    for error in [
        ConfigError::KeyMissing,
        ConfigError::NoProject,
        ConfigError::NoJob { empty: None },
    ] {
        let message = error.to_string();
        assert!(
            message.starts_with("MINTLIFY_") && message.contains(" is not set: set "),
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
        ("ftp://127.0.0.1", "scheme that is not https"),
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
        assert_eq!(invalid(var, "0"), ValueProblem::Zero);
        assert_eq!(invalid(var, "soon"), ValueProblem::NotADuration);
        // Parts that could be typos are refused, not added up, and the refusal says the forms.
        for typo in ["1h1h", "1m60s", "1ms1000s"] {
            assert_eq!(invalid(var, typo), ValueProblem::NotADuration);
        }
    }
    assert_eq!(
        refused(&[], &[("MINTLIFY_POLL_MAX", "11s")]),
        ConfigError::PollAboveCap(Duration::from_secs(11))
    );
    assert!(matches!(
        refused(
            &[],
            &[("MINTLIFY_POLL_INITIAL", "5s"), ("MINTLIFY_POLL_MAX", "2s")]
        ),
        ConfigError::PollInitialAboveMax { .. }
    ));
}

#[test]
fn booleans_and_log_levels_are_checked() {
    for var in ["MINTLIFY_ALLOW_ARCHIVED", "MINTLIFY_REQUIRE_PR"] {
        for yes in ["true", "TRUE", "1", "yes", "Yes"] {
            assert!(parse(&[], &[(var, yes)]).is_ok());
        }
        assert_eq!(invalid(var, "maybe"), ValueProblem::NotABoolean);
        assert!(refusal(&[], &[(var, "maybe")]).starts_with(&format!("{var}=\"maybe\" is not")));
    }
    assert_eq!(invalid("MINTLIFY_LOG", "loud"), ValueProblem::NotALogLevel);
}

#[test]
fn ids_that_could_leave_their_path_segment_or_line_are_refused() {
    assert!(refusal(&[], &[("MINTLIFY_JOB_ID", "j\nob")]).contains("control or invisible"));
    assert!(refusal(&[], &[("MINTLIFY_JOB_ID", "j\u{202E}ob")]).contains("control or invisible"));
    assert!(
        refusal(&[], &[("MINTLIFY_PROJECT_ID", "p\u{1b}[31m")]).contains("control or invisible")
    );
    assert!(refusal(&[], &[("MINTLIFY_JOB_ID", "..")]).contains("is not an id"));
    let config = parse(&[], &[("MINTLIFY_JOB_ID", "../../x")]).unwrap();
    assert_eq!(config.task.job_id(), Some("../../x"));
}

#[test]
fn ids_are_trimmed_like_the_key() {
    let config = parse(
        &[],
        &[
            ("MINTLIFY_JOB_ID", " job_1\n"),
            ("MINTLIFY_PROJECT_ID", "\tproj "),
        ],
    )
    .unwrap();
    assert_eq!(
        (config.task.job_id(), config.project_id.as_str()),
        (Some("job_1"), "proj")
    );
    assert_eq!(
        invalid("MINTLIFY_JOB_ID", " \n"),
        ValueProblem::Id(IdProblem::Empty)
    );
}

#[test]
fn durations_above_five_days_are_refused_before_they_reach_the_clock() {
    for huge in ["9223372036854775807", "121h", "18446744073709551615s"] {
        let message = refusal(&[], &[("MINTLIFY_TIMEOUT", huge)]);
        assert!(
            message.contains("above the maximum of 5 days") || message.contains("not a duration"),
            "{huge}: {message}"
        );
    }
    assert!(refusal(&[], &[("MINTLIFY_REQUEST_TIMEOUT", "200h")]).contains("5 days"));
    assert_eq!(
        parse(&[], &[("MINTLIFY_TIMEOUT", "120h")]).unwrap().timeout,
        flags::DURATION_MAX
    );
}

#[test]
fn polling_under_a_second_is_for_a_local_mock_only() {
    assert_eq!(
        refused(&[], &[("MINTLIFY_POLL_INITIAL", "1ms")]),
        ConfigError::PollTooFast(Duration::from_millis(1))
    );
    let local = [
        ("MINTLIFY_POLL_INITIAL", "10ms"),
        ("MINTLIFY_API_URL", "http://127.0.0.1:9"),
    ];
    assert_eq!(
        parse(&[], &local).unwrap().poll_initial,
        Duration::from_millis(10)
    );
}

#[test]
fn a_ca_bundle_that_cannot_serve_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    for path in [&missing, &empty, &dir.path().to_path_buf()] {
        let message = refusal(&[], &[("SSL_CERT_FILE", path.to_str().unwrap())]);
        assert!(message.starts_with("SSL_CERT_FILE="), "{message}");
    }
    // Plain http to this machine loads no roots, so the bundle does not matter.
    let local = [
        ("SSL_CERT_FILE", missing.to_str().unwrap()),
        ("MINTLIFY_API_URL", "http://127.0.0.1:9"),
    ];
    assert!(parse(&[], &local).is_ok());
}

#[test]
fn unknown_arguments_and_repeated_flags_are_refused() {
    for args in [
        &["--jobid", "x"][..],
        &["job_1"],
        &["--job-id"],
        &["--job-id", "a", "--job-id", "b"],
        &["--require-pr", "true"],
    ] {
        assert!(
            matches!(refused(args, &[]), ConfigError::Usage(_)),
            "{args:?}"
        );
    }
    assert!(refusal(&["--jobid", "x"], &[]).contains("'--jobid'"));
}

#[test]
fn a_value_after_a_switch_and_a_key_as_an_argument_are_explained() {
    let message = refusal(&["--wait", "false"], &[]);
    assert!(
        message.starts_with("--wait is a switch that takes its value after =, as --wait=false"),
        "{message}"
    );
    assert_eq!(
        refused(&["mint_S3cr3tK3y"], &[]),
        ConfigError::KeyAsArgument
    );
    let config = parse(&["--prompt", "- update the docs"], &[]).unwrap();
    assert!(matches!(config.task, Task::FollowUp { prompt, .. } if prompt == "- update the docs"));
}

/// Which flags are switches comes from the definition, not from a list beside it.
#[test]
fn every_switch_explains_a_value_given_apart() {
    let switches: Vec<String> = Flags::command_for_help()
        .get_arguments()
        .filter(|arg| arg.is_require_equals_set())
        .filter_map(|arg| arg.get_long().map(|long| format!("--{long}")))
        .collect();
    assert!(switches.len() >= 3, "{switches:?}");
    for switch in switches {
        let message = refusal(&[switch.as_str(), "no"], &[]);
        assert!(
            message.starts_with(&format!(
                "{switch} is a switch that takes its value after ="
            )),
            "{message}"
        );
    }
    assert!(!refusal(&["--timeout", "5s", "no"], &[]).contains("is a switch"));
}

/// With several bad values, the refusal names the first bad flag in the order given, then the
/// first bad variable.
#[test]
fn the_first_bad_value_is_named_by_where_it_came_from() {
    let bad_variables = [("MINTLIFY_POLL_MAX", "soon"), ("MINTLIFY_LOG", "loud")];
    let first = |args: &[&str], pairs: &[(&str, &str)]| match refused(args, pairs) {
        ConfigError::Invalid { setting, value, .. } => (setting, value),
        other => panic!("{args:?}: {other:?}"),
    };
    assert_eq!(
        first(&["--timeout=never", "--job-id", ".."], &bad_variables),
        (Setting::Flag("--timeout".into()), "never".into())
    );
    assert_eq!(
        first(&["--job-id", "..", "--timeout=never"], &bad_variables),
        (Setting::Flag("--job-id".into()), "..".into())
    );
    assert_eq!(
        first(&[], &bad_variables),
        (Setting::Variable("MINTLIFY_POLL_MAX".into()), "soon".into())
    );
    assert_eq!(
        first(&["--poll-max=5s"], &bad_variables),
        (Setting::Variable("MINTLIFY_LOG".into()), "loud".into())
    );
    // The command line's form is read whole before any value is checked: a mistake in it,
    // or `--help`, comes first wherever it stands.
    assert!(matches!(
        refused(&["--timeout=never", "--bogus"], &[]),
        ConfigError::Usage(message) if message.contains("'--bogus'")
    ));
    let args = ["--timeout=never", "--help"].map(OsString::from);
    assert!(matches!(
        Command::parse(&args, &env_with(&[])),
        Ok(Command::Print(help)) if help.contains("Exit codes:")
    ));
    // A value holding `=` or starting with `-` reaches its parser whole.
    let config = parse(&["--prompt=--x=1", "--log=DEBUG"], &[]).unwrap();
    assert!(matches!(config.task, Task::FollowUp { prompt, .. } if prompt == "--x=1"));
    assert_eq!(config.log_level, LevelFilter::DEBUG);
}

#[cfg(unix)]
#[test]
fn a_variable_that_is_not_utf8_is_refused_by_name_unless_it_is_a_path() {
    use std::os::unix::ffi::OsStringExt as _;
    let env = |name: &str| match name {
        "MINTLIFY_API_KEY" => Some(OsString::from(KEY)),
        "MINTLIFY_PROJECT_ID" => Some(OsString::from("proj")),
        "MINTLIFY_JOB_ID" => Some(OsString::from_vec(b"j\xff".to_vec())),
        _ => None,
    };
    assert_eq!(
        Command::parse(&[], &env).unwrap_err(),
        ConfigError::NotUtf8("MINTLIFY_JOB_ID".into())
    );
    let env = |name: &str| match name {
        "MINTLIFY_DOTENV" => Some(OsString::from_vec(b"gate\xff.env".to_vec())),
        "MINTLIFY_JOB_ID" => Some(OsString::from("job_1")),
        other => env(other),
    };
    match Command::parse(&[], &env) {
        Ok(Command::Run(config)) => assert!(config.destinations.dotenv.is_some()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn boolean_flags_are_switches_with_an_optional_value() {
    let config = parse(&["--require-pr", "--timeout", "5s"], &[]).unwrap();
    assert!(config.require_pr);
    assert_eq!(config.timeout, Duration::from_secs(5));
    let config = parse(
        &["--require-pr=false", "--allow-archived=yes"],
        &[("MINTLIFY_REQUIRE_PR", "true")],
    )
    .unwrap();
    assert!(!config.require_pr && config.allow_archived);
    assert!(parse(&["--"], &[]).is_ok());
}

#[test]
fn an_empty_flag_is_refused_by_its_name_and_never_hides_the_variable() {
    for (args, flag) in [
        (&["--job-id", ""][..], "--job-id"),
        (&["--timeout="], "--timeout"),
        (&["--prompt", " "], "--prompt"),
    ] {
        match refused(args, &[NO_JOB, ("MINTLIFY_TIMEOUT", "5m")]) {
            ConfigError::Invalid {
                setting: Setting::Flag(named),
                ..
            } => assert_eq!(named, flag),
            other => panic!("{args:?}: {other:?}"),
        }
    }
}

#[test]
fn help_lists_every_setting_with_its_variable_and_default_in_100_columns() {
    let help = Flags::command_for_help().render_help().to_string();
    for arg in Flags::command_for_help().get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        let var = arg.get_env();
        if long == "help" || long == "version" {
            continue;
        }
        assert!(help.contains(&format!("--{long}")), "--{long} missing");
        let var = var.unwrap_or_else(|| panic!("--{long} has no variable"));
        // Wrapping may break `[env: NAME]` across lines, never the name itself.
        assert!(
            help.contains(&*var.to_string_lossy()),
            "{var:?} missing:\n{help}"
        );
    }
    for exit in crate::run::outcome::Exit::ALL {
        assert!(
            help.contains(&format!("{:>3}  {}", exit.code(), exit.meaning())),
            "exit {} missing",
            exit.code()
        );
    }
    assert!(help.contains("MINTLIFY_API_KEY") && !help.contains("--api-key"));
    assert!(
        help.lines().all(|line| line.chars().count() <= 100),
        "{help}"
    );
    let args = [OsString::from("--help")];
    assert!(matches!(
        Command::parse(&args, &|_| None),
        Ok(Command::Print(text)) if text == help
    ));
}

/// The README's settings table, row by row: each flag's variable and default as defined.
#[test]
fn the_readme_tables_match_the_definitions() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let row = |first_cell: &str| {
        readme
            .lines()
            .find(|line| line.starts_with(&format!("| {first_cell} |")))
            .unwrap_or_else(|| panic!("no README row for {first_cell}"))
            .to_owned()
    };
    for arg in Flags::command_for_help().get_arguments() {
        let Some(var) = arg.get_env() else { continue };
        let line = row(&format!("`{}`", var.to_string_lossy()));
        let default = arg
            .get_default_values()
            .first()
            .map(|d| format!("`{}`", d.to_string_lossy()));
        if let Some(default) = default {
            assert!(line.contains(&format!("| {default} |")), "{line}");
        }
    }
    row("`MINTLIFY_API_KEY`");
    let rows = readme
        .lines()
        .skip_while(|line| *line != "## Exit codes")
        .take_while(|line| !line.starts_with("## Outputs"))
        .collect::<Vec<_>>()
        .join("\n");
    for exit in crate::run::outcome::Exit::ALL {
        assert!(
            rows.contains(&format!("| {} |", exit.code()))
                || rows.contains(&format!(" {} / ", exit.code()))
                || rows.contains(&format!("/ {} |", exit.code())),
            "exit {} is not in the README's table",
            exit.code()
        );
    }
}

#[test]
fn a_prompt_without_a_job_creates_one_and_with_a_job_follows_up() {
    let config = parse(&[], &[NO_JOB, ("MINTLIFY_PROMPT", "Document the API")]).unwrap();
    assert_eq!(
        config.task,
        Task::Create {
            prompt: "Document the API".into()
        }
    );
    let config = parse(&["--prompt", "And the CLI"], &[]).unwrap();
    assert_eq!(
        config.task,
        Task::FollowUp {
            job_id: "job_1".into(),
            prompt: "And the CLI".into()
        }
    );
}

#[test]
fn a_prompt_file_is_read_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prompt.md");
    let prompt =
        "Update the docs for this diff:\n\n```diff\n- old\n+ new\n```\n\ttabs and \u{e9}\n";
    std::fs::write(&path, prompt).unwrap();
    let file = path.to_str().unwrap();
    let config = parse(&[], &[NO_JOB, ("MINTLIFY_PROMPT_FILE", file)]).unwrap();
    assert_eq!(
        config.task,
        Task::Create {
            prompt: prompt.into()
        }
    );
}

#[test]
fn prompts_that_cannot_be_sent_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let blank = dir.path().join("blank.md");
    std::fs::write(&blank, " \n\t\n").unwrap();
    let blank = blank.to_str().unwrap();
    let missing = dir.path().join("missing.md");
    let missing = missing.to_str().unwrap();
    assert_eq!(
        refused(
            &[],
            &[("MINTLIFY_PROMPT", "x"), ("MINTLIFY_PROMPT_FILE", blank)]
        ),
        ConfigError::PromptTwice
    );
    assert!(refusal(&[], &[NO_JOB, ("MINTLIFY_PROMPT", "  \n ")]).contains("is empty"));
    assert!(refusal(&[], &[("MINTLIFY_PROMPT_FILE", blank)]).contains("is empty"));
    let message = refusal(&[], &[("MINTLIFY_PROMPT_FILE", missing)]);
    assert!(
        message.starts_with("MINTLIFY_PROMPT_FILE=")
            && message.contains("missing.md")
            && message.contains("cannot be read"),
        "{message}"
    );
    let latin1 = dir.path().join("latin1.md");
    std::fs::write(&latin1, b"caf\xe9").unwrap();
    let message = refusal(&[], &[("MINTLIFY_PROMPT_FILE", latin1.to_str().unwrap())]);
    assert!(message.contains("is not UTF-8 text"), "{message}");
    let message = refusal(
        &[],
        &[("MINTLIFY_PROMPT_FILE", dir.path().to_str().unwrap())],
    );
    assert!(message.contains("is not a regular file"), "{message}");
    if cfg!(unix) {
        let message = refusal(&[], &[("MINTLIFY_PROMPT_FILE", "/dev/zero")]);
        assert!(message.contains("is not a regular file"), "{message}");
    }
}

#[test]
fn a_prompt_file_refused_is_named_as_it_was_given() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.md");
    let missing = missing.to_str().unwrap();
    let flag = format!("--prompt-file={missing}");
    let message = refusal(&[&flag], &[NO_JOB]);
    assert!(
        message.starts_with(&format!("--prompt-file \"{missing}\" cannot be read")),
        "{message}"
    );
    // An empty file is named too, beside a job it would have sent a follow-up to.
    let empty = dir.path().join("empty.md");
    std::fs::write(&empty, "").unwrap();
    let empty = empty.to_str().unwrap();
    assert_eq!(
        refusal(&[&format!("--prompt-file={empty}")], &[]),
        format!(
            "--prompt-file \"{empty}\" is empty (nothing but whitespace or invisible characters): write what the agent should do in it"
        )
    );
    // The flag wins over the variable, so it is the flag that is named.
    let message = refusal(&[&flag], &[NO_JOB, ("MINTLIFY_PROMPT_FILE", "other.md")]);
    assert!(message.starts_with("--prompt-file "), "{message}");
    let message = refusal(&[], &[NO_JOB, ("MINTLIFY_PROMPT_FILE", missing)]);
    assert!(
        message.starts_with(&format!(
            "MINTLIFY_PROMPT_FILE=\"{missing}\" cannot be read"
        )),
        "{message}"
    );
}

#[test]
fn not_waiting_needs_something_to_start() {
    let config = parse(
        &[],
        &[("MINTLIFY_PROMPT", "Go"), ("MINTLIFY_WAIT", "false")],
    )
    .unwrap();
    assert!(!config.wait);
    assert_eq!(
        refused(&[], &[("MINTLIFY_WAIT", "no")]),
        ConfigError::WaitWithoutPrompt
    );
    assert_eq!(invalid("MINTLIFY_WAIT", "later"), ValueProblem::NotABoolean);
    assert_eq!(invalid("MINTLIFY_PROMPT", " - "), ValueProblem::LoneDash);
}

#[test]
fn a_flag_is_never_taken_as_the_value_of_the_flag_before_it() {
    let pairs = [NO_JOB];
    for (args, flag, next) in [
        (
            &["--prompt", "--job-id=job_42"][..],
            "--prompt",
            "--job-id=job_42",
        ),
        (
            &["--prompt", "--require-pr"][..],
            "--prompt",
            "--require-pr",
        ),
        (&["--prompt", "-h"][..], "--prompt", "-h"),
        (&["--timeout", "--prompt=x"][..], "--timeout", "--prompt=x"),
        (&["--prompt", "--"][..], "--prompt", "--"),
        (
            &["--job-id", "job_42", "--prompt", "--"][..],
            "--prompt",
            "--",
        ),
        (&["--timeout", "-5s"][..], "--timeout", "-5s"),
        (&["--job-id", "-1"][..], "--job-id", "-1"),
    ] {
        let error = refused(args, &pairs);
        assert!(
            matches!(&error, ConfigError::FlagAsValue { flag: f, next: n, .. } if f == flag && n == next),
            "{args:?}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&format!("{flag}={next}")) && message.contains("MINTLIFY_"),
            "{message}"
        );
    }
    // A value that really starts with `-` is given after `=`, or in the variable.
    for (args, pairs) in [
        (&["--prompt=--job-id=job_42"][..], &pairs[..]),
        (&[][..], &[NO_JOB, ("MINTLIFY_PROMPT", "-h")][..]),
    ] {
        let config = parse(args, pairs).unwrap();
        assert!(
            matches!(&config.task, Task::Create { prompt } if prompt.starts_with('-')),
            "{:?}",
            config.task
        );
    }
    let config = parse(&["--prompt=-h"], &pairs).unwrap();
    assert_eq!(
        config.task,
        Task::Create {
            prompt: "-h".into()
        }
    );
    // Text that starts with a dash but is no flag stays a value.
    for text in ["- update the list", "---", "-5 lines"] {
        let config = parse(&["--prompt", text], &pairs).unwrap();
        assert_eq!(
            config.task,
            Task::Create {
                prompt: text.into()
            }
        );
    }
}

#[test]
fn a_prompt_of_only_invisible_characters_is_empty_and_a_bom_is_no_part_of_it() {
    let dir = tempfile::tempdir().unwrap();
    for invisible in [
        "\u{feff}",
        "\u{feff}\r\n",
        "\u{200b}\u{2060} \u{200d}",
        "\u{feff}\u{feff}",
    ] {
        let file = dir.path().join("prompt.md");
        std::fs::write(&file, invisible).unwrap();
        let file = file.to_str().unwrap();
        assert!(
            matches!(
                refused(&[], &[NO_JOB, ("MINTLIFY_PROMPT_FILE", file)]),
                ConfigError::PromptFile {
                    problem: FileProblem::Empty,
                    ..
                }
            ),
            "{invisible:?}"
        );
        assert_eq!(
            invalid("MINTLIFY_PROMPT", invisible),
            ValueProblem::Blank,
            "{invisible:?}"
        );
    }
    // PowerShell 5's `>` writes UTF-16 with a byte order mark, even for an empty line.
    let utf16 = dir.path().join("utf16.md");
    std::fs::write(&utf16, b"\xff\xfe\r\0\n\0").unwrap();
    let message = refusal(
        &[],
        &[NO_JOB, ("MINTLIFY_PROMPT_FILE", utf16.to_str().unwrap())],
    );
    assert!(message.contains("is UTF-16 text"), "{message}");
    let file = dir.path().join("notepad.md");
    std::fs::write(&file, "\u{feff}Document the API").unwrap();
    for pairs in [
        [("MINTLIFY_PROMPT_FILE", file.to_str().unwrap())],
        [("MINTLIFY_PROMPT", "\u{feff}Document the API")],
    ] {
        let config = parse(&[], &[&pairs[..], &[NO_JOB]].concat()).unwrap();
        assert_eq!(
            config.task,
            Task::Create {
                prompt: "Document the API".into()
            }
        );
    }
}

#[test]
fn keys_of_the_wrong_type_are_refused_in_capitals_too() {
    for (key, kind) in [
        ("MINT_DSC_secretvalue", "assistant key"),
        ("Mint_Us_secretvalue", "index key"),
    ] {
        let message = refusal(&[], &[("MINTLIFY_API_KEY", key)]);
        assert!(message.contains(kind), "{message}");
        assert!(!message.contains("secretvalue"), "{message}");
    }
}

#[test]
fn a_proxy_the_client_would_ignore_or_cannot_speak_is_refused_by_name() {
    let refused_proxy = |pairs: &[(&str, &str)]| match refused(&[], pairs) {
        ConfigError::Proxy { name, problem, .. } => (name, problem),
        other => panic!("{pairs:?}: {other:?}"),
    };
    assert_eq!(
        refused_proxy(&[("https_proxy", "http://[::1")]),
        ("https_proxy", ProxyProblem::Unparseable)
    );
    assert_eq!(
        refused_proxy(&[("all_proxy", "gopher://proxy:70")]),
        ("all_proxy", ProxyProblem::Unparseable)
    );
    assert_eq!(
        refused_proxy(&[("ALL_PROXY", "socks5://proxy:1080")]),
        ("ALL_PROXY", ProxyProblem::Socks)
    );
    // A password in the value is not repeated.
    for port in ["99999", "65536", "-1", "0", "80x"] {
        assert_eq!(
            refused_proxy(&[("HTTPS_PROXY", &format!("http://127.0.0.1:{port}"))]),
            ("HTTPS_PROXY", ProxyProblem::Port),
            "{port}"
        );
    }
    assert_eq!(
        refused_proxy(&[("HTTPS_PROXY", "http://u:p@[::1]:70000/")]),
        ("HTTPS_PROXY", ProxyProblem::Port)
    );
    assert_eq!(
        refused_proxy(&[("HTTPS_PROXY", "SOCKS5://proxy:1080")]),
        ("HTTPS_PROXY", ProxyProblem::Socks)
    );
    let message = refusal(&[], &[("HTTPS_PROXY", "socks5://me:hunter2@proxy:1080")]);
    assert!(message.contains("\"socks5://***@proxy:1080\""), "{message}");
    for fine in [
        &[("HTTPS_PROXY", "proxy.corp:3128")][..],
        &[("HTTPS_PROXY", "http://[::1]:65535")],
        &[("HTTPS_PROXY", "HTTP://proxy.corp:3128")],
        &[("HTTPS_PROXY", "http://me:pw@proxy.corp:3128")],
        // HTTPS_PROXY wins over ALL_PROXY, and NO_PROXY keeps the API off a SOCKS one.
        &[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("ALL_PROXY", "socks5://proxy:1080"),
        ],
        &[
            ("ALL_PROXY", "socks5://proxy:1080"),
            ("NO_PROXY", "mintlify.com"),
        ],
        // Set but empty, as reqwest reads it: no proxy, and the lower-case name is not read.
        &[("HTTPS_PROXY", ""), ("https_proxy", "http://[::1")],
        // Plain http to this machine uses no proxy at all.
        &[
            ("HTTPS_PROXY", "http://[::1"),
            ("MINTLIFY_API_URL", "http://127.0.0.1:9"),
        ],
        // Nor does a CGI request, whose Proxy header would become HTTP_PROXY.
        &[
            ("HTTPS_PROXY", "socks5://proxy:1080"),
            ("REQUEST_METHOD", "GET"),
        ],
    ] {
        assert!(parse(&[], fine).is_ok(), "{fine:?}");
    }
}

#[test]
fn the_ca_bundle_is_read_whole_through_the_given_environment() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(Vec::new())
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let path = dir.path().join("bundle.pem");
    std::fs::write(&path, format!("{}{}", "#\n".repeat(40_000), cert.pem())).unwrap();
    let config = parse(&[], &[("SSL_CERT_FILE", path.to_str().unwrap())]).unwrap();
    assert_eq!(config.roots.bundle, Some(vec![cert.der().clone()]));
    let marker_only = dir.path().join("marker.pem");
    std::fs::write(
        &marker_only,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    assert!(matches!(
        refused(&[], &[("SSL_CERT_FILE", marker_only.to_str().unwrap())]),
        ConfigError::CaBundle {
            problem: FileProblem::NoCertificate,
            ..
        }
    ));
}

#[test]
fn each_deployment_setting_chooses_what_the_run_is_about() {
    /// Flags, variables, and the task they choose.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], Task);
    let no_job = NO_JOB;
    let cases: [Case<'_>; 4] = [
        (&["--deploy"], &[no_job], Task::Deploy(Deploy::Production)),
        (
            &[],
            &[no_job, ("MINTLIFY_PREVIEW_BRANCH", " docs/new\n")],
            Task::Deploy(Deploy::Preview {
                branch: "docs/new".into(),
            }),
        ),
        (
            &["--deployment-id", "st_1"],
            &[no_job],
            Task::WatchDeployment {
                deployment_id: "st_1".into(),
            },
        ),
        (
            &[],
            &[no_job, ("MINTLIFY_AUTOMATION_ID", "auto_1")],
            Task::Automation {
                automation_id: "auto_1".into(),
            },
        ),
    ];
    for (args, pairs, task) in cases {
        let config = parse(args, pairs).unwrap();
        assert_eq!(config.task, task);
        assert!(!config.preview);
    }
    let config = parse(&["--preview"], &[]).unwrap();
    assert!(config.preview && config.task.is_agent());
    // A deployment set to false chooses nothing.
    let config = parse(&["--deploy=false"], &[]).unwrap();
    assert_eq!(config.task.job_id(), Some("job_1"));
}

#[test]
fn a_subject_set_to_nothing_beside_another_is_refused_naming_both() {
    let variable = |name: &str| Setting::Variable(name.to_owned());
    for (args, pairs, empty, beside) in [
        (
            &[][..],
            &[("MINTLIFY_PREVIEW_BRANCH", "")][..],
            variable("MINTLIFY_PREVIEW_BRANCH"),
            variable("MINTLIFY_JOB_ID"),
        ),
        // An empty prompt never turns a follow-up into a watch of the job's old status.
        (
            &[],
            &[("MINTLIFY_PROMPT", "")],
            variable("MINTLIFY_PROMPT"),
            variable("MINTLIFY_JOB_ID"),
        ),
        (
            &[],
            &[("MINTLIFY_PROMPT", "\u{feff} \n")],
            variable("MINTLIFY_PROMPT"),
            variable("MINTLIFY_JOB_ID"),
        ),
        (
            &[],
            &[("MINTLIFY_PROMPT_FILE", "")],
            variable("MINTLIFY_PROMPT_FILE"),
            variable("MINTLIFY_JOB_ID"),
        ),
        (
            &["--prompt=Go"],
            &[("MINTLIFY_JOB_ID", "")],
            variable("MINTLIFY_JOB_ID"),
            Setting::Flag("--prompt".into()),
        ),
        (
            &["--deploy"],
            &[NO_JOB, ("MINTLIFY_DEPLOYMENT_ID", " ")],
            variable("MINTLIFY_DEPLOYMENT_ID"),
            Setting::Flag("--deploy".into()),
        ),
        (
            &["--automation-id="],
            &[NO_JOB, ("MINTLIFY_DEPLOY", "yes")],
            Setting::Flag("--automation-id".into()),
            variable("MINTLIFY_DEPLOY"),
        ),
    ] {
        assert_eq!(
            refused(args, pairs),
            ConfigError::EmptySubject {
                empty,
                beside,
                overridden: None
            },
            "{args:?} {pairs:?}"
        );
    }
    assert_eq!(
        refusal(&[], &[("MINTLIFY_PREVIEW_BRANCH", "")]),
        "MINTLIFY_PREVIEW_BRANCH is set but empty or blank beside MINTLIFY_JOB_ID, which chooses what the run is about: unset MINTLIFY_PREVIEW_BRANCH if the run is about MINTLIFY_JOB_ID; if MINTLIFY_PREVIEW_BRANCH should hold a value, the expression that fills it came out empty"
    );
    // A flag that chooses wins over its variable set to nothing, and a switch set to false
    // chooses nothing.
    let config = parse(&["--job-id=job_2"], &[("MINTLIFY_JOB_ID", "")]).unwrap();
    assert_eq!(config.task.job_id(), Some("job_2"));
    let config = parse(
        &[],
        &[
            NO_JOB,
            ("MINTLIFY_DEPLOY", "false"),
            ("MINTLIFY_DEPLOYMENT_ID", ""),
        ],
    );
    assert_eq!(
        config.unwrap_err(),
        ConfigError::NoJob {
            empty: Some(variable("MINTLIFY_DEPLOYMENT_ID"))
        }
    );
}

#[test]
fn an_empty_flag_over_its_variable_is_refused_with_both_to_remove() {
    // Dropping --prompt alone brings MINTLIFY_PROMPT back: the job would get a follow-up.
    assert_eq!(
        refusal(&["--prompt="], &[("MINTLIFY_PROMPT", "Go")]),
        "--prompt is set but empty or blank beside MINTLIFY_JOB_ID, which chooses what the run is about: drop --prompt and unset MINTLIFY_PROMPT, which it overrides, if the run is about MINTLIFY_JOB_ID; if --prompt should hold a value, the expression that fills it came out empty"
    );
    // Dropping --job-id alone would send the prompt to job_1 instead of starting a job.
    let message = refusal(&["--job-id="], &[("MINTLIFY_PROMPT", "Go")]);
    assert!(
        message.contains(": drop --job-id and unset MINTLIFY_JOB_ID, which it overrides, if the run is about MINTLIFY_PROMPT;"),
        "{message}"
    );
    // A variable behind it that is itself empty comes back as nothing: dropping is enough.
    let message = refusal(&["--prompt="], &[("MINTLIFY_PROMPT", "")]);
    assert!(
        message.contains(": drop --prompt if the run is about MINTLIFY_JOB_ID;"),
        "{message}"
    );
}

#[test]
fn a_subject_set_to_nothing_alone_is_named_by_the_refusal_that_nothing_is_set() {
    let empty = Some(Setting::Variable("MINTLIFY_JOB_ID".into()));
    assert_eq!(
        refused(&[], &[("MINTLIFY_JOB_ID", "")]),
        ConfigError::NoJob {
            empty: empty.clone()
        }
    );
    let message = refusal(&[], &[("MINTLIFY_JOB_ID", "")]);
    assert!(
        message.starts_with("MINTLIFY_JOB_ID (or --job-id) is not set (MINTLIFY_JOB_ID is empty, which counts as not set: if it should hold a value, the expression that fills it came out empty): set it"),
        "{message}"
    );
    assert_eq!(
        refused(&["--preview"], &[("MINTLIFY_JOB_ID", "")]),
        ConfigError::PreviewWithoutAgent { empty }
    );
    // Blank, or an empty flag, alone: refused by the setting's own check, which names it.
    for (args, pairs, named) in [
        (
            &[][..],
            &[NO_JOB, ("MINTLIFY_PREVIEW_BRANCH", " ")][..],
            "MINTLIFY_PREVIEW_BRANCH",
        ),
        (&["--deployment-id="], &[NO_JOB], "--deployment-id"),
    ] {
        let message = refusal(args, pairs);
        assert!(
            message.starts_with(named) && message.contains("is empty"),
            "{message}"
        );
    }
}

#[test]
fn two_subjects_or_a_preview_without_an_agent_job_are_refused() {
    assert_eq!(
        refused(&["--automation-id=a"], &[("MINTLIFY_DEPLOY", "yes")]),
        ConfigError::SeveralSubjects(
            [
                "the agent job (MINTLIFY_JOB_ID)",
                "MINTLIFY_DEPLOY",
                "--automation-id"
            ]
            .map(str::to_owned)
            .to_vec()
        )
    );
    // Each named as it was given, the agent's settings too.
    assert_eq!(
        refused(
            &["--job-id=job_2", "--deploy"],
            &[("MINTLIFY_PROMPT", "Go")]
        ),
        ConfigError::SeveralSubjects(
            ["the agent job (--job-id, MINTLIFY_PROMPT)", "--deploy"]
                .map(str::to_owned)
                .to_vec()
        )
    );
    let no_job = NO_JOB;
    assert_eq!(
        refused(&["--preview"], &[no_job]),
        ConfigError::PreviewWithoutAgent { empty: None }
    );
    assert_eq!(
        refused(&["--preview", "--deployment-id=st_1"], &[no_job]),
        ConfigError::PreviewWithoutAgent { empty: None }
    );
    assert_eq!(
        refused(&["--preview", "--wait=false", "--prompt=x"], &[]),
        ConfigError::PreviewWithoutWaiting
    );
    assert_eq!(
        refused(&["--deployment-id=st_1", "--wait=false"], &[no_job]),
        ConfigError::WaitWithoutTrigger
    );
    assert!(matches!(
        refused(&["--preview-branch", "a b"], &[no_job]),
        ConfigError::Invalid {
            problem: ValueProblem::NotABranch,
            ..
        }
    ));
}
