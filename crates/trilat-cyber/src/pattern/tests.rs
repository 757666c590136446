use super::*;
use proptest::prelude::*;

/// Parses `input`; `Ok(printed)` is the expected canonical printing,
/// `Err(fragment)` a fragment of the expected error.
#[track_caller]
fn check(input: &str, expect: Result<&str, &str>) {
    match (parse_pattern(input), expect) {
        (Ok(pattern), Ok(printed)) => {
            assert_eq!(pattern.to_string(), printed);
            // Printing is a fixed point: the printed form parses to the same tree.
            assert_eq!(parse_pattern(printed).unwrap(), pattern);
        }
        (Err(err), Err(fragment)) => {
            assert!(
                err.to_string().contains(fragment),
                "{err} lacks {fragment:?}"
            )
        }
        (res, expect) => panic!("{input}: got {res:?}, expected {expect:?}"),
    }
}

#[test]
fn specification_examples() {
    check(
        "[ipv4-addr:value = '198.51.100.1/32']",
        Ok("[ipv4-addr:value = '198.51.100.1/32']"),
    );
    check(
        "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
        Ok("[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"),
    );
    check(
        "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
        Ok("[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']"),
    );
    check(
        "([ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128'] FOLLOWEDBY [domain-name:value = 'example.com']) WITHIN 600 SECONDS",
        Ok("([ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128'] FOLLOWEDBY [domain-name:value = 'example.com']) WITHIN 600 SECONDS"),
    );
    check(
        "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24' AND network-traffic:dst_port NOT IN (22, 443)]",
        Ok("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24' AND network-traffic:dst_port NOT IN (22, 443)]"),
    );
    check(
        "[file:size > 1024] REPEATS 5 TIMES START t'2016-01-01T00:00:00Z' STOP t'2016-02-01T00:00:00.123Z'",
        Ok("[file:size > 1024] REPEATS 5 TIMES START t'2016-01-01T00:00:00Z' STOP t'2016-02-01T00:00:00.123Z'"),
    );
    check(
        "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\System' AND EXISTS windows-registry-key:values[0].name]",
        Ok("[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\System' AND EXISTS windows-registry-key:values[0].name]"),
    );
    check(
        "[artifact:payload_bin = b'dGVzdA==' OR artifact:hashes.MD5 = h'aabb']",
        Ok("[artifact:payload_bin = b'dGVzdA==' OR artifact:hashes.MD5 = h'aabb']"),
    );
    check(
        "[user-account:is_privileged = true] AND ([x-trilat-wallet:balance >= -1.5] OR [url:value LIKE 'http://%.kp/%'])",
        Ok("[user-account:is_privileged = true] AND ([x-trilat-wallet:balance >= -1.5] OR [url:value LIKE 'http://%.kp/%'])"),
    );
    check(
        "[domain-name:value == 'a.com']",
        Ok("[domain-name:value = 'a.com']"),
    );
    check("[domain-name:value = 'it''s']", Err("expected ']'"));
    check(
        "[domain-name:value = 'it\\'s']",
        Ok("[domain-name:value = 'it\\'s']"),
    );
}

#[test]
fn rejects_malformed_patterns() {
    check("", Err("expected '[' or '('"));
    check("ipv4-addr:value = '1.2.3.4'", Err("expected '[' or '('"));
    check("[ipv4-addr:value = '1.2.3.4'", Err("expected ']'"));
    check("[ipv4-addr:value = '1.2.3.4]", Err("unterminated string"));
    check("[ipv4-addr:value '1.2.3.4']", Err("comparison operator"));
    check("[ipv4-addr:value = ]", Err("a literal"));
    check("[IPV4:value = '1.2.3.4']", Err("object type"));
    check(
        "[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x.kp']",
        Err("different object types"),
    );
    check(
        "[ipv4-addr:value = '1.2.3.4'] WITHIN 0 SECONDS",
        Err("positive number"),
    );
    check(
        "[ipv4-addr:value = '1.2.3.4'] REPEATS 2",
        Err("expected TIMES"),
    );
    check("[file:size > true]", Err("cannot take"));
    check("[file:name LIKE 5]", Err("cannot take"));
    check("[file:name IN 'a']", Err("expected '('"));
    check("[file:created = t'2016-01-01 00:00:00']", Err("RFC 3339"));
    check("[file:hashes.MD5 = h'abc']", Err("hex"));
    check("[file:name = 'a'] [file:name = 'b']", Err("after the end"));
    check("[file:name = 'a'] # comment", Err("unexpected character"));
    check("[file:size = 99999999999999999999]", Err("out of range"));
    check(
        &format!("{}[file:name = 'a']{}", "(".repeat(100), ")".repeat(100)),
        Err("nested deeper"),
    );
}

fn path() -> impl Strategy<Value = ObjectPath> {
    (
        prop::sample::select(vec!["ipv4-addr", "file", "x-trilat-wallet"]),
        prop::collection::vec(
            prop_oneof![
                "[a-z_][a-z0-9_]{0,6}".prop_map(PathStep::Property),
                "[ -~]{0,6}".prop_map(PathStep::Property),
                (0i64..5).prop_map(PathStep::Index),
                Just(PathStep::AnyIndex),
            ],
            0..3,
        ),
        "[a-z_][a-z0-9_]{0,6}",
    )
        .prop_map(|(object_type, rest, first)| {
            let mut steps = vec![PathStep::Property(first)];
            steps.extend(rest);
            ObjectPath {
                object_type: object_type.to_string(),
                steps,
            }
        })
}

fn test_of(object_type: &'static str) -> impl Strategy<Value = Comparison> {
    (path(), any::<bool>(), "[ -~]{0,8}", any::<i64>()).prop_map(
        move |(mut path, negated, text, int)| {
            path.object_type = object_type.to_string();
            let (operator, literal) = if int % 2 == 0 {
                (Operator::Eq, Literal::Str(text))
            } else {
                (Operator::Gt, Literal::Int(int))
            };
            Comparison::Test(Test::Compare {
                path,
                negated,
                operator,
                literal,
            })
        },
    )
}

fn comparison() -> impl Strategy<Value = Comparison> {
    test_of("file").prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Comparison::And),
            prop::collection::vec(inner, 2..4).prop_map(Comparison::Or),
        ]
    })
}

fn observation() -> impl Strategy<Value = Observation> {
    comparison()
        .prop_map(Observation::Comparison)
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Observation::And),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Observation::Or),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Observation::FollowedBy),
                (inner, 1i64..1000)
                    .prop_map(|(o, n)| Observation::Qualified(Box::new(o), Qualifier::Repeats(n))),
            ]
        })
}

// Oracle: a random tree, printed then parsed, is the same tree; and no
// input makes the parser panic.
proptest! {
    #[test]
    fn printing_round_trips(observation in observation()) {
        let pattern = Pattern { observation };
        let printed = pattern.to_string();
        let reparsed = parse_pattern(&printed).unwrap();
        prop_assert_eq!(&reparsed, &pattern);
    }

    #[test]
    fn never_panics(text in "[\\[\\]() a-z:.'=<>!0-9A-Z*,_-]{0,60}") {
        let _ = parse_pattern(&text);
    }
}
