//! A write that returned Ok survives SIGKILL: a child process streams writes
//! and reports each acknowledgement; the parent kills it mid-stream, reopens
//! the store and finds every acknowledged write and a consistent state.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use kiemtra_core::answer::AnswerValue;
use kiemtra_core::ids::{FacilityId, InspectionId};
use kiemtra_core::record::AnswerState;
use kiemtra_core::store::Store;

const CHILD_ENV: &str = "KIEMTRA_DURABILITY_CHILD";

/// The writer. Runs only as the child process (the env var is set); as a plain test it does nothing.
#[test]
fn child_writer() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (dir, inspection) = spec.split_once('|').unwrap();
    let inspection: InspectionId = inspection.parse().unwrap();
    let store = Store::open(dir).unwrap();
    for n in 0u64.. {
        let f = store.add_facility(facility(n as u32)).unwrap();
        println!("facility {}", f.id);
        store
            .set_answer(inspection, "A1", AnswerValue::Count(n), None)
            .unwrap();
        println!("answer {n}");
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let inspection = {
        let store = Store::open(dir.path()).unwrap();
        started_inspection(&store)
    };
    let mut acked_facilities: Vec<FacilityId> = Vec::new();
    let mut last_answer: Option<u64> = None;

    // Several rounds: each kill lands at a different point of a write.
    for (round, kill_after) in [150usize, 97, 203].into_iter().enumerate() {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, format!("{}|{}", dir.path().display(), inspection))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut acks = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(id) = line.strip_prefix("facility ") {
                acked_facilities.push(id.parse().unwrap());
                acks += 1;
            } else if let Some(n) = line.strip_prefix("answer ") {
                last_answer = Some(n.parse().unwrap());
                acks += 1;
            }
            if acks >= kill_after {
                // SIGKILL: no destructor, no flush, nothing runs in the child.
                child.kill().unwrap();
                break;
            }
        }
        child.wait().unwrap();

        let store = Store::open(dir.path()).unwrap();
        let present: std::collections::HashSet<_> =
            store.facilities().unwrap().into_iter().map(|f| f.id).collect();
        for id in &acked_facilities {
            assert!(
                present.contains(id),
                "round {round}: acknowledged facility {id} lost"
            );
        }
        // The answer is the last acknowledged one, or the one being written at the kill.
        let snap = store.snapshot(inspection).unwrap();
        let a1 = snap
            .checklist()
            .into_iter()
            .find(|l| l.item.code == "A1")
            .unwrap();
        let AnswerState::Answered(v) = a1.answer else {
            panic!("round {round}: A1 lost")
        };
        let AnswerValue::Count(n) = v.value.value else {
            panic!("A1 is not a count")
        };
        let last = last_answer.unwrap();
        assert!(
            n == last || n == last + 1 || n == 0,
            "round {round}: A1 = {n}, last acknowledged {last}"
        );
        // The log is whole: sequence numbers 1..=N with no gap, every op decodes.
        let ops = store.operations().unwrap();
        assert!(
            ops.iter().enumerate().all(|(i, op)| op.seq == i as u64 + 1),
            "round {round}: gap in the log"
        );
        assert_eq!(store.pending_operations().unwrap().len(), ops.len());
        // State and log agree: one facility per put_facility op.
        let puts = ops.iter().filter(|o| o.payload.kind() == "put_facility").count();
        assert_eq!(puts, present.len());
    }
}
