//! The PostgreSQL event store, for sites that outgrow one machine: the same contract as the
//! embedded store (the same conformance suite), in two tables.
//!
//! - `iot_events`: one row per event, the filtered fields as columns, EPC lists as `text[]`, the
//!   event's JSON-LD as text; unique hash ID and `eventID`; an index on (event time, seq).
//! - `iot_event_epcs`: (EPC, seq) for the EPC filters.
//!
//! Writers are serialised by a transaction-scoped advisory lock, so that sequence numbers are
//! given and become visible in the same order: anchoring reads "every event after seq N" and
//! must never find a smaller number appear later. A batch is one transaction (rolled back whole
//! on a taken `eventID`).

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder, Row};

use super::{Cursor, EventQuery, EventStore, Inserted, Numbered, Page, StoreError, StoreFuture, StoredEvent};

/// The advisory lock key of the writers (any constant the site's other applications do not use:
/// "BLIOT" in ASCII).
const WRITER_LOCK: i64 = 0x0042_4c49_4f54;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS iot_events (
        seq BIGINT PRIMARY KEY,
        hash_id TEXT NOT NULL UNIQUE,
        event_id TEXT UNIQUE,
        event_type TEXT NOT NULL,
        event_time_ms BIGINT NOT NULL,
        record_time_ms BIGINT NOT NULL,
        action TEXT,
        biz_step TEXT,
        disposition TEXT,
        read_point TEXT,
        biz_location TEXT,
        epcs TEXT[] NOT NULL,
        parent_id TEXT,
        other_epcs TEXT[] NOT NULL,
        device TEXT,
        json TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS iot_events_by_time ON iot_events (event_time_ms DESC, seq DESC)",
    "CREATE TABLE IF NOT EXISTS iot_event_epcs (epc TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (epc, seq))",
];

const COLUMNS: &str = "seq, hash_id, event_id, event_type, event_time_ms, record_time_ms, action, biz_step, \
                       disposition, read_point, biz_location, epcs, parent_id, other_epcs, device, json";

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// The PostgreSQL event store.
#[derive(Debug, Clone)]
pub struct PostgresEventStore {
    pool: PgPool,
}

impl PostgresEventStore {
    /// Connects to `url` (`postgres://user:password@host/db`, `?sslmode=verify-full` for TLS)
    /// and creates the tables when they do not exist.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| {
                // The URL may hold a password: say where without it.
                let host = url.rsplit('@').next().unwrap_or("the server");
                backend(format!("cannot connect to PostgreSQL at {host}: {e}"))
            })?;
        for statement in SCHEMA {
            sqlx::query(*statement).execute(&pool).await.map_err(backend)?;
        }
        Ok(Self { pool })
    }

    /// Removes every event (tests only start from an empty store).
    pub async fn clear(&self) -> Result<(), StoreError> {
        sqlx::query("TRUNCATE iot_events, iot_event_epcs").execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }

    async fn insert_now(&self, batch: &[StoredEvent]) -> Result<Inserted, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITER_LOCK).execute(&mut *tx).await.map_err(backend)?;
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM iot_events").fetch_one(&mut *tx).await.map_err(backend)?;
        let mut next = last.unwrap_or(0) + 1;
        let mut out = Inserted::default();
        for e in batch {
            let dup: Option<i64> = sqlx::query_scalar("SELECT seq FROM iot_events WHERE hash_id = $1")
                .bind(&e.hash_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
            if dup.is_some() {
                out.duplicates.push(e.hash_id.clone());
                continue;
            }
            if let Some(id) = &e.event_id {
                let taken: Option<String> = sqlx::query_scalar("SELECT hash_id FROM iot_events WHERE event_id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                if let Some(existing) = taken {
                    // Dropping the transaction rolls the whole batch back.
                    return Err(StoreError::EventIdTaken { event_id: id.clone(), existing });
                }
            }
            // Column names are constants of this module; every value is bound.
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO iot_events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
            )))
            .bind(next as i64)
            .bind(&e.hash_id)
            .bind(&e.event_id)
            .bind(&e.event_type)
            .bind(e.event_time_ms)
            .bind(e.record_time_ms)
            .bind(&e.action)
            .bind(&e.biz_step)
            .bind(&e.disposition)
            .bind(&e.read_point)
            .bind(&e.biz_location)
            .bind(&e.epcs)
            .bind(&e.parent_id)
            .bind(&e.other_epcs)
            .bind(&e.device)
            .bind(&e.json)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            sqlx::query(
                "INSERT INTO iot_event_epcs (epc, seq) SELECT DISTINCT u, $2 FROM unnest($1::text[]) AS u ON CONFLICT DO NOTHING",
            )
            .bind(e.epcs.iter().chain(&e.other_epcs).chain(&e.parent_id).cloned().collect::<Vec<String>>())
            .bind(next as i64)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            out.new.push(next as u64);
            next += 1;
        }
        tx.commit().await.map_err(backend)?;
        Ok(out)
    }

    async fn query_now(&self, q: &EventQuery, per_page: usize, after: Option<Cursor>) -> Result<Page, StoreError> {
        let per_page = per_page.max(1);
        let mut b: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT {COLUMNS} FROM iot_events WHERE TRUE"));
        let list = |b: &mut QueryBuilder<Postgres>, column: &str, values: &[String]| {
            if !values.is_empty() {
                b.push(format!(" AND {column} = ANY(")).push_bind(values.to_vec()).push(")");
            }
        };
        list(&mut b, "event_type", &q.event_types);
        list(&mut b, "action", &q.actions);
        list(&mut b, "biz_step", &q.biz_steps);
        list(&mut b, "disposition", &q.dispositions);
        list(&mut b, "read_point", &q.read_points);
        list(&mut b, "biz_location", &q.biz_locations);
        list(&mut b, "event_id", &q.event_ids);
        list(&mut b, "device", &q.devices);
        let mut range = |column: &str, op: &str, value: Option<i64>| {
            if let Some(v) = value {
                b.push(format!(" AND {column} {op} ")).push_bind(v);
            }
        };
        range("event_time_ms", ">=", q.ge_event_time_ms);
        range("event_time_ms", "<", q.lt_event_time_ms);
        range("record_time_ms", ">=", q.ge_record_time_ms);
        range("record_time_ms", "<", q.lt_record_time_ms);
        // An EPC filter: exact values and prefixes (a value ending in `*`) against an array.
        let epc_filter = |b: &mut QueryBuilder<Postgres>, array: &str, patterns: &[String]| {
            if patterns.is_empty() {
                return;
            }
            let (prefixes, exact): (Vec<String>, Vec<String>) = {
                let prefixes = patterns.iter().filter_map(|p| p.strip_suffix('*').map(str::to_owned)).collect();
                let exact = patterns.iter().filter(|p| !p.ends_with('*')).cloned().collect();
                (prefixes, exact)
            };
            b.push(format!(" AND (({array}) && ")).push_bind(exact).push("::text[]");
            b.push(format!(" OR EXISTS (SELECT 1 FROM unnest({array}) AS e, unnest("))
                .push_bind(prefixes)
                .push("::text[]) AS p WHERE starts_with(e, p)))");
        };
        epc_filter(&mut b, "epcs", &q.match_epc);
        epc_filter(&mut b, "ARRAY[parent_id]", &q.match_parent_id);
        epc_filter(&mut b, "epcs || other_epcs || ARRAY[parent_id]", &q.match_any_epc);
        if let Some(c) = after {
            b.push(" AND (event_time_ms, seq) < (")
                .push_bind(c.event_time_ms)
                .push(", ")
                .push_bind(c.seq as i64)
                .push(")");
        }
        b.push(" ORDER BY event_time_ms DESC, seq DESC LIMIT ").push_bind((per_page + 1) as i64);
        let rows = b.build().fetch_all(&self.pool).await.map_err(backend)?;
        let mut events = rows.iter().map(numbered).collect::<Result<Vec<_>, _>>()?;
        let next = if events.len() > per_page {
            events.truncate(per_page);
            events.last().map(|n| Cursor { event_time_ms: n.event.event_time_ms, seq: n.seq })
        } else {
            None
        };
        Ok(Page { events, next })
    }

    async fn get_now(&self, id: &str) -> Result<Option<Numbered>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM iot_events WHERE hash_id = $1 UNION ALL \
             SELECT {COLUMNS} FROM iot_events WHERE event_id = $1 LIMIT 1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(numbered).transpose()
    }

    async fn since_now(&self, after: u64, limit: usize) -> Result<Vec<Numbered>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM iot_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        )))
        .bind(after as i64)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(numbered).collect()
    }
}

