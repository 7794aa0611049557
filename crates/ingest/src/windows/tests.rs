use model::Origin;
use proptest::prelude::*;

use super::*;
use crate::test_support::render;
use crate::{SourceReader, parse_line};

fn origin() -> Origin {
    Origin::FileLine {
        file: "t".into(),
        line: 1,
    }
}

fn opts() -> ParseOptions {
    ParseOptions::for_year(2026)
}

/// Each line of `text` parses (through [`parse_line`], as intake sees it) to the rendering
/// on the same line of `expected`.
fn check_lines(text: &str, expected: &[&str]) {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected.len(), "one expectation per line");
    for (i, (line, want)) in lines.iter().zip(expected).enumerate() {
        let got = render(&parse_line(line, origin(), &opts()));
        assert_eq!(got, *want, "line {}", i + 1);
    }
}

#[test]
fn winlogbeat_documented_examples() {
    check_lines(
        include_str!("../../testdata/windows/winlogbeat.ndjson"),
        &[
            "2015-08-07T18:13:46.543Z administrator success unknown ip=203.0.113.5 \
             app=Windows logon type 10 (RemoteInteractive) id=WIN-GG82ULGC9GO.contoso.local#1049",
            "2015-08-07T18:14:12.108Z auditor failure bad_password unknown ip=198.51.100.23 \
             app=Windows logon type 3 (Network) code=0xc000006a \
             reason=Unknown user name or bad password. id=WIN-GG82ULGC9GO.contoso.local#1050",
            "2015-08-07T18:15:00Z dadmin failure bad_password unknown ip=10.0.0.12 \
             app=Kerberos pre-authentication code=0x18 id=DC01.contoso.local#166708",
            "2015-08-07T18:16:30Z dadmin success unknown app=NTLM credential validation \
             id=DC01.contoso.local#166709",
        ],
    );
}

#[test]
fn evtx_json_documented_examples() {
    check_lines(
        include_str!("../../testdata/windows/evtx.ndjson"),
        &[
            "2015-11-12T00:24:35.079785Z administrator success unknown ip=127.0.0.1 \
             app=Windows logon type 2 (Interactive) id=WIN-GG82ULGC9GO#211",
            "2015-08-07T18:08:52.163926Z auditor failure locked unknown \
             app=Windows logon type 2 (Interactive) code=0xc0000234 reason=Account locked out. \
             id=DC01.contoso.local#237",
            "2015-08-07T18:10:21.495462Z dadmin failure other unknown ip=10.0.0.12 \
             app=Kerberos pre-authentication code=0x10 id=DC01.contoso.local#166708",
            "2015-08-07T18:11:05.163926Z dadmin failure bad_password unknown \
             app=NTLM credential validation code=0xc000006a id=DC01.contoso.local#166710",
        ],
    );
}

/// Panther's Windows.EventLogs test records (Apache-2.0, in shared/data) are both 4688
/// process creations: recognised as Windows events, and noise.
#[test]
fn panther_records_are_recognised_and_are_noise() {
    let Ok(text) = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/signin-samples/panther/Windows.EventLogs.jsonl"
    )) else {
        // shared/ sits beside the repository on developer machines and in CI; a bare
        // clone has no samples to check.
        return;
    };
    let mut seen = 0;
    for line in text.lines() {
        assert_eq!(
            parse_line(line, origin(), &opts()),
            Ok(Parsed::Noise),
            "{line}"
        );
        seen += 1;
    }
    assert_eq!(seen, 2);
}

/// The Panther flat shape with a sign-in event in it, and NXLog's flat top-level fields.
#[test]
fn flat_shapes() {
    let panther = r#"{"log":{"EventID":"4625","ProviderName":"Microsoft-Windows-Security-Auditing","TimeCreated":"2024-01-15 10:30:45 +0000","Computer":"WIN-WORKSTATION-01","Channel":"Security","EventRecordID":"12345679","ExtraEventData":{"TargetUserName":"jdoe","TargetDomainName":"CORP","Status":"0xC000006D","SubStatus":"0xC0000072","LogonType":"3","IpAddress":"192.0.2.44"}}}"#;
    let nxlog = r#"{"EventTime":"2024-01-15 10:31:00","Hostname":"dc02","EventID":4624,"SourceName":"Microsoft-Windows-Security-Auditing","RecordNumber":77,"TargetUserName":"JDoe@Corp.Example","LogonType":"8","IpAddress":"2001:db8::5"}"#;
    check_lines(
        &format!("{panther}\n{nxlog}"),
        &[
            "2024-01-15T10:30:45Z jdoe failure disabled unknown ip=192.0.2.44 \
             app=Windows logon type 3 (Network) code=0xc0000072 id=WIN-WORKSTATION-01#12345679",
            "2024-01-15T10:31:00Z jdoe@corp.example success unknown ip=2001:db8::5 \
             app=Windows logon type 8 (NetworkCleartext) id=dc02#77",
        ],
    );
}

