//! A database written by the version before requests had kinds: migrated in place, its requests
//! read back as purchases with the same approval hash, so votes cast on them still count.

use crate::on_both_backends;
use crate::support::app::{Backend, alice, bob, payg_form, spawn_app};
use cvmbot::app::App;
use cvmbot::clock::Clock;
use cvmbot::desk::{Ballot, Origin};
use cvmbot::domain::{Operation, RequestState, VoteVia};

/// Puts the schema back as the previous version left it: no `kind` column, migration 3 not run.
async fn forget_operation_kinds(backend: Backend, url: &str) {
    let statements = [
        "ALTER TABLE requests DROP COLUMN kind",
        "DELETE FROM _sqlx_migrations WHERE version = 3",
    ];
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("the SQLite file opens");
            for sql in statements {
                sqlx::query(sql).execute(&pool).await.expect(sql);
            }
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.expect("PostgreSQL is reachable");
            for sql in statements {
                sqlx::query(sql).execute(&pool).await.expect(sql);
            }
            pool.close().await;
        }
    }
}

on_both_backends! {
    async fn a_request_filed_before_kinds_existed_reads_back_as_the_same_purchase(backend) {
        let Some(t) = spawn_app(backend, "").await else { return };
        let filed = t.desk().create(&alice(), &payg_form(), Origin::default()).await.expect("filed");
        let config = t.app.config.clone();
        t.app.store().close().await;
        forget_operation_kinds(backend, &t.db.url).await;

        let upgraded = App::build(config, Clock::System).await.expect("the upgraded application builds");
        let view = upgraded.desk.view(filed.record.id).await.expect("the old request");
        let Operation::Buy(spec) = &view.record.operation else { panic!("a purchase") };
        let Operation::Buy(filed_spec) = &filed.record.operation else { panic!("a purchase") };
        assert_eq!(spec, filed_spec, "the same purchase");
        assert_eq!(view.record.approval_hash, filed.record.approval_hash);
        assert_eq!(view.record.approval_hash, cvmbot::domain::approval_hash(&view.record.operation, &view.record.quote));
        let ballot = Ballot { approve: true, reason: None, seen_hash: Some(filed.record.approval_hash.clone()), via: VoteVia::Button };
        let outcome = upgraded.desk.vote(filed.record.id, &bob(), &ballot).await.expect("bob's vote");
        assert_eq!(outcome.decided, Some(RequestState::Approved));
    }
}