fn numbered(row: &PgRow) -> Result<Numbered, StoreError> {
    let get_err = |e: sqlx::Error| backend(format!("a stored event does not decode: {e}"));
    let seq: i64 = row.try_get("seq").map_err(get_err)?;
    Ok(Numbered {
        seq: seq as u64,
        event: StoredEvent {
            hash_id: row.try_get("hash_id").map_err(get_err)?,
            event_id: row.try_get("event_id").map_err(get_err)?,
            event_type: row.try_get("event_type").map_err(get_err)?,
            event_time_ms: row.try_get("event_time_ms").map_err(get_err)?,
            record_time_ms: row.try_get("record_time_ms").map_err(get_err)?,
            action: row.try_get("action").map_err(get_err)?,
            biz_step: row.try_get("biz_step").map_err(get_err)?,
            disposition: row.try_get("disposition").map_err(get_err)?,
            read_point: row.try_get("read_point").map_err(get_err)?,
            biz_location: row.try_get("biz_location").map_err(get_err)?,
            epcs: row.try_get("epcs").map_err(get_err)?,
            parent_id: row.try_get("parent_id").map_err(get_err)?,
            other_epcs: row.try_get("other_epcs").map_err(get_err)?,
            device: row.try_get("device").map_err(get_err)?,
            json: row.try_get("json").map_err(get_err)?,
        },
    })
}

impl EventStore for PostgresEventStore {
    fn insert<'a>(&'a self, batch: &'a [StoredEvent]) -> StoreFuture<'a, Inserted> {
        Box::pin(self.insert_now(batch))
    }

    fn query<'a>(&'a self, query: &'a EventQuery, per_page: usize, after: Option<Cursor>) -> StoreFuture<'a, Page> {
        Box::pin(self.query_now(query, per_page, after))
    }

    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Numbered>> {
        Box::pin(self.get_now(id))
    }

    fn since<'a>(&'a self, after: u64, limit: usize) -> StoreFuture<'a, Vec<Numbered>> {
        Box::pin(self.since_now(after, limit))
    }

    fn count(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let n: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM iot_events").fetch_one(&self.pool).await.map_err(backend)?;
            Ok(n as u64)
        })
    }
}
