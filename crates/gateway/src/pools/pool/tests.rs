//! The pool's choice of replica, its ejections and its re-resolution.

use super::*;

fn pool(endpoints: &[&str], eject_after: u32) -> Pool {
    let endpoints: Vec<String> = endpoints.iter().map(|e| (*e).to_owned()).collect();
    Pool::new(
        "market-data",
        Tier::Shared,
        &endpoints,
        &ClientConfig::default(),
        eject_after,
    )
    .expect("valid pool")
}

#[tokio::test]
async fn a_retry_avoids_the_failed_replica_when_another_is_healthy() {
    let pool = pool(&["http://127.0.0.1:1001", "http://127.0.0.1:1002"], 3);
    let replicas = pool.replicas();
    for _ in 0..50 {
        let other = pool.pick(Some(&replicas[0])).expect("a healthy replica");
        assert!(Arc::ptr_eq(&other, &replicas[1]));
    }
    pool.eject(&replicas[1], "test");
    let same = pool.pick(Some(&replicas[0])).expect("the only healthy one");
    assert!(Arc::ptr_eq(&same, &replicas[0]));
}

#[tokio::test]
async fn ejected_replicas_are_never_picked() {
    let pool = pool(&["http://127.0.0.1:1001", "http://127.0.0.1:1002"], 2);
    let replicas = pool.replicas();
    pool.record(&replicas[0], true);
    assert_eq!(pool.counts(), (2, 0), "one failure is not enough");
    pool.record(&replicas[0], true);
    assert_eq!(pool.counts(), (1, 1));
    for _ in 0..50 {
        let chosen = pool.pick(None).expect("one healthy");
        assert!(Arc::ptr_eq(&chosen, &replicas[1]));
    }
    pool.eject(&replicas[1], "test");
    assert!(pool.pick(None).is_none());
    assert!(!pool.has_healthy());
    pool.restore(&replicas[0]);
    assert_eq!(pool.counts(), (1, 1));
}

#[tokio::test]
async fn a_new_address_set_keeps_the_replicas_that_stay() {
    let pool = pool(&["http://pods.example:50051"], 3);
    let before = pool.replicas();
    assert_eq!(before[0].address, "pods.example:50051");

    pool.replace(
        &before,
        vec![
            (0, "10.0.0.1:50051".to_owned()),
            (0, "10.0.0.2:50051".to_owned()),
        ],
    );
    let first = pool.replicas();
    assert_eq!(first.len(), 2);
    first[0].eject();

    pool.replace(
        &first,
        vec![
            (0, "10.0.0.1:50051".to_owned()),
            (0, "10.0.0.3:50051".to_owned()),
        ],
    );
    let second = pool.replicas();
    let addresses: Vec<&str> = second.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(addresses, ["10.0.0.1:50051", "10.0.0.3:50051"]);
    assert!(
        Arc::ptr_eq(&second[0], &first[0]),
        "the staying pod keeps its replica"
    );
    assert!(!second[0].is_healthy(), "and its ejection");
    assert_eq!(pool.counts(), (1, 1));
}

#[tokio::test]
async fn a_host_name_is_replaced_by_its_addresses() {
    let pool = pool(&["http://localhost:50999", "http://127.0.0.1:50998"], 3);
    assert!(pool.resolves());
    pool.resolve().await;
    let replicas = pool.replicas();
    assert!(replicas.iter().any(|r| r.address == "127.0.0.1:50998"));
    let resolved: Vec<&str> = replicas
        .iter()
        .filter(|r| r.target == 0)
        .map(|r| r.address.as_str())
        .collect();
    assert!(!resolved.is_empty());
    assert!(
        resolved
            .iter()
            .all(|a| *a == "127.0.0.1:50999" || *a == "[::1]:50999"),
        "{resolved:?}"
    );
    let again = pool.replicas();
    pool.resolve().await;
    assert!(
        pool.replicas()
            .iter()
            .zip(&again)
            .all(|(now, before)| Arc::ptr_eq(now, before)),
        "an unchanged resolution keeps every replica"
    );
}

#[tokio::test]
async fn ip_literals_are_never_resolved() {
    let pool = pool(&["http://127.0.0.1:1001", "http://[::1]:1002"], 3);
    assert!(!pool.resolves());
}
