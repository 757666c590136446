//! Scenario errors: what, and where (file, inject counted from 1, field).

use trilat_exercise::{Action, Scenario};

const HEAD: &str = "name = \"t\"\n";
const NOTE: &str = "[[inject]]\nat_s = 5\ntype = \"note\"\nparty = \"USA\"\ntext = \"EXERCISE\"\nmarking = { level = \"UNCLASSIFIED\", tlp = \"GREEN\", rel_to = [\"TRILAT\"] }\n";

/// Parses `HEAD`, one good note, then `inject` (a second `[[inject]]`
/// table's body), and checks the error's text.
#[track_caller]
fn check(inject: &str, expect: &str) {
    let text = format!("{HEAD}{NOTE}[[inject]]\n{inject}");
    let err = Scenario::parse("s.toml", &text).unwrap_err();
    assert_eq!(err.to_string(), expect);
}

#[test]
fn a_good_scenario_reads_back() {
    let scenario = Scenario::parse("s.toml", &format!("{HEAD}{NOTE}")).unwrap();
    assert_eq!(scenario.name, "t");
    assert_eq!(scenario.injects.len(), 1);
    assert_eq!(scenario.injects[0].at_s, 5.0);
    let Action::Note(note) = &scenario.injects[0].action else {
        panic!("a note: {:?}", scenario.injects[0].action);
    };
    assert_eq!(note.party.as_str(), "USA");
    assert_eq!(note.marking.marking().rel_to, vec!["TRILAT".to_string()]);
}

#[test]
fn errors_name_the_file_the_inject_and_the_field() {
    check(
        "at_s = 6\ntype = \"note\"\nparty = \"USA\"\ntext = \"x\"\nmarking = { level = \"U\", tlp = \"PINK\", rel_to = [\"TRILAT\"] }\n",
        "s.toml:8: inject 2: field `marking.tlp`: unknown variant `PINK`, expected one of `CLEAR`, `GREEN`, `AMBER`, `AMBER+STRICT`, `RED`",
    );
    check(
        "at_s = 6\ntype = \"note\"\nparty = \"USA\"\nmarking = { level = \"U\", tlp = \"GREEN\", rel_to = [\"TRILAT\"] }\n",
        "s.toml:8: inject 2: missing field `text`",
    );
    check(
        "at_s = 6\ntype = \"note\"\nparty = \"USA\"\ntext = \"x\"\ncolour = 1\nmarking = { level = \"U\", tlp = \"GREEN\", rel_to = [\"TRILAT\"] }\n",
        "s.toml:8: inject 2: field `colour`: unknown field `colour`, expected one of `party`, `marking`, `text`",
    );
    check(
        "at_s = 1\ntype = \"note\"\nparty = \"USA\"\ntext = \"x\"\nmarking = { level = \"U\", tlp = \"GREEN\", rel_to = [\"TRILAT\"] }\n",
        "s.toml:8: inject 2: field `at_s`: 1 is before the previous inject's 5: injects are listed in time order",
    );
    check(
        "at_s = \"soon\"\ntype = \"note\"\n",
        "s.toml:8: inject 2: field `at_s`: expected seconds (a number), found string",
    );
    check(
        "at_s = 9\ntype = \"seismic\"\n",
        "s.toml:8: inject 2: missing field `party`",
    );
    check(
        "at_s = 9\ntype = \"flood\"\n",
        "s.toml:8: inject 2: field `type`: unknown type \"flood\"; one of note, stix, missile_launch, ais_story, seismic, sanctions_hit, link_outage, node_restart",
    );
    check(
        "at_s = 9\ntype = \"missile_launch\"\nparty = \"JPN\"\nsite = [39.0, 125.7]\nbearing_deg = 75\napogee_km = 200\nrange_km = 900\ngap_s = [300, 100]\n",
        "s.toml:8: inject 2: field `gap_s`: [300, 100]: the gap must end after it starts",
    );
    check(
        "at_s = 9\ntype = \"missile_launch\"\nparty = \"JPN\"\nsite = [99.0, 125.7]\nbearing_deg = 75\napogee_km = 200\nrange_km = 900\n",
        "s.toml:8: inject 2: field `site[0]`: 99: expected -90 to 90",
    );
    check(
        "at_s = 9\ntype = \"stix\"\nparty = \"KOR\"\nobject = \"{}\"\nmarking = { level = \"U\", tlp = \"GREEN\", rel_to = [\"TRILAT\"] }\n",
        &format!(
            "s.toml:8: inject 2: field `object`: not a valid STIX 2.1 object: {}",
            stix_error("{}")
        ),
    );
    check(
        "at_s = 9\ntype = \"link_outage\"\nbetween = [\"JPN\", \"JPN\"]\nduration_s = 60\n",
        "s.toml:8: inject 2: field `between`: names one party twice",
    );
}

/// The STIX parser's own message for `text`.
fn stix_error(text: &str) -> String {
    match trilat_exercise::scenario::stix_check(text) {
        Ok(()) => panic!("{text} is not a STIX object"),
        Err(e) => e,
    }
}

#[test]
fn the_line_is_the_inject_header_s_and_only_when_every_inject_has_one() {
    // Comments and blank lines count; `[[ inject ]]` is the same header.
    let text = format!("{HEAD}\n# tasking\n{NOTE}\n[[ inject ]]\nat_s = 1\n");
    let err = Scenario::parse("s.toml", &text).unwrap_err();
    assert!(
        err.to_string().starts_with("s.toml:11: inject 2: "),
        "{err}"
    );
    // Injects written inline have no header line: none is given.
    let inline = "name = \"t\"\ninject = [{ at_s = 1, type = \"note\" }]\n";
    let err = Scenario::parse("s.toml", inline).unwrap_err();
    assert!(err.to_string().starts_with("s.toml: inject 1: "), "{err}");
    assert_eq!(err.line, None);
}

#[test]
fn head_and_syntax_errors_name_the_file() {
    let err = Scenario::parse("s.toml", "name = \n").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("s.toml: TOML parse error at line 1"),
        "{err}"
    );
    let err = Scenario::parse("s.toml", "nom = \"x\"\n").unwrap_err();
    assert!(err.to_string().starts_with("s.toml: "), "{err}");
    assert!(err.to_string().contains("unknown field `nom`"), "{err}");
    let err = Scenario::parse("s.toml", "name = \"  \"\n").unwrap_err();
    assert_eq!(err.to_string(), "s.toml: field `name`: must not be empty");
}
