//! Temporary skeleton: replaced by the server implementation.
#[derive(clap::Args)]
pub struct ServeArgs {}
#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// skeleton
    Add,
}
pub async fn serve(_args: ServeArgs) -> anyhow::Result<()> {
    anyhow::bail!("the server is not built yet")
}
pub async fn user(_command: UserCommand) -> anyhow::Result<()> {
    anyhow::bail!("the server is not built yet")
}
