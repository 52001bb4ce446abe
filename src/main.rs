//! The `permit-exchange` command line (CONTRACT): serve, migrate, seed, token, schema.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use permit_exchange::auth::Role;
use permit_exchange::config::{self, Config, DEFAULT_BIND, DEFAULT_DATABASE_URL, Limits};
use permit_exchange::{graphql, server};

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
        #[arg(long, default_value = DEFAULT_BIND)]
        bind: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
        database_url: String,
        /// Also load demo data once and print ready-to-use tokens.
        #[arg(long)]
        demo: bool,
    },
    /// Apply migrations and reference data, then exit.
    Migrate {
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
        database_url: String,
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
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
        database_url: String,
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
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
        database_url: String,
    },
    /// Print the GraphQL SDL.
    Schema,
    /// Write the change feed from a cursor as JSON lines (one change per line, with its cursor).
    Export {
        /// Resume after this cursor (the `cursor` of the last line of an earlier export).
        #[arg(long)]
        since: Option<String>,
        /// Output format; `jsonl` is the one there is.
        #[arg(long, default_value = "jsonl")]
        format: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
        database_url: String,
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

/// Logs to standard output, human lines or JSON (`LOG_FORMAT`, see `logging`).
fn init_tracing() {
    let format = permit_exchange::logging::Format::from_env().unwrap_or_else(|message| {
        eprintln!("warning: {message}; logging as text");
        permit_exchange::logging::Format::Text
    });
    permit_exchange::logging::init(format);
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
            database_url,
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
            let keys = match config::key_config_from_env(&database_url) {
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
            since,
            format,
            database_url,
        } => {
            if format != "jsonl" {
                return fail(format!("unknown --format '{format}'; jsonl is supported"));
            }
            let database = match server::prepare_database(&database_url).await {
                Ok(d) => d,
                Err(e) => return fail(e),
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            match permit_exchange::export::export_jsonl(&database.conn, since, &mut out).await {
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
        Command::Migrate { database_url } => {
            init_tracing();
            match server::prepare_database(&database_url).await {
                Ok(_) => {
                    println!("migrated {}", config::redact_url(&database_url));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Seed {
            demo,
            units,
            seed,
            database_url,
        } => {
            init_tracing();
            if !demo {
                return fail("only demo data can be seeded: pass --demo");
            }
            let database = match server::prepare_database(&database_url).await {
                Ok(d) => d,
                Err(e) => return fail(e),
            };
            seed_demo(&database, units, seed).await
        }
        Command::Serve {
            bind,
            database_url,
            demo,
        } => {
            init_tracing();
            let keys = match config::key_config_from_env(&database_url) {
                Ok(k) => k,
                Err(e) => return fail(e),
            };
            let limits = match Limits::from_env() {
                Ok(l) => l,
                Err(e) => return fail(e),
            };
            let workers = match config::workers_from_env() {
                Ok(w) => w,
                Err(e) => return fail(e),
            };
            let persisted = match permit_exchange::persisted::PersistedOperations::from_env() {
                Ok(p) => std::sync::Arc::new(p),
                Err(e) => return fail(e),
            };
            let config = Config {
                bind,
                database_url,
                keys,
                limits,
                workers,
                persisted,
            };
            serve(config, demo).await
        }
    }
}

async fn seed_demo(database: &permit_exchange::db::Database, units: usize, seed: u64) -> ExitCode {
    let options = permit_exchange::seed::SeedOptions {
        units,
        seed,
        ..Default::default()
    };
    let started = std::time::Instant::now();
    match permit_exchange::seed::seed_demo(&database.conn, &options).await {
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
