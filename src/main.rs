//! The `permit-exchange` command line (CONTRACT): serve, migrate, seed, token, schema, export.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use permit_api::config::{self, Config, DatabaseSettings, KeySettings, LoggingSettings, Settings};
use permit_api::{graphql, server};
use permit_core::auth::Role;

/// jemalloc rather than glibc malloc (a quarter of the server's CPU under load, and memory kept
/// in per-thread arenas) or mimalloc (as fast, but 15-20 MB more resident): measured with
/// bench/run. Its options are compiled in: see `.cargo/config.toml`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "permit-exchange",
    version,
    about = "Shared permit–enforcement data service (GraphQL)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the GraphQL API (migrates and loads reference data first).
    Serve {
        /// Also load demo data once and print ready-to-use tokens.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        settings: Box<Settings>,
    },
    /// Apply migrations and reference data, then exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseSettings,
        #[command(flatten)]
        logging: LoggingSettings,
    },
    /// Load reproducible demo data.
    Seed {
        /// Required: demo data is the only kind there is.
        #[arg(long)]
        demo: bool,
        #[arg(long, default_value_t = 2000)]
        units: usize,
        #[arg(long, default_value_t = 2021)]
        seed: u64,
        #[command(flatten)]
        database: DatabaseSettings,
        #[command(flatten)]
        logging: LoggingSettings,
    },
    /// Print a signed JWT for the configured key.
    Token {
        #[arg(long)]
        role: String,
        /// Agency code, e.g. 500103-ENF (defaults from role and district).
        #[arg(long)]
        agency: Option<String>,
        /// District code (GB/T 2260); absent = municipal scope.
        #[arg(long)]
        district: Option<String>,
        /// Lifetime, e.g. 8h, 30m, 1d.
        #[arg(long, default_value = "8h")]
        ttl: String,
        #[arg(long, default_value = "cli-user")]
        subject: String,
        #[command(flatten)]
        database: DatabaseSettings,
        #[command(flatten)]
        keys: KeySettings,
    },
    /// Print the GraphQL SDL.
    Schema,
    /// Export data: the change feed as JSON lines (the default), findings, inspections, campaign
    /// coverage or summary reports as CSV or XLSX, or units as GeoJSON.
    Export {
        /// changes (default), findings, inspections, coverage, summary-reports, units.
        #[arg(default_value = "changes")]
        what: String,
        /// Feed only: resume after this cursor (the `cursor` of the last line of an earlier
        /// export).
        #[arg(long)]
        since: Option<String>,
        /// jsonl (changes), csv or xlsx (tables; default csv), geojson (units).
        #[arg(long)]
        format: Option<String>,
        /// Only this district (GB/T 2260 code); added to `--filter`.
        #[arg(long)]
        district: Option<String>,
        /// The GraphQL filter of the matching query, as JSON (FindingFilter, InspectionFilter,
        /// UnitFilter), e.g. '{"foundFrom":"2021-01-01","foundTo":"2021-12-31"}'.
        #[arg(long)]
        filter: Option<String>,
        /// Coverage and summary reports: the campaign's id as the API gives it.
        #[arg(long)]
        campaign: Option<String>,
        /// Write to this file instead of standard output (required for xlsx).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        #[command(flatten)]
        database: DatabaseSettings,
    },
}

fn parse_ttl(text: &str) -> Result<chrono::Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = number
        .parse()
        .map_err(|_| format!("invalid --ttl '{text}' (try 8h, 30m, 1d)"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" | "" => n * 3600,
        "d" => n * 86400,
        _ => return Err(format!("invalid --ttl unit '{unit}' (s, m, h, d)")),
    };
    if seconds <= 0 || seconds > 30 * 86400 {
        return Err("--ttl must be between 1s and 30d".to_owned());
    }
    Ok(chrono::Duration::seconds(seconds))
}

