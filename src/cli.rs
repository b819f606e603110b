//! The `staffroom` command line: `serve`, `migrate` and `admin` subcommands.
//! Names and flags are a contract (scripts rely on them). Every failure ends
//! with one line on stderr and a non-zero exit status.

use crate::{
    app::{self, AppState},
    config::Config,
    domain::{
        accounts::{self, Role},
        sessions,
    },
    telemetry,
};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "staffroom",
    version,
    about = "Staffroom: a federated community server for teachers' associations",
    long_about = "Staffroom runs an association's or a national portal's community: members, posts, \
groups, teaching resources and events, federated over ActivityPub.\n\n\
Configuration comes from config/default.toml, then the file given with --config, then \
environment variables STAFFROOM__SECTION__KEY (e.g. STAFFROOM__HTTP__BIND=0.0.0.0:8080)."
)]
pub struct Cli {
    /// Configuration file layered over the defaults.
    #[arg(long, short, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (applies pending database migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Administration tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an active account, whatever the registration mode.
    CreateAccount {
        /// Public handle (letters, digits and underscores).
        #[arg(long)]
        username: String,
        /// E-mail address (private, never shown publicly).
        #[arg(long)]
        email: String,
        /// Password (at least registration.min_password_length characters).
        #[arg(long)]
        password: String,
        /// Role of the new account.
        #[arg(long, value_parser = ["admin", "moderator", "member"], default_value = "member")]
        role: String,
    },
    /// Print a new bearer token with all scopes for a member, for scripts using the JSON API.
    Token {
        /// The member's username.
        #[arg(long)]
        username: String,
    },
    /// Membership of a national portal (joining it, or admitting instances).
    Portal {
        #[command(subcommand)]
        command: PortalCommand,
    },
}

#[derive(Subcommand)]
enum PortalCommand {
    /// Ask the portal to admit this instance (its administrators decide).
    Join {
        /// The portal's actor, like @portal@portal.example.
        #[arg(long)]
        portal: String,
    },
    /// Leave the portal (or withdraw the application).
    Leave {
        /// The portal's actor, like @portal@portal.example.
        #[arg(long)]
        portal: String,
    },
    /// On the portal: admit an instance that asked to join.
    Approve {
        /// The instance's host name (with its port, if any).
        #[arg(long)]
        domain: String,
    },
    /// On the portal: suspend a member instance (or refuse an application);
    /// its new applications are refused until the suspension is lifted.
    Suspend {
        /// The instance's host name (with its port, if any).
        #[arg(long)]
        domain: String,
    },
    /// On the portal: lift a suspension, so the instance may apply again.
    LiftSuspension {
        /// The instance's host name (with its port, if any).
        #[arg(long)]
        domain: String,
    },
}

/// Every scope, for tokens made on the command line.
pub const ALL_SCOPES: &str = "read write follow push admin:read admin:write";

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    telemetry::init_logging(&config.log);
    match cli.command {
        Command::Serve => app::serve(config).await,
        Command::Migrate => {
            let state = AppState::init(config).await?;
            state.db.clone().close().await.ok();
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Admin { command } => {
            let state = AppState::init(config).await?;
            let result = admin(&state, command).await;
            state.db.clone().close().await.ok();
            result
        }
    }
}

async fn admin(state: &AppState, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateAccount {
            username,
            email,
            password,
            role,
        } => {
            let role = Role::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role {role}"))?;
            let member = accounts::create_active(
                state,
                accounts::SignUp {
                    username,
                    email,
                    password,
                    ..Default::default()
                },
                role,
                None,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
            println!(
                "created {} ({}) as {}",
                member.account.username,
                member.actor.ap_id,
                role.as_str()
            );
            Ok(())
        }
        AdminCommand::Token { username } => {
            let member = accounts::member_by_username(state, &username)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?
                .ok_or_else(|| anyhow::anyhow!("no account named {username}"))?;
            if !member.is_active() {
                anyhow::bail!(
                    "account {username} is {}, not active",
                    member.account.status
                );
            }
            let (token, _, _) =
                sessions::issue_token(state, Some(member.account.id), None, ALL_SCOPES, false)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
            println!("{token}");
            Ok(())
        }
        AdminCommand::Portal { command } => portal(state, command).await,
    }
}

async fn portal(state: &AppState, command: PortalCommand) -> anyhow::Result<()> {
    use crate::{domain::portal as membership, federation};
    let message = |e: crate::error::AppError| anyhow::anyhow!("{}", e.public_message());
    let fed = federation::client::federation_config(state).await?;
    let data = fed.to_request_data();
    let (events, done) = match command {
        PortalCommand::Join { portal } => {
            if crate::config::portal_handle(&portal).is_none() {
                anyhow::bail!("--portal: `{portal}` is not a handle like @portal@portal.example");
            }
            let portal_actor = federation::resolve::handle(&data, &portal, true)
                .await
                .map_err(|e| anyhow::anyhow!("cannot reach {portal}: {e}"))?
                .ok_or_else(|| anyhow::anyhow!("no actor {portal}"))?;
            let me = federation::actors::ensure_instance_actor(state)
                .await
                .map_err(|e| anyhow::anyhow!("instance actor: {e}"))?;
            let (standing, events) = membership::join(state, &me, &portal_actor)
                .await
                .map_err(message)?;
            let done = match standing {
                membership::Standing::Member => format!("already a member of {portal}"),
                membership::Standing::Applied => {
                    format!("asked {portal} to join; its administrators decide")
                }
            };
            (events, done)
        }
        PortalCommand::Leave { portal } => {
            let portal_actor = federation::resolve::handle(&data, &portal, false)
                .await
                .map_err(|e| anyhow::anyhow!("{portal}: {e}"))?
                .ok_or_else(|| anyhow::anyhow!("{portal} is not a portal we know"))?;
            let me = federation::actors::ensure_instance_actor(state)
                .await
                .map_err(|e| anyhow::anyhow!("instance actor: {e}"))?;
            let events = membership::leave(state, &me, &portal_actor)
                .await
                .map_err(message)?;
            if events.is_empty() {
                anyhow::bail!("this instance is not a member of {portal} and has not applied");
            }
            (events, format!("left {portal}"))
        }
        PortalCommand::Approve { domain } => {
            let events = membership::approve(state, &domain)
                .await
                .map_err(message)?
                .ok_or_else(|| no_such_instance(state, &domain, "asked to join"))?;
            (events, format!("{domain} is now a member"))
        }
        PortalCommand::Suspend { domain } => {
            let events = membership::suspend(state, &domain)
                .await
                .map_err(message)?
                .ok_or_else(|| no_such_instance(state, &domain, "is a member or applied"))?;
            (events, format!("{domain} is suspended"))
        }
        PortalCommand::LiftSuspension { domain } => {
            if !membership::lift_suspension(state, &domain)
                .await
                .map_err(message)?
            {
                return Err(no_such_instance(state, &domain, "is suspended"));
            }
            (
                crate::domain::outbox::Outbox::none(),
                format!("{domain} is no longer suspended; it may apply again"),
            )
        }
    };
    federation::publish::publish(state, events).await;
    println!("{done}");
    Ok(())
}

fn no_such_instance(state: &AppState, domain: &str, what: &str) -> anyhow::Error {
    if state.config.instance.role != crate::config::InstanceRole::Portal {
        anyhow::anyhow!("this instance is not a portal (instance.role = \"portal\")")
    } else {
        anyhow::anyhow!("no instance at {domain} that {what}")
    }
}