fn failure_4625(status: &str, sub_status: &str) -> String {
    format!(
        r#"{{"@timestamp":"2024-01-01T00:00:00Z","winlog":{{"event_id":"4625","event_data":{{"TargetUserName":"u","Status":"{status}","SubStatus":"{sub_status}"}}}}}}"#
    )
}

#[test]
fn ntstatus_codes_map_to_failure_kinds() {
    let table: &[(&str, &str, FailureKind, bool)] = &[
        ("0xC000006D", "0xC000006A", FailureKind::BadPassword, false),
        (
            "0xC000006D",
            "0xC0000064",
            FailureKind::UnknownAccount,
            false,
        ),
        ("0xC0000234", "0x0", FailureKind::Locked, false),
        ("0xC000006E", "0xC0000072", FailureKind::Disabled, false),
        ("0xC000006E", "0xC0000193", FailureKind::Disabled, false),
        (
            "0xC000006D",
            "0xC0000071",
            FailureKind::ExpiredPassword,
            true,
        ),
        ("0xC0000224", "0x0", FailureKind::ExpiredPassword, true),
        (
            "0xC000006E",
            "0xC000006F",
            FailureKind::BlockedByPolicy,
            true,
        ),
        (
            "0xC000006E",
            "0xC0000070",
            FailureKind::BlockedByPolicy,
            true,
        ),
        ("0xC000015B", "0x0", FailureKind::BlockedByPolicy, true),
        ("0xC000006D", "0x0", FailureKind::Other, false),
        ("0xC0000133", "0x0", FailureKind::Other, false),
        // A decimal rendering of the signed NTSTATUS.
        (
            "-1073741715",
            "-1073741718",
            FailureKind::BadPassword,
            false,
        ),
    ];
    for (status, sub, kind, valid) in table {
        let Ok(Parsed::SignIns(sign_ins)) =
            parse_line(&failure_4625(status, sub), origin(), &opts())
        else {
            panic!("{status}/{sub} did not parse");
        };
        let got = sign_ins[0].failure_kind.expect("a failure");
        assert_eq!(got, *kind, "{status}/{sub}");
        assert_eq!(got.password_was_valid(), *valid, "{status}/{sub}");
    }
}

#[test]
fn kerberos_codes_map_to_failure_kinds() {
    let table = [
        (0x18, FailureKind::BadPassword),
        (0x6, FailureKind::UnknownAccount),
        (0x12, FailureKind::Locked),
        (0x17, FailureKind::ExpiredPassword),
        (0x25, FailureKind::Other),
    ];
    for (code, kind) in table {
        assert_eq!(kerberos_kind(code), kind, "{code:#x}");
    }
}

