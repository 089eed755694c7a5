//! The real server binary on PostgreSQL (`serve --database`), on a
//! throwaway server that `scripts/postgres.sh` starts: it seeds demo data
//! once through its committer, serves it, keeps it across a graceful stop
//! and a kill, and what it committed is in the database's log and tables.

use kiemtra_storage::{Storage, Table};
use kiemtra_storage_postgres::test_cluster::TestCluster;
use kiemtra_storage_postgres::PgStorage;
use kiemtra_tests::Server;

#[test]
fn serves_demo_data_from_postgres_across_restarts() {
    let url = TestCluster::shared().fresh_database().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let on_pg = ["--database", url.as_str()];
    let server = Server::start(dir.path(), &[&on_pg[..], &["--demo"]].concat());
    assert_eq!(server.get_json("/health")["status"], "ok");
    let templates = server.get_json("/api/v1/templates");
    assert_eq!(templates.as_array().unwrap().len(), 2);
    server.stop();

    let store = PgStorage::open(&url).unwrap();
    let head = store.log_head().unwrap();
    assert!(head > 0, "the demo's operations are not in the database's log");
    assert!(!store.scan(Table::Facilities).unwrap().is_empty());
    assert!(
        !dir.path().join("db").exists() && !dir.path().join("conf").exists(),
        "sled was opened in the data folder"
    );
    drop(store);

    // Seeded once: --demo again adds nothing; a kill loses nothing committed.
    let server = Server::start(dir.path(), &[&on_pg[..], &["--demo"]].concat());
    assert_eq!(server.get_json("/api/v1/templates").as_array().unwrap().len(), 2);
    server.kill();
    let server = Server::start(dir.path(), &on_pg);
    assert_eq!(server.get_json("/api/v1/templates").as_array().unwrap().len(), 2);
    server.stop();
    assert_eq!(PgStorage::open(&url).unwrap().log_head().unwrap(), head);
}
