//! Storage benchmarks: one group commit as the committer makes it under the
//! load generator's saturation run (100 pushes of 100 operations, each push
//! rewriting its inspection's record), on the embedded sled engine (with its
//! fsyncs) and in memory (the engine's own overhead).
//!
//! `cargo bench -p kiemtra-server --bench storage`
//!
//! Measured against the load generator (issue 11's note): keeping every table
//! in one sled tree so that a commit is one `apply_batch` (no transaction
//! reading each key it writes) was slower end to end, 19.4k against 21.7k
//! ops/s, so the engine keeps its multi-tree transaction.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use kiemtra_core::ids::{DelegationId, OpId};
use kiemtra_server::storage::{Changeset, MemoryStorage, NewEntry, Scope, SledStorage, Storage, Table};

const PUSHES: usize = 100;
const OPS_PER_PUSH: usize = 100;
/// About what a SetAnswer operation and a 50-item record weigh in CBOR.
const OP_BYTES: usize = 160;
const RECORD_BYTES: usize = 6_000;

fn group(delegations: &[DelegationId]) -> Changeset {
    let mut c = Changeset::new();
    for (push, d) in delegations.iter().enumerate().take(PUSHES) {
        c.savepoint();
        for i in 0..OPS_PER_PUSH {
            c.append(NewEntry {
                op: OpId::new(),
                scope: Scope::Delegation(*d),
                bytes: vec![(i % 251) as u8; OP_BYTES],
            });
        }
        c.put(
            Table::Records,
            (push as u64).to_be_bytes().to_vec(),
            vec![7; RECORD_BYTES],
        );
        c.release();
    }
    c
}

fn commit(c: &mut Criterion) {
    let delegations: Vec<DelegationId> = (0..PUSHES).map(|_| DelegationId::new()).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let sled: Arc<dyn Storage> = Arc::new(SledStorage::open(dir.path(), 64 << 20).expect("open sled"));
    let memory: Arc<dyn Storage> = Arc::new(MemoryStorage::new());

    let mut g = c.benchmark_group("group_commit");
    g.throughput(Throughput::Elements((PUSHES * OPS_PER_PUSH) as u64));
    g.sample_size(20);
    for (name, store) in [("sled", &sled), ("memory", &memory)] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || group(&delegations),
                |changes| black_box(store.commit(changes).expect("commit")),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, commit);
criterion_main!(benches);
