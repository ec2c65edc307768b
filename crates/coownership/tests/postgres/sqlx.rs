//! The sqlx integration on a throwaway PostgreSQL: every shape round trips,
//! binds in INSERT/SELECT, arrays, rows that break the rules, the shipped
//! CHECK; and the same bytes as the postgres-types integration, which
//! tokio-postgres uses too.

use coownership_testkit as common;

use coownership::{Document, OwnerId, Ownership, Share};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};

/// The shapes, with metadata and number spellings that `json` keeps.
const SHAPES: [&str; 5] = [
    r#"{"association_type": "individual", "123": 100.00}"#,
    r#"{"association_type": "tenants_in_common", "1": 33.30, "2": 66.70, "note": {"by": "migration", "at": [2024, 1.50]}}"#,
    r#"{"association_type":"tenants_in_common","10":33.33,"20":33.34,"30":33.33}"#,
    r#"{"association_type": "joint_ownership", "joint_owners": [7, 3], "since": "2024-01-01"}"#,
    r#"{"association_type": "individual", "9": 1e2}"#,
];

/// What `jsonb` keeps of a document: the ownership it states and its
/// metadata's values (jsonb orders keys and spells numbers its own way).
fn same_json(d: &Document) -> (Option<Ownership>, Vec<(String, serde_json::Value)>) {
    let mut metadata: Vec<(String, serde_json::Value)> = d
        .metadata()
        .map(|(k, v)| (k.to_owned(), serde_json::from_str(v).unwrap()))
        .collect();
    metadata.sort_by(|a, b| a.0.cmp(&b.0));
    (d.to_ownership().ok(), metadata)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Creates database `name` on the test server (before any runtime: the
/// harness uses the blocking client). `None` when the tests are skipped.
fn database(name: &str) -> Option<&'static str> {
    drop(common::database(name)?);
    Some(Box::leak(name.to_owned().into_boxed_str()))
}

/// A pool on database `name`, through the test server's unix socket.
async fn pool(name: &str) -> PgPool {
    let config = common::server().unwrap().config_for(name);
    let mut options = PgConnectOptions::new().database(name);
    for host in config.get_hosts() {
        options = match host {
            postgres::config::Host::Unix(dir) => options.socket(dir),
            postgres::config::Host::Tcp(h) => options.host(h),
        };
    }
    if let Some(port) = config.get_ports().first() {
        options = options.port(*port);
    }
    if let Some(user) = config.get_user() {
        options = options.username(user);
    }
    if let Some(password) = config.get_password() {
        options = options.password(&String::from_utf8_lossy(password));
    }
    PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap()
}

/// A tokio-postgres client (the postgres-types implementations) on database `name`.
async fn tokio_client(name: &str) -> tokio_postgres::Client {
    let config: tokio_postgres::Config = common::server()
        .unwrap()
        .connection_string(name)
        .parse()
        .unwrap();
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

#[test]
fn every_shape_round_trips_as_postgres_types_does() {
    let Some(name) = database("sqlx_round_trip") else {
        return;
    };
    runtime().block_on(async {
        let pool = pool(name).await;
        let pg = tokio_client(name).await;
        sqlx::query("CREATE TABLE docs (id int PRIMARY KEY, via text, j json, b jsonb)")
            .execute(&pool)
            .await
            .unwrap();
        for (i, text) in SHAPES.iter().enumerate() {
            let doc = Document::parse(text).unwrap();
            // Bound in an INSERT, once by sqlx and once by postgres-types.
            sqlx::query("INSERT INTO docs VALUES ($1, 'sqlx', $2, $3)")
                .bind(i as i32 * 2)
                .bind(&doc)
                .bind(&doc)
                .execute(&pool)
                .await
                .unwrap();
            pg.execute(
                "INSERT INTO docs VALUES ($1, 'postgres', $2, $3)",
                &[&(i as i32 * 2 + 1), &doc, &doc],
            )
            .await
            .unwrap();
            let row = sqlx::query("SELECT j, b FROM docs WHERE id = $1")
                .bind(i as i32 * 2)
                .fetch_one(&pool)
                .await
                .unwrap();
            let (j, b): (Document, Document) = (row.get(0), row.get(1));
            assert_eq!(same_json(&b), same_json(&doc));
            // sqlx binds as jsonb (as its own Json does), so a json column
            // gets jsonb's text; postgres-types learns the column's type and
            // sends json as is. Bound as text with ::json, sqlx keeps it too.
            let jsonb_text: String = sqlx::query_scalar("SELECT $1::jsonb::text")
                .bind(&doc)
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(j.as_str(), jsonb_text);
            let exact: Document = sqlx::query_scalar("SELECT $1::text::json")
                .bind(doc.as_str())
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(exact.as_str(), *text);
            // Read by postgres-types: the same documents, both rows.
            let rows = pg
                .query(
                    "SELECT j, b FROM docs WHERE id IN ($1, $2) ORDER BY id",
                    &[&(i as i32 * 2), &(i as i32 * 2 + 1)],
                )
                .await
                .unwrap();
            assert_eq!(rows[0].get::<_, Document>(0), j);
            assert_eq!(rows[0].get::<_, Document>(1), b);
            assert_eq!(rows[1].get::<_, Document>(0).as_str(), *text);
            assert_eq!(rows[1].get::<_, Document>(1), b);
            // The typed model, where the document follows the strict rules.
            if let Ok(o) = doc.to_ownership() {
                let back: Ownership = sqlx::query_scalar("SELECT $1::jsonb")
                    .bind(&o)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                assert_eq!(back, o);
                let back: Ownership = sqlx::query_scalar("SELECT $1::json")
                    .bind(&o)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                assert_eq!(back, o);
                let row = sqlx::query("SELECT b FROM docs WHERE id = $1")
                    .bind(i as i32 * 2)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                assert_eq!(row.get::<Ownership, _>(0), o);
            }
        }
        // Both clients stored the same jsonb, byte for byte.
        let differ: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM docs a JOIN docs b ON b.id = a.id + 1 \
             WHERE a.via = 'sqlx' AND (a.b::text <> b.b::text OR a.j::jsonb <> b.j::jsonb)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(differ, 0);
        // NULL is None.
        let none: Option<Ownership> = sqlx::query_scalar("SELECT NULL::jsonb")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(none.is_none());
        // Text-format results (a simple query) decode too.
        let row = sqlx::raw_sql(&format!("SELECT '{}'::jsonb, 33.3::numeric", SHAPES[2]))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(
            row.get::<Ownership, _>(0),
            Ownership::parse(SHAPES[2]).unwrap()
        );
        assert_eq!(row.get::<Share, _>(1).to_string(), "33.30");
    });
}

#[test]
fn arrays_shares_and_rows_that_break_the_rules() {
    let Some(name) = database("sqlx_arrays") else {
        return;
    };
    runtime().block_on(async {
        let pool = pool(name).await;
        let owners: Vec<Ownership> = SHAPES
            .iter()
            .filter_map(|t| Ownership::parse(t).ok())
            .collect();
        assert_eq!(owners.len(), 5);
        let back: Vec<Ownership> = sqlx::query_scalar("SELECT $1::jsonb[]")
            .bind(&owners)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(back, owners);
        let docs: Vec<Document> = SHAPES.iter().map(|t| Document::parse(t).unwrap()).collect();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM unnest($1::jsonb[])")
            .bind(&docs)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(n, 5);

        let shares: Vec<Share> = [0u16, 1, 3330, 5000, 10_000]
            .iter()
            .map(|&bp| Share::from_basis_points(bp).unwrap())
            .collect();
        let texts: Vec<String> = sqlx::query_scalar("SELECT unnest($1::numeric[])::text")
            .bind(&shares)
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(texts, ["0.00", "0.01", "33.30", "50.00", "100.00"]);
        let back: Vec<Share> = sqlx::query_scalar("SELECT $1::numeric[]")
            .bind(&shares)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(back, shares);
        for bad in ["33.335", "100.01", "-1", "'NaN'"] {
            let r = sqlx::query_scalar::<_, Share>(&format!("SELECT {bad}::numeric"))
                .fetch_one(&pool)
                .await;
            assert!(r.is_err(), "{bad}");
        }

        // A stored row that breaks the strict rules: an error naming the
        // codes; the same row reads as a Document.
        let bad = r#"{"association_type":"tenants_in_common","1":50,"2":60}"#;
        let err = sqlx::query_scalar::<_, Ownership>(&format!("SELECT '{bad}'::jsonb"))
            .fetch_one(&pool)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("total_not_100"), "{err}");
        let doc: Document = sqlx::query_scalar(&format!("SELECT '{bad}'::jsonb"))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(doc.get("2"), Some("60"));
        // Not an object; not a json type at all.
        assert!(sqlx::query_scalar::<_, Document>("SELECT '[1]'::jsonb")
            .fetch_one(&pool)
            .await
            .is_err());
        assert!(sqlx::query_scalar::<_, Document>("SELECT '{}'::text")
            .fetch_one(&pool)
            .await
            .is_err());
    });
}

#[test]
fn the_shipped_check_refuses_what_the_typed_model_refuses() {
    let Some(name) = database("sqlx_check") else {
        return;
    };
    runtime().block_on(async {
        let pool = pool(name).await;
        sqlx::raw_sql(&coownership::sql::functions("public").unwrap())
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(
            "CREATE TABLE client_products (id int PRIMARY KEY, ownership_details jsonb \
             CONSTRAINT ownership_details_valid CHECK (ownership_is_valid_strict(ownership_details)))",
        )
        .execute(&pool)
        .await
        .unwrap();
        let o = Ownership::individual(OwnerId::new(5).unwrap());
        sqlx::query("INSERT INTO client_products VALUES (1, $1)")
            .bind(&o)
            .execute(&pool)
            .await
            .unwrap();
        // A Document the typed model refuses is refused by the database too.
        let bad = Document::parse(r#"{"association_type":"individual","5":99.99}"#).unwrap();
        assert!(bad.to_ownership().is_err());
        let err = sqlx::query("INSERT INTO client_products VALUES (2, $1)")
            .bind(&bad)
            .execute(&pool)
            .await
            .unwrap_err();
        let code = err
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("23514"), "{err}");
    });
}

/// tokio-postgres uses the postgres-types implementations directly.
#[test]
fn tokio_postgres_works_with_the_same_types() {
    let Some(name) = database("tokio_postgres") else {
        return;
    };
    runtime().block_on(async {
        let client = tokio_client(name).await;
        for text in SHAPES {
            let doc = Document::parse(text).unwrap();
            let row = client
                .query_one("SELECT $1::json, $1::jsonb", &[&doc])
                .await
                .unwrap();
            assert_eq!(row.get::<_, Document>(0).as_str(), text);
            assert_eq!(same_json(&row.get::<_, Document>(1)), same_json(&doc));
            if let Ok(o) = doc.to_ownership() {
                let back: Ownership = client
                    .query_one("SELECT $1::jsonb", &[&o])
                    .await
                    .unwrap()
                    .get(0);
                assert_eq!(back, o);
            }
        }
        let s = Share::from_basis_points(3330).unwrap();
        let back: Share = client
            .query_one("SELECT $1::numeric", &[&s])
            .await
            .unwrap()
            .get(0);
        assert_eq!(back, s);
        let err = client
            .query_one(r#"SELECT '{"association_type":"individual"}'::jsonb"#, &[])
            .await
            .unwrap()
            .try_get::<_, Ownership>(0)
            .unwrap_err();
        let source = common::error_source(&err);
        assert!(source.contains("individual_owner_count"), "{source}");
    });
}
