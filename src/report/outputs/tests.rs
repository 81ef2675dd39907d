use super::*;

#[test]
fn nothing_is_written_unless_every_output_can_be() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output");
    let missing = dir.path().join("no/such/dir/gate.env");
    let fields = [("result", "completed".to_owned())];
    assert!(matches!(
        write_outputs(Some(&output), Some(&missing), &fields),
        Err(OutputError::Open { .. })
    ));
    assert!(matches!(
        write_outputs(Some(dir.path()), None, &fields),
        Err(OutputError::Open { .. } | OutputError::NotAFile { .. })
    ));
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "");
    write_outputs(Some(&output), None, &fields).unwrap();
    assert!(
        std::fs::read_to_string(&output)
            .unwrap()
            .contains("completed")
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_at_once_instead_of_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(made.success());
    let error = write_outputs(Some(&path), None, &[("result", "completed".into())]).unwrap_err();
    // No reader: the non-blocking open fails at once (ENXIO) instead of waiting for one.
    assert!(matches!(error, OutputError::Open { .. }), "{error}");
}
