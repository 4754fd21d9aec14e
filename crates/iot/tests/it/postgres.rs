//! The PostgreSQL event store against a real server (a private cluster the test starts), through
//! the same conformance suite as the embedded store.

use borderlink_iot::store::EventStore;
use borderlink_iot::store::conformance;
use borderlink_iot::store::postgres::PostgresEventStore;
use borderlink_testbed::Postgres;

#[tokio::test]
async fn the_postgres_store_passes_the_conformance_suite() {
    let pg = Postgres::start();
    let store = PostgresEventStore::connect(&pg.url()).await.unwrap();
    conformance::run(&store).await;
    // The tables are created once: connecting again keeps the events.
    let n = store.count().await.unwrap();
    let again = PostgresEventStore::connect(&pg.url()).await.unwrap();
    assert_eq!(again.count().await.unwrap(), n);
    again.clear().await.unwrap();
    assert_eq!(store.count().await.unwrap(), 0);
}

#[tokio::test]
async fn a_bad_url_says_where_without_the_password() {
    let port = borderlink_testbed::free_port();
    let e =
        PostgresEventStore::connect(&format!("postgres://u:secret@127.0.0.1:{port}/db")).await.unwrap_err().to_string();
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(!e.contains("secret"), "{e}");
}
