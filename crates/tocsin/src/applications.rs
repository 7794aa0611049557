//! `tocsin applications`: the operator's review from the command line, on the data
//! directory directly (for a service without an operator key at hand, or a script).

use std::process::ExitCode;

use store::{ApplicationState, Store};

use crate::DataDirArgs;

/// Who the audit log names for a decision made here.
const ACTOR: &str = "operator";

#[derive(clap::Subcommand)]
pub enum ApplicationsCommand {
    /// List applications, one JSON object per line, oldest first.
    List {
        #[command(flatten)]
        dir: DataDirArgs,
        /// Only those in this state: pending, approved or rejected.
        #[arg(long)]
        state: Option<String>,
    },
    /// Approve an application: creates the organisation and prints its API key (once)
    /// and the TXT records that prove its domains.
    Approve {
        #[command(flatten)]
        dir: DataDirArgs,
        id: i64,
    },
    /// Reject an application, saying why.
    Reject {
        #[command(flatten)]
        dir: DataDirArgs,
        id: i64,
        #[arg(long)]
        reason: String,
    },
}

pub async fn run(command: ApplicationsCommand) -> anyhow::Result<ExitCode> {
    match command {
        ApplicationsCommand::List { dir, state } => {
            let store = crate::open_store(&dir).await?;
            let state: Option<ApplicationState> = state
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            for application in store
                .applications(state, store::MAX_APPLICATION_PAGE)
                .await?
            {
                println!("{}", serde_json::to_string(&application)?);
            }
        }
        ApplicationsCommand::Approve { dir, id } => {
            let store = crate::open_store(&dir).await?;
            let (org, key) = store.approve_application(id, ACTOR).await?;
            println!("organisation_id={org}\napi_key={key}");
            print_records(&store, org).await?;
            eprintln!("Application {id} approved. The key is shown once.");
        }
        ApplicationsCommand::Reject { dir, id, reason } => {
            let store = crate::open_store(&dir).await?;
            store.reject_application(id, &reason, ACTOR).await?;
            eprintln!("Application {id} rejected.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn print_records(store: &Store, org: store::OrgId) -> anyhow::Result<()> {
    for domain in store.org_domains(org).await? {
        let record = server::dns::expected_record(store.master_key(), org, &domain.domain);
        println!("{}. TXT \"{}\"", record.name, record.value);
    }
    Ok(())
}
