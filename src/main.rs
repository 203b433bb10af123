use std::process::ExitCode;

use a2a_server::cli::{self, Cli, Command};
use clap::Parser;

// jemalloc over glibc's malloc: about 16% fewer instructions per request (allocation is a
// large share of a short request's work) and 30% less memory per open SSE stream. Behind
// the `jemalloc` feature, on in the `dist` builds (Dockerfile, benches/run.sh): its C
// build is a large share of a cold `cargo build --release` on two cores.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // `serve` installs logging once its configuration (and `log_format`) is read.
    // Its drop flushes the spans of a command that traced (the client's calls).
    let _traces = (!matches!(cli.command, Command::Serve(_)))
        .then(|| a2a_server::telemetry::init(a2a_server::telemetry::format_from_env()));
    let result = match cli.command {
        Command::Serve(args) => cli::serve(args).await,
        Command::Migrate(args) => cli::migrate(args).await,
        Command::Health(args) => cli::health::run(args).await,
        Command::Bench(args) => a2a_server::bench::run(args).await,
        Command::Push(args) => cli::push::run(args).await,
        Command::Conformance(args) => a2a_server::conformance::run(args).await,
        Command::Schemas(args) => cli::schemas(args),
        Command::Client(cmd) => cli::client::run(cmd).await,
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::FAILURE
    })
}
