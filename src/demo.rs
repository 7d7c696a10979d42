//! `usercenter demo`: skeleton until the server and app land.
pub async fn run() -> anyhow::Result<()> {
    anyhow::bail!("the demo is not built yet")
}
