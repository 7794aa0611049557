//! The `tocsin` command: the service and its offline tools.
//!
//! This crate is thin: it reads flags and the configuration file, wires the library
//! crates together and reports errors with context. What a command does lives in its
//! own module.

mod applications;
mod config;
mod demo;
mod journal;
mod scan;
mod scan_mail;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// Threat notification for the organisations a CERT, an ISAC or a security helpline
/// protects: reads their sign-in logs, detects password spray and brute force, and
/// notifies the targeted organisation at once.
#[derive(Parser)]
#[command(name = "tocsin", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service: HTTP API, detection and notification delivery.
    Serve(ServeArgs),
    /// Run the service on a temporary database with three sample organisations and a
    /// replayed attack, so you can see incidents and notifications within seconds.
    Demo(DemoArgs),
    /// Detect attacks in log files offline and print the incidents.
    Scan(scan::ScanArgs),
    /// Show how tocsin reads log files: every sign-in as one JSON line, with its origin.
    Parse(scan::ParseArgs),
    /// Create an operator API key (printed once; only its hash is stored).
    OperatorKey(DataDirArgs),
    /// Manage organisations directly in the data directory.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage dashboard users directly in the data directory.
    #[command(subcommand)]
    User(UserCommand),
    /// Review enrolment applications directly in the data directory.
    #[command(subcommand)]
    Applications(applications::ApplicationsCommand),
    /// Print the documented default configuration.
    Config,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Configuration file (TOML); see `tocsin config` for every key and its default.
    #[arg(long, short, env = "TOCSIN_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory; overrides `data_dir` from the configuration.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address to listen on; overrides `http.listen`. Port 0 picks a free port.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// The store; overrides `[store] url` (`postgres://user@host/database`).
    #[arg(long, env = "TOCSIN_STORE_URL")]
    store_url: Option<String>,
    /// What this process does: all (everything, one process, no NATS), or one role of a
    /// scaled-out deployment on PostgreSQL and NATS JetStream (docs/deploy.md).
    #[arg(long, value_enum, default_value = "all", env = "TOCSIN_ROLE")]
    role: serve::Role,
}

#[derive(clap::Args)]
struct DemoArgs {
    /// Address to listen on. Port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Exit once the attack is replayed and every notification is delivered, instead of
    /// serving until interrupted.
    #[arg(long)]
    once: bool,
    /// Seed of the generated scenario; the same seed gives the same logs.
    #[arg(long, default_value_t = 2020)]
    seed: u64,
}

