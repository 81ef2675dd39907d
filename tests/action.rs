//! action.yml and the README against the binary, read with a YAML parser: every input reaches a
//! variable the binary reads, every output it writes is declared (and nothing else), the steps
//! never expand an expression into a script, and the README's examples use only what action.yml
//! declares. action.yml's schema is checked by .ci/run, and its steps are run end to end by
//! `tests/action_e2e.py`.

mod common;

use std::collections::BTreeSet;

use common::*;
use yaml_rust2::{Yaml, YamlLoader};

const ACTION: &str = include_str!("../action.yml");
const README: &str = include_str!("../README.md");
/// The prefix of the run step's variable for an input: `GATE_INPUT_X` becomes `MINTLIFY_X`.
const INPUT_PREFIX: &str = "GATE_INPUT_";
/// The one input that is the action's own, not a setting of the binary: the install step's
/// token for the download, which defaults to the job's token.
const TOKEN_INPUT: &str = "github_token";

fn action() -> Yaml {
    YamlLoader::load_from_str(ACTION)
        .expect("action.yml is valid YAML")
        .remove(0)
}

fn str_of(yaml: &Yaml) -> &str {
    yaml.as_str()
        .unwrap_or_else(|| panic!("expected a string, found {yaml:?}"))
}

/// The keys of a mapping, as strings.
fn keys(yaml: &Yaml) -> BTreeSet<String> {
    yaml.as_hash()
        .unwrap_or_else(|| panic!("expected a mapping, found {yaml:?}"))
        .keys()
        .map(|key| str_of(key).to_owned())
        .collect()
}

fn step<'a>(action: &'a Yaml, id: &str) -> &'a Yaml {
    action["runs"]["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|step| step["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("action.yml has no step with id {id}"))
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
    let action = action();
    let mut inputs = keys(&action["inputs"]);
    assert!(
        inputs.remove(TOKEN_INPUT),
        "the action takes a github_token"
    );
    assert_eq!(
        str_of(&action["inputs"][TOKEN_INPUT]["default"]),
        "${{ github.token }}"
    );
    assert_eq!(
        str_of(&step(&action, "install")["env"]["GATE_GITHUB_TOKEN"]),
        "${{ inputs.github_token }}"
    );
    let env = &step(&action, "gate")["env"];
    let script = str_of(&step(&action, "gate")["run"]);
    let read = variables_the_binary_reads();
    assert!(inputs.len() >= 10, "{inputs:?}");
    for input in &inputs {
        let description = str_of(&action["inputs"][input.as_str()]["description"]);
        assert!(
            description.contains("Default:")
                || description.contains("no default")
                || description.contains("No default"),
            "the description of input {input} does not give its default: {description}"
        );
        assert!(
            action["inputs"][input.as_str()]["default"].is_badvalue(),
            "input {input} has a default in action.yml; defaults live in the binary"
        );
    }
    let mut mapped = BTreeSet::new();
    for (var, value) in env.as_hash().unwrap() {
        let (var, value) = (str_of(var), str_of(value));
        let Some(setting) = var.strip_prefix(INPUT_PREFIX) else {
            continue;
        };
        let input = value
            .strip_prefix("${{ inputs.")
            .and_then(|rest| rest.strip_suffix(" }}"))
            .unwrap_or_else(|| panic!("{var} is {value}, not ${{{{ inputs.NAME }}}}"));
        assert!(
            inputs.contains(input),
            "{var} comes from {value}, which is not an input"
        );
        assert!(
            read.contains(&format!("MINTLIFY_{setting}")),
            "{var} (from input {input}) becomes MINTLIFY_{setting}, which the binary does not read"
        );
        assert!(
            mapped.insert(input.to_owned()),
            "input {input} is mapped twice"
        );
        assert!(
            script
                .split_whitespace()
                .any(|word| word == setting || word == format!("{setting};")),
            "the gate step's list of settings leaves out {setting}, so input {input} is dropped"
        );
    }
    assert_eq!(
        mapped, inputs,
        "every input should reach the binary exactly once"
    );
}

