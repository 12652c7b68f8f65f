//! The command line: argument parsing, dispatch and exit codes. Everything else lives in the
//! library (`objgraph_doctest::{engine, runner, report}`).
//!
//! Exit codes: 0 all good, 1 examples failed or pages have errors, 2 usage, configuration or
//! backend error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use objgraph_doctest::report::{self, OutputFormat};
use objgraph_doctest::runner::{self, Config};

/// Test the `>>>` examples of documentation pages (reST, text and Markdown) the way CPython's
/// doctest and objgraph's test suite do.
#[derive(Debug, Parser)]
#[command(version, about, max_term_width = 100)]
struct Cli {
    /// Pages or directories to test (directories are searched for .txt, .rst and .md files).
    /// Default: the configured `paths`, else docs/.
    paths: Vec<PathBuf>,

    /// List the examples and parse errors of each page without running anything.
    #[arg(long)]
    collect_only: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,

    /// Set an option flag for every example (repeatable), like `python -m doctest -o FLAG`.
    #[arg(short = 'o', long = "option", value_name = "FLAG")]
    options: Vec<String>,

    /// Read configuration from this file instead of looking for objgraph-doctest.toml or
    /// pyproject.toml in the current directory and its parents.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Exit status: examples failed or pages are broken.
const EXIT_FAILED: u8 = 1;
/// Exit status: usage, configuration or backend error.
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            if is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            eprintln!("objgraph-doctest: error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let config = match &cli.config {
        Some(path) => Config::load(path)?.with_context(|| {
            format!(
                "{} has no [tool.objgraph-doctest] table; add one or point --config at an \
                 objgraph-doctest.toml",
                path.display()
            )
        })?,
        None => Config::discover(&cwd)?,
    };
    let registry = config.flag_registry();
    for name in &cli.options {
        registry
            .parse_name(name)
            .map_err(|message| anyhow::anyhow!("-o {name}: {message}"))?;
    }
    let paths = if !cli.paths.is_empty() {
        cli.paths.clone()
    } else if !config.paths.is_empty() {
        config
            .paths
            .iter()
            .map(|path| config.root.join(path))
            .collect()
    } else {
        vec![PathBuf::from("docs")]
    };
    let files = runner::discover(&paths, &config.exclude, &config.root)?;
    let pages: Vec<_> = files
        .iter()
        .map(|file| runner::read_page(file, &registry))
        .collect();

    if !cli.collect_only {
        anyhow::bail!(
            "running examples is not built yet; use --collect-only to list them (the runner \
             is tracked as the next milestone)"
        );
    }
    let output = match cli.format {
        OutputFormat::Json => report::collect::render_json(&pages, &registry),
        OutputFormat::Human => report::collect::render_human(&pages, &registry),
    };
    write_stdout(&output)?;
    let broken = pages.iter().any(|page| !page.errors.is_empty());
    Ok(if broken { EXIT_FAILED } else { 0 })
}

/// Writes to stdout; a reader that went away (`| head`) is not an error worth a panic.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|error| error.kind() == std::io::ErrorKind::BrokenPipe)
}