#[test]
fn noise_accounts_and_other_events() {
    let event = |id: &str, data: &str| {
        format!(
            r#"{{"@timestamp":"2024-01-01T00:00:00Z","winlog":{{"event_id":"{id}","event_data":{data}}}}}"#
        )
    };
    let cases = [
        event("4624", r#"{"TargetUserName":"WKS01$","LogonType":"3"}"#),
        event(
            "4624",
            r#"{"TargetUserName":"SYSTEM","TargetUserSid":"S-1-5-18"}"#,
        ),
        event(
            "4624",
            r#"{"TargetUserName":"DWM-1","TargetUserSid":"S-1-5-90-0-1"}"#,
        ),
        event("4624", r#"{"TargetUserName":"ANONYMOUS LOGON"}"#),
        event("4625", r#"{"TargetUserName":"-","Status":"0xc000006d"}"#),
        event("4634", r#"{"TargetUserName":"alice"}"#),
        event("4688", r#"{}"#),
    ];
    for case in cases {
        assert_eq!(
            parse_line(&case, origin(), &opts()),
            Ok(Parsed::Noise),
            "{case}"
        );
    }
}

#[test]
fn errors_name_the_field() {
    let table = [
        (
            r#"{"winlog":{"event_id":"4625","event_data":{"TargetUserName":"u","Status":"0xc000006a"}}}"#,
            "error: field `@timestamp`: missing; expected the event's time",
        ),
        (
            r#"{"@timestamp":"yesterday","winlog":{"event_id":"4625","event_data":{"TargetUserName":"u","Status":"0xc000006a"}}}"#,
            "error: field `@timestamp`: \"yesterday\" is not an RFC 3339 or \
             `YYYY-MM-DD hh:mm:ss[ ±hhmm]` time",
        ),
        (
            r#"{"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":"4625","event_data":{"TargetUserName":"u","Status":"0xc000006a","IpAddress":"not-an-ip"}}}"#,
            "error: field `winlog.event_data.IpAddress`: \"not-an-ip\" is not an IP address",
        ),
        (
            r#"{"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":"4625","event_data":{"TargetUserName":"u"}}}"#,
            "error: field `winlog.event_data.Status`: missing; a 4625 event carries the \
             NTSTATUS of the failure",
        ),
        (
            r##"{"Event":{"System":{"EventID":4771,"TimeCreated":{"#attributes":{"SystemTime":"2024-01-01T00:00:00Z"}}},"EventData":{"TargetUserName":"u","Status":"bad"}}}"##,
            "error: field `Event.EventData.Status`: \"bad\" is not a status code such as \
             0xC000006A",
        ),
        (
            r#"{"EventID":"four","Channel":"Security"}"#,
            "error: field `EventID`: \"four\" is not an event id",
        ),
    ];
    for (input, want) in table {
        assert_eq!(
            render(&parse_line(input, origin(), &opts())),
            want,
            "{input}"
        );
    }
}

#[test]
fn entra_records_are_not_taken_for_windows_events() {
    let graph = r#"{"id":"1","createdDateTime":"2024-01-01T00:00:00Z","userPrincipalName":"a@b.example","status":{"errorCode":0}}"#;
    assert_eq!(try_parse(graph, &origin(), &opts()), None);
    // Mentions the key only inside a value: parsed, then found not to be an event.
    let tricky = r#"{"id":"1","createdDateTime":"2024-01-01T00:00:00Z","userPrincipalName":"a@b.example","appDisplayName":"\"winlog","status":{"errorCode":0}}"#;
    assert_eq!(try_parse(tricky, &origin(), &opts()), None);
    assert!(matches!(
        parse_line(tricky, origin(), &opts()),
        Ok(Parsed::SignIns(_))
    ));
}

#[test]
fn json_array_documents_of_windows_events() {
    let text = include_str!("../../testdata/windows/evtx.ndjson");
    let array = format!("[{}]", text.trim().lines().collect::<Vec<_>>().join(",\n"));
    let records: Vec<_> = SourceReader::new("a.json", array.as_bytes(), opts()).collect();
    assert_eq!(records.len(), 4);
    assert!(
        records
            .iter()
            .all(|r| matches!(r.result, Ok(Parsed::SignIns(_)))),
        "{records:?}"
    );
}

#[cfg(feature = "evtx")]
mod evtx_files {
    use super::*;

    const SAMPLE: &[u8] = include_bytes!("../../testdata/windows/security-logons.evtx");

    fn read(bytes: &[u8]) -> Vec<(String, String)> {
        SourceReader::new("security.evtx", bytes, opts())
            .map(|record| (record.origin.to_string(), render(&record.result)))
            .collect()
    }

    #[test]
    fn every_event_of_an_evtx_file_is_a_record() {
        let got = read(SAMPLE);
        let want = [
            (
                "security.evtx record 1",
                "2024-03-01T10:00:00.123456Z alice failure bad_password unknown \
                 ip=203.0.113.7 app=Windows logon type 3 (Network) code=0xc000006a \
                 reason=Unknown user name or bad password. id=DC01.contoso.local#1",
            ),
            (
                "security.evtx record 2",
                "2024-03-01T10:00:01Z nosuchuser failure unknown_account unknown \
                 ip=203.0.113.7 app=Windows logon type 3 (Network) code=0xc0000064 \
                 id=DC01.contoso.local#2",
            ),
            (
                "security.evtx record 3",
                "2024-03-01T10:05:00Z alice success unknown ip=203.0.113.7 \
                 app=Windows logon type 10 (RemoteInteractive) id=DC01.contoso.local#3",
            ),
            (
                "security.evtx record 4",
                "2024-03-01T10:06:00Z bob failure bad_password unknown ip=198.51.100.20 \
                 app=Kerberos pre-authentication code=0x18 id=DC01.contoso.local#4",
            ),
            (
                "security.evtx record 5",
                "2024-03-01T10:07:00Z carol failure locked unknown \
                 app=NTLM credential validation code=0xc0000234 id=DC01.contoso.local#5",
            ),
            ("security.evtx record 6", "noise"),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(o, r)| ((*o).to_owned(), (*r).to_owned()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn gzipped_evtx_files_are_read() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(SAMPLE).expect("gzip");
        let bytes = gz.finish().expect("gzip");
        assert_eq!(read(&bytes).len(), 6);
    }

    #[test]
    fn a_corrupt_chunk_is_one_error_and_reading_goes_on() {
        let mut bytes = SAMPLE.to_vec();
        // The first record's magic: that record is lost, the others are found again.
        bytes[4096 + 512] = b'X';
        let got = read(&bytes);
        assert_eq!(got.len(), 6, "{got:#?}");
        // No record was read before it: record 0 says "before the first".
        assert_eq!(got[0].0, "security.evtx record 0");
        assert_eq!(
            got[0].1,
            "error: EVTX file: Failed to read the record at offset 0x200 of chunk 0 \
             (file offset 0x1200): An error occurred while trying to deserialize evtx stream.: \
             Invalid EVTX record header magic, expected `2a2a0000`, found `[58, 2A,  0,  0]`"
        );
        assert_eq!(got[1].0, "security.evtx record 2");
        assert!(got[2].1.contains("alice success"), "{got:#?}");
        assert_eq!(got[5].1, "noise");
    }

    #[test]
    fn a_truncated_file_is_an_error_not_a_panic() {
        let got = read(&SAMPLE[..4096 + 65536 + 1000]);
        assert_eq!(got.len(), 3, "{got:#?}");
        assert_eq!(
            got[2],
            (
                "security.evtx record 2".to_owned(),
                "error: EVTX file: the file ends 1000 bytes into chunk number 1, whose events \
                 are lost: the file is truncated"
                    .to_owned()
            )
        );
    }
}

proptest! {
    /// Arbitrary values in every field the parser reads never make it panic.
    #[test]
    fn arbitrary_fields_never_panic(
        id in prop_oneof![
            Just("4624".to_owned()),
            Just("4625".to_owned()),
            Just("4771".to_owned()),
            Just("4776".to_owned()),
            ".{0,6}",
        ],
        user in ".{0,12}",
        status in prop_oneof![Just("0xc000006d".to_owned()), "0x[0-9a-fA-F]{0,10}", ".{0,8}"],
        sub in ".{0,12}",
        ip in ".{0,16}",
        time in prop_oneof![Just("2024-01-01T00:00:00Z".to_owned()), ".{0,24}"],
        logon in ".{0,4}",
    ) {
        let data = serde_json::json!({
            "TargetUserName": user, "Status": status, "SubStatus": sub,
            "IpAddress": ip, "LogonType": logon,
        });
        let shapes = [
            serde_json::json!({"@timestamp": time, "winlog": {"event_id": id, "event_data": data}}),
            serde_json::json!({"Event": {"System": {"EventID": id,
                "TimeCreated": {"#attributes": {"SystemTime": time}}}, "EventData": data}}),
            serde_json::json!({"log": {"EventID": id, "TimeCreated": time, "ExtraEventData": data}}),
        ];
        for shape in shapes {
            let _ = parse_line(&shape.to_string(), origin(), &opts());
        }
    }

    /// Bytes after an EVTX magic never make the file reader panic.
    #[cfg(feature = "evtx")]
    #[test]
    fn arbitrary_evtx_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..6000)) {
        let mut bytes = b"ElfFile\0".to_vec();
        bytes.extend(tail);
        for record in SourceReader::new("f.evtx", bytes.as_slice(), opts()) {
            let _ = record.result;
        }
    }
}