#[test]
fn the_action_is_composite_on_sh_and_expands_no_expression_in_a_script() {
    let action = action();
    assert_eq!(str_of(&action["runs"]["using"]), "composite");
    let steps = action["runs"]["steps"].as_vec().unwrap();
    assert!(steps.len() >= 2, "an install step and the gate");
    for step in steps {
        assert_eq!(
            str_of(&step["shell"]),
            "sh",
            "sh runs on every runner (Git's on Windows) and in every container, bash does not"
        );
        let script = str_of(&step["run"]);
        assert!(
            !script.contains("${{"),
            "step {:?} expands an expression into its script; pass it through env: instead",
            step["id"]
        );
    }
    assert!(
        str_of(&step(&action, "install")["run"]).contains("release-pins.txt"),
        "the install step reads the release's pins"
    );
}

#[tokio::test]
async fn every_output_the_binary_writes_is_declared_and_the_reverse() {
    let server = finished_api().await;
    let run = Gate::new(&server.uri()).run();
    run.assert_code(0);
    let written: BTreeSet<String> = run.outputs().into_keys().collect();
    let action = action();
    let declared = keys(&action["outputs"]);
    assert_eq!(written, declared);
    for name in &declared {
        assert_eq!(
            str_of(&action["outputs"][name.as_str()]["value"]),
            format!("${{{{ steps.gate.outputs.{name} }}}}"),
            "output {name} should be the gate step's output of the same name"
        );
    }
}

/// The YAML blocks of the README, parsed.
fn readme_yaml_blocks() -> Vec<Yaml> {
    let mut blocks = Vec::new();
    let mut rest = README;
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + "```yaml\n".len()..];
        let end = body.find("\n```").expect("an unclosed ```yaml block");
        let text = &body[..=end];
        let docs = YamlLoader::load_from_str(text)
            .unwrap_or_else(|error| panic!("a README block is not valid YAML ({error}):\n{text}"));
        blocks.extend(docs);
        rest = &body[end..];
    }
    blocks
}

/// Every mapping in `yaml` whose `uses` names this action.
fn steps_using_the_action<'a>(yaml: &'a Yaml, found: &mut Vec<&'a Yaml>) {
    match yaml {
        Yaml::Hash(hash) => {
            if hash.iter().any(|(k, v)| {
                k.as_str() == Some("uses")
                    && v.as_str()
                        .is_some_and(|uses| uses.contains("/mintlify-agent-gate@"))
            }) {
                found.push(yaml);
            }
            hash.values()
                .for_each(|value| steps_using_the_action(value, found));
        }
        Yaml::Array(items) => items
            .iter()
            .for_each(|item| steps_using_the_action(item, found)),
        _ => {}
    }
}

#[test]
fn the_readme_examples_use_only_declared_inputs_and_outputs() {
    let action = action();
    let inputs = keys(&action["inputs"]);
    let outputs = keys(&action["outputs"]);
    let required: Vec<&String> = inputs
        .iter()
        .filter(|name| action["inputs"][name.as_str()]["required"].as_bool() == Some(true))
        .collect();
    let blocks = readme_yaml_blocks();
    let mut steps = Vec::new();
    for block in &blocks {
        steps_using_the_action(block, &mut steps);
    }
    assert!(!steps.is_empty(), "the README has no GitHub example");
    for step in steps {
        let uses = str_of(&step["uses"]);
        let reference = uses.rsplit_once('@').unwrap().1;
        assert!(
            reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit()),
            "{uses} is not pinned by a full commit SHA"
        );
        assert!(
            README
                .lines()
                .any(|line| line.contains(&format!("uses: {uses} # v"))),
            "{uses} has no `# vX.Y.Z` comment naming its version"
        );
        let with = keys(&step["with"]);
        for key in &with {
            assert!(
                inputs.contains(key),
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
            outputs.contains(&name),
            "README reads output {name}, which action.yml does not declare"
        );
    }
    for name in ["RESULT", "PR_LINK"] {
        assert!(outputs.contains(&name.to_ascii_lowercase()));
        assert!(
            README.contains(&format!("${name}")),
            "the GitLab example should read ${name} from the dotenv report"
        );
    }
}

#[test]
fn the_readme_table_lists_every_input() {
    let inputs = keys(&action()["inputs"]);
    let table: BTreeSet<String> = README
        .lines()
        .skip_while(|line| *line != "| input | default | meaning |")
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| line.strip_prefix("| `")?.split_once("` |"))
        .map(|(name, _)| name.to_owned())
        .collect();
    assert_eq!(
        table, inputs,
        "the README's table of inputs should list each input once"
    );
}
