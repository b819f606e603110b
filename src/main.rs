use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = staffroom::cli::Cli::parse();
    // Unoptimised builds keep large async state machines (the inbox and
    // publishing paths) on the worker stacks; 2 MiB is not always enough.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 * 1024 * 1024)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(staffroom::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