#[derive(clap::Args)]
struct DataDirArgs {
    /// Data directory of the service (its master.key, and the embedded database).
    #[arg(long, default_value = "./tocsin-data")]
    data_dir: PathBuf,
    /// The service's PostgreSQL store, when `[store] url` names one.
    #[arg(long, env = "TOCSIN_STORE_URL")]
    store_url: Option<String>,
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Enrol an organisation and print its API key and webhook secret (once).
    Create {
        #[command(flatten)]
        dir: DataDirArgs,
        #[arg(long)]
        name: String,
        /// One of: hospital, clinic, care_facility, lab, clinician_practice,
        /// pharmaceutical, life_sciences, medical_devices, human_rights, humanitarian,
        /// political_campaign, other.
        #[arg(long)]
        sector: String,
        /// ISO 3166-1 alpha-2 country code, such as IE.
        #[arg(long)]
        country: String,
        /// A mail domain of the organisation; repeat for several.
        #[arg(long = "domain")]
        domains: Vec<String>,
        /// Where notifications are posted.
        #[arg(long)]
        webhook: Option<String>,
    },
    /// List enrolled organisations.
    List {
        #[command(flatten)]
        dir: DataDirArgs,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user who signs in with an e-mail and a password. The password is read
    /// from TOCSIN_PASSWORD or asked for (not echoed); only its argon2id hash is stored.
    Add {
        #[command(flatten)]
        dir: DataDirArgs,
        /// The address the user signs in with.
        #[arg(long)]
        email: String,
        /// The user's name, as colleagues know them.
        #[arg(long, default_value = "")]
        name: String,
        /// operator (the service's staff), org-admin or org-viewer.
        #[arg(long)]
        role: String,
        /// The organisation of an org-admin or org-viewer (see `tocsin org list`).
        #[arg(long)]
        org: Option<i64>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    notify::webhook::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => {
            let mut config = match &args.config {
                Some(path) => config::Config::load(path)?,
                None => config::Config::default(),
            };
            if let Some(dir) = args.data_dir {
                config.data_dir = dir;
            }
            if let Some(listen) = args.listen {
                config.http.listen = listen;
            }
            if let Some(url) = args.store_url {
                config.store.url = url;
            }
            serve::run(config, args.role).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => {
            demo::run(args.listen, args.once, args.seed).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Scan(args) => scan::scan(args).await,
        Command::Parse(args) => scan::parse(args),
        Command::OperatorKey(args) => {
            let store = open_store(&args).await?;
            let key = store.create_api_key(store::Principal::Operator).await?;
            println!("{key}");
            eprintln!("Operator key created. It is shown once; keep it in a password manager.");
            Ok(ExitCode::SUCCESS)
        }
        Command::Org(OrgCommand::Create {
            dir,
            name,
            sector,
            country,
            domains,
            webhook,
        }) => {
            let store = open_store(&dir).await?;
            let sector = sector.parse().map_err(anyhow::Error::new)?;
            if let Some(url) = &webhook {
                notify::webhook::check_target(url, true)?;
            }
            let new = store::NewOrganisation {
                name,
                sector,
                country,
                domains,
                webhook_url: webhook,
                language: store::Language::En,
            };
            let (org, key) = store.create_organisation(&new).await?;
            let secret = notify::webhook::signing_secret(store.master_key(), org.id);
            println!(
                "organisation_id={}\napi_key={key}\nwebhook_secret={secret}",
                org.id
            );
            eprintln!(
                "Organisation {:?} enrolled. The key is shown once.",
                org.name
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Org(OrgCommand::List { dir }) => {
            let store = open_store(&dir).await?;
            for org in store.organisations().await? {
                println!("{}", serde_json::to_string(&org)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Add {
            dir,
            email,
            name,
            role,
            org,
        }) => {
            let role: store::Role = role.parse()?;
            let password = match std::env::var("TOCSIN_PASSWORD") {
                Ok(password) => password,
                Err(_) => {
                    let first = rpassword::prompt_password("Password: ")
                        .context("cannot read the password from the terminal")?;
                    let again = rpassword::prompt_password("Password again: ")
                        .context("cannot read the password from the terminal")?;
                    anyhow::ensure!(first == again, "the two passwords differ");
                    first
                }
            };
            let password_hash = store::hash_password(&password)?;
            let store = open_store(&dir).await?;
            let user = store
                .create_user(&store::NewUser {
                    email,
                    name,
                    password_hash,
                    role,
                    org: org.map(store::OrgId),
                })
                .await?;
            println!("{}", serde_json::to_string(&user)?);
            eprintln!("User {} created with role {}.", user.email, user.role);
            Ok(ExitCode::SUCCESS)
        }
        Command::Applications(command) => applications::run(command).await,
        Command::Config => {
            print!("{}", config::EXAMPLE);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn open_store(dir: &DataDirArgs) -> anyhow::Result<store::Store> {
    let url = dir.store_url.as_deref().filter(|url| !url.is_empty());
    store::Store::connect(url, &dir.data_dir)
        .await
        .with_context(|| {
            format!(
                "cannot open the store of the data directory {}",
                dir.data_dir.display()
            )
        })
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOCSIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    // One JSON object per line for log collectors (`TOCSIN_LOG_FORMAT=json`), else text.
    if std::env::var("TOCSIN_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .init();
    }
}
