//! action.yml and the README against the binary: every input reaches a variable the binary
//! reads, every output it writes is declared (and nothing else), and the README's examples use
//! only what action.yml declares. action.yml's schema is checked by .ci/run.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;

const ACTION: &str = include_str!("../action.yml");
const README: &str = include_str!("../README.md");

/// Keys directly under `path` (a list of nested keys) in a block-style YAML document, with
/// their inline values. Enough for action.yml, whose layout this project controls.
fn keys_under(text: &str, path: &[&str]) -> BTreeMap<String, String> {
    let mut depth = 0;
    let mut keys = BTreeMap::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if indent < depth * 2 && depth > 0 {
            if depth == path.len() {
                break;
            }
            depth = indent / 2;
        }
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        if depth < path.len() && indent == depth * 2 && key == path[depth] {
            depth += 1;
        } else if depth == path.len() && indent == depth * 2 {
            keys.insert(key.to_owned(), value.trim().to_owned());
        }
    }
    keys
}

fn variables_the_binary_reads() -> BTreeSet<String> {
    let output = assert_cmd::Command::cargo_bin("mintlify-agent-gate")
        .unwrap()
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    help.split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .filter(|word| word.starts_with("MINTLIFY_") && word.len() > "MINTLIFY_".len())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_input_reaches_a_variable_the_binary_reads() {
    let inputs = keys_under(ACTION, &["inputs"]);
    let env = keys_under(ACTION, &["runs", "env"]);
    let read = variables_the_binary_reads();
    assert!(inputs.len() >= 10, "{inputs:?}");
    for input in inputs.keys() {
        let description = &keys_under(ACTION, &["inputs", input.as_str()])["description"];
        assert!(
            description.contains("Default:")
                || description.contains("no default")
                || description.contains("No default"),
            "the description of input {input} does not give its default: {description}"
        );
    }
    for input in inputs.keys() {
        let reference = format!("${{{{ inputs.{input} }}}}");
        let vars: Vec<&String> = env
            .iter()
            .filter(|(_, v)| **v == reference)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            vars.len(),
            1,
            "input {input} should map to exactly one variable: {vars:?}"
        );
        assert!(
            read.contains(vars[0]),
            "{} (from input {input}) is not read by the binary",
            vars[0]
        );
    }
    for (var, value) in &env {
        assert!(
            read.contains(var),
            "runs.env sets {var}, which the binary does not read"
        );
        let input = value
            .trim_start_matches("${{ inputs.")
            .trim_end_matches(" }}");
        assert!(
            inputs.contains_key(input),
            "{var} comes from {value}, which is not an input"
        );
    }
    assert_eq!(
        keys_under(ACTION, &["runs"])["image"],
        "Dockerfile",
        "main builds its own Dockerfile"
    );
}

#[tokio::test]
async fn every_output_the_binary_writes_is_declared_and_the_reverse() {
    let server = finished_api().await;
    let run = Gate::new(&server.uri()).run();
    run.assert_code(0);
    let written: BTreeSet<String> = run.outputs().into_keys().collect();
    let declared: BTreeSet<String> = keys_under(ACTION, &["outputs"]).into_keys().collect();
    assert_eq!(written, declared);
}

/// The `with:` keys of each step in `text` that uses the action from a release.
fn steps_using_the_action(text: &str) -> Vec<BTreeSet<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut steps = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !line.contains("uses: ") || !line.contains("/mintlify-agent-gate@") {
            continue;
        }
        let mut keys = BTreeSet::new();
        if let Some(with) = lines[i + 1..]
            .iter()
            .take_while(|l| indent(l) >= indent(line))
            .position(|l| l.trim() == "with:")
        {
            let with_line = lines[i + 1 + with];
            for key_line in lines[i + 2 + with..]
                .iter()
                .take_while(|l| indent(l) > indent(with_line))
            {
                if indent(key_line) == indent(with_line) + 2 {
                    keys.insert(key_line.trim().split(':').next().unwrap().to_owned());
                }
            }
        }
        steps.push(keys);
    }
    steps
}

#[test]
fn the_readme_examples_use_only_declared_inputs_and_outputs() {
    let inputs = keys_under(ACTION, &["inputs"]);
    let outputs = keys_under(ACTION, &["outputs"]);
    let required: Vec<&String> = inputs
        .keys()
        .filter(|name| keys_under(ACTION, &["inputs", name.as_str()])["required"] == "true")
        .collect();
    let steps = steps_using_the_action(README);
    assert!(!steps.is_empty(), "the README has no GitHub example");
    for with in &steps {
        for key in with {
            assert!(
                inputs.contains_key(key),
                "README uses input {key}, which action.yml does not declare"
            );
        }
        for name in &required {
            assert!(
                with.contains(*name),
                "a README example leaves out the required input {name}"
            );
        }
    }
    let read: Vec<String> = README
        .split(".outputs.")
        .skip(1)
        .map(|piece| {
            piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect();
    assert!(
        !read.is_empty(),
        "the README shows no later step reading an output"
    );
    for name in read {
        assert!(
            outputs.contains_key(&name),
            "README reads output {name}, which action.yml does not declare"
        );
    }
    for name in ["RESULT", "PR_LINK"] {
        assert!(outputs.contains_key(&name.to_ascii_lowercase()));
        assert!(
            README.contains(&format!("${name}")),
            "the GitLab example should read ${name} from the dotenv report"
        );
    }
}