/// The agency a role works in, when the token command is not told.
pub fn default_agency(role: Role, district: Option<&str>) -> Option<String> {
    let suffix = match role {
        Role::PermitOfficer => "PMT",
        Role::EnforcementOfficer => "ENF",
        Role::Supervisor => return Some("500000-SUP".to_owned()),
        Role::Monitoring => return Some("500000-MON".to_owned()),
        Role::Integrator | Role::Admin => return None,
    };
    Some(format!("{}-{suffix}", district.unwrap_or("500000")))
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Schema => {
            print!("{}", graphql::sdl());
            ExitCode::SUCCESS
        }
        Command::Token {
            role,
            agency,
            district,
            ttl,
            subject,
            database,
            keys,
        } => {
            let Some(role) = Role::parse(&role) else {
                return fail(format!(
                    "unknown role '{role}'; one of {}",
                    Role::ALL.map(Role::as_str).join(", ")
                ));
            };
            let ttl = match parse_ttl(&ttl) {
                Ok(t) => t,
                Err(e) => return fail(e),
            };
            let keys = match keys.key_config(&database.database_url) {
                Ok(k) => k,
                Err(e) => return fail(e),
            };
            let agency = agency.or_else(|| default_agency(role, district.as_deref()));
            match keys.sign(&subject, role, agency.as_deref(), district.as_deref(), ttl) {
                Ok(token) => {
                    println!("{token}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Export {
            what,
            since,
            format,
            district,
            filter,
            campaign,
            out,
            database,
        } => {
            let database = match server::prepare_database(&database.database_url).await {
                Ok(d) => d,
                Err(e) => return fail(e),
            };
            if what == "changes" {
                if format.as_deref().is_some_and(|f| f != "jsonl") {
                    return fail("the change feed is exported as --format jsonl");
                }
                return export_changes(&database, since, out).await;
            }
            let filter = match export_filter(filter.as_deref(), district) {
                Ok(f) => f,
                Err(e) => return fail(e),
            };
            export_office(&database, &what, format.as_deref(), filter, campaign, out).await
        }
        Command::Migrate { database, logging } => {
            logging.init();
            match server::prepare_database(&database.database_url).await {
                Ok(_) => {
                    println!("migrated {}", config::redact_url(&database.database_url));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Seed {
            demo,
            units,
            seed,
            database,
            logging,
        } => {
            logging.init();
            if !demo {
                return fail("only demo data can be seeded: pass --demo");
            }
            let database = match server::prepare_database(&database.database_url).await {
                Ok(d) => d,
                Err(e) => return fail(e),
            };
            seed_demo(&database, units, seed).await
        }
        Command::Serve { settings, demo } => {
            settings.logging.init();
            match settings.resolve() {
                Ok(config) => serve(config, demo).await,
                Err(e) => fail(e),
            }
        }
    }
}

/// `--filter` with `--district` added.
fn export_filter(
    filter: Option<&str>,
    district: Option<String>,
) -> Result<Option<serde_json::Value>, String> {
    let mut value = match filter {
        Some(text) => serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| format!("--filter is not JSON: {e}"))?,
        None => serde_json::json!({}),
    };
    if let Some(district) = district {
        let Some(map) = value.as_object_mut() else {
            return Err("--filter must be a JSON object".to_owned());
        };
        map.insert("district".to_owned(), serde_json::Value::String(district));
    }
    Ok(Some(value))
}

/// Where an export goes: the file, or standard output.
fn export_sink(out: Option<&std::path::Path>) -> std::io::Result<Box<dyn std::io::Write + Send>> {
    Ok(match out {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    })
}

async fn export_changes(
    database: &permit_core::db::Database,
    since: Option<String>,
    out: Option<std::path::PathBuf>,
) -> ExitCode {
    let mut sink = match export_sink(out.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot write the export: {e}")),
    };
    match permit_api::export::export_jsonl(&database.conn, since, &mut sink).await {
        Ok((count, last)) => {
            eprintln!(
                "exported {count} changes; resume with --since {}",
                last.unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// Findings, inspections, coverage, summary reports (CSV, XLSX) or units (GeoJSON), read as
/// the instance's operator (`export::operator`).
async fn export_office(
    database: &permit_core::db::Database,
    what: &str,
    format: Option<&str>,
    filter: Option<serde_json::Value>,
    campaign: Option<String>,
    out: Option<std::path::PathBuf>,
) -> ExitCode {
    use permit_api::exports::{self, Format, Kind};
    let operator = permit_api::export::operator();
    if what == "units" {
        if format.is_some_and(|f| f != "geojson") {
            return fail("units are exported as --format geojson");
        }
        let mut sink = match export_sink(out.as_deref()) {
            Ok(s) => s,
            Err(e) => return fail(format!("cannot write the export: {e}")),
        };
        return match exports::write_geojson(&database.conn, &operator, filter, &mut sink).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        };
    }
    let Some(kind) = Kind::parse(what) else {
        return fail(format!(
            "unknown export '{what}'; one of changes, findings, inspections, coverage, summary-reports, units"
        ));
    };
    let Some(format) = Format::parse(format.unwrap_or("csv")) else {
        return fail("tables are exported as --format csv or xlsx");
    };
    if format == Format::Xlsx && out.is_none() {
        return fail("an xlsx export needs --out FILE");
    }
    let mut sink = match export_sink(out.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot write the export: {e}")),
    };
    let request = exports::Request {
        kind,
        filter,
        campaign_id: campaign,
    };
    match exports::write_table(database, &operator, &request, format, &mut sink).await {
        Ok(rows) => {
            eprintln!("exported {rows} rows");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

async fn seed_demo(database: &permit_core::db::Database, units: usize, seed: u64) -> ExitCode {
    let options = permit_seed::SeedOptions {
        units,
        seed,
        ..Default::default()
    };
    let started = std::time::Instant::now();
    match permit_seed::seed_demo(&database.conn, &options).await {
        Ok(report) if report.skipped => {
            println!("demo data already present: nothing loaded");
            ExitCode::SUCCESS
        }
        Ok(report) => {
            println!(
                "loaded {} units, {} permits, {} outlets, {} limits, {} registrations in {:.1}s (seed {seed})",
                report.units,
                report.permits,
                report.outlets,
                report.limits,
                report.registrations,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("seeding failed: {e}")),
    }
}

async fn serve(config: Config, demo: bool) -> ExitCode {
    tracing::info!(config = ?config, "starting");
    let database =
        match server::prepare_serving_database(&config.database_url, &config.limits).await {
            Ok(d) => d,
            Err(e) => return fail(e),
        };
    if demo {
        let code = seed_demo(&database, 2000, 2021).await;
        if code != ExitCode::SUCCESS {
            return code;
        }
    }
    let running = match server::start(&config, database) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let base = format!("http://{}", running.addr);
    println!("permit-exchange listening on {base}");
    println!("  GraphiQL:  {base}/graphiql");
    println!("  GraphQL:   {base}/graphql   (Authorization: Bearer <token>)");
    println!(
        "  live:      ws://{}/graphql/ws   (graphql-transport-ws; token in connection_init)",
        running.addr
    );
    println!("  token:     permit-exchange token --role ENFORCEMENT_OFFICER --district 500103");
    if demo {
        print_demo_tokens(&config);
    }
    match running.server.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn print_demo_tokens(config: &Config) {
    let ttl = chrono::Duration::hours(8);
    let examples: [(&str, Role, Option<&str>); 5] = [
        (
            "enforcement officer, 渝中区",
            Role::EnforcementOfficer,
            Some("500103"),
        ),
        (
            "permit officer, 渝北区",
            Role::PermitOfficer,
            Some("500112"),
        ),
        ("supervisor, municipal", Role::Supervisor, None),
        ("integrator, municipal", Role::Integrator, None),
        ("admin", Role::Admin, None),
    ];
    println!("\nDemo tokens (valid 8h):");
    for (label, role, district) in examples {
        let agency = default_agency(role, district);
        match config.keys.sign(
            &format!("demo-{}", role.as_str().to_lowercase()),
            role,
            agency.as_deref(),
            district,
            ttl,
        ) {
            Ok(token) => println!("  {label}:\n    {token}"),
            Err(e) => println!("  {label}: cannot sign ({e})"),
        }
    }
}
