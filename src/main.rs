//! The command line: argument parsing, dispatch and exit codes. The work is done by the
//! library (`objgraph_doctest::{engine, backend, runner, report}`).
//!
//! Exit codes: 0 all passed, 1 an example failed (or a page is broken), 2 usage,
//! configuration or backend error.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;

use objgraph_doctest::backend::{Backend, BackendOptions, interpreter};
use objgraph_doctest::engine::update::{accept_actual, apply_edits};
use objgraph_doctest::engine::{FlagRegistry, FlagSet, Page};
use objgraph_doctest::report::style::{ColorChoice, Palette};
use objgraph_doctest::report::{self, OutputFormat};
use objgraph_doctest::runner::artifacts::graphviz_available;
use objgraph_doctest::runner::run::{Outcome, PageRun, RunEvent, RunOptions, Summary, run_pages};
use objgraph_doctest::runner::{self, Config, write::write_atomically};

/// Test the `>>>` examples of documentation pages (reST, text and Markdown) the way CPython's
/// doctest and objgraph's test suite do.
#[derive(Debug, Parser)]
#[command(
    version,
    about,
    max_term_width = 100,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Subcommand>,

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

    /// The Python interpreter (default: configuration, $VIRTUAL_ENV, ./.venv, python3).
    #[arg(long, value_name = "PATH")]
    python: Option<String>,

    /// Pages run at once (default: configuration, else the number of cores).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,

    /// Longest an example may run, in seconds (default: configuration, else 30).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,

    /// When to colour the report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Rewrite the expected output of failing examples with their actual output.
    #[arg(long)]
    update: bool,

    /// Where files that examples write are copied (default: .objgraph-doctest/artifacts).
    #[arg(long, value_name = "DIR")]
    artifacts_dir: Option<PathBuf>,

    /// Cap each page's interpreter at this much memory (address space), in MiB.
    #[arg(long, value_name = "MIB")]
    memory_limit: Option<u64>,

    /// Start a fresh interpreter for each page instead of forking a warm one.
    #[arg(long)]
    no_fork: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Subcommand {
    /// Serve the Language Server Protocol on stdin/stdout, for editors.
    Lsp,
}

/// Exit status: examples failed or pages are broken.
const EXIT_FAILED: u8 = 1;
/// Exit status: usage, configuration or backend error.
const EXIT_ERROR: u8 = 2;
/// Output kept per example, in characters.
const OUTPUT_CAP: usize = 8 * 1024 * 1024;
const DEFAULT_TIMEOUT: f64 = 30.0;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Signals end the run cleanly; nothing we start or write outlives it (backend/shutdown.rs).
    let _session = objgraph_doctest::backend::shutdown::install();
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
    if let Some(Subcommand::Lsp) = cli.command {
        objgraph_doctest::lsp::run_stdio()?;
        return Ok(0);
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let config = load_config(&cli, &cwd)?;
    let registry = config.flag_registry();
    let default_flags = default_flags(&cli, &config, &registry)?;
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
    let pages: Vec<Page> = files
        .iter()
        .map(|file| runner::read_page(file, &registry))
        .collect();

    let structure = runner::structure::structure_warnings(&pages, &config.root);
    if cli.collect_only {
        let output = match cli.format {
            OutputFormat::Json => report::collect::render_json(&pages, &registry, &structure),
            _ => report::collect::render_human(&pages, &registry, &structure),
        };
        write_stdout(&output)?;
        let broken = pages.iter().any(|page| !page.errors.is_empty());
        return Ok(if broken { EXIT_FAILED } else { 0 });
    }
    let structure = structure.iter().map(ToString::to_string).collect();
    run_and_report(
        &cli,
        &config,
        &registry,
        default_flags,
        pages,
        structure,
        &cwd,
    )
}

fn load_config(cli: &Cli, cwd: &Path) -> anyhow::Result<Config> {
    Ok(match &cli.config {
        Some(path) => Config::load(path)?.with_context(|| {
            format!(
                "{} has no [tool.objgraph-doctest] table; add one or point --config at an \
                 objgraph-doctest.toml",
                path.display()
            )
        })?,
        None => Config::discover(cwd)?,
    })
}

fn default_flags(cli: &Cli, config: &Config, registry: &FlagRegistry) -> anyhow::Result<FlagSet> {
    let mut flags = config
        .default_flags(registry)
        .map_err(|message| anyhow::anyhow!(message))?;
    for name in &cli.options {
        let flag = registry
            .parse_name(name)
            .map_err(|message| anyhow::anyhow!("-o {name}: {message}"))?;
        flags = flags.with(flag);
    }
    Ok(flags)
}

fn run_and_report(
    cli: &Cli,
    config: &Config,
    registry: &FlagRegistry,
    default_flags: FlagSet,
    pages: Vec<Page>,
    structure_warnings: Vec<String>,
    cwd: &Path,
) -> anyhow::Result<u8> {
    let started = Instant::now();
    let python = interpreter::resolve(
        cli.python.as_deref(),
        config.python.as_deref(),
        &config.root,
        cwd,
    )?;
    let explicit_preload = config.preload.is_some();
    let preload = config
        .preload
        .clone()
        .unwrap_or_else(|| vec!["objgraph".to_owned()]);
    let backend = Backend::start(BackendOptions {
        python: python.path.clone(),
        preload,
        fork: !cli.no_fork,
    })
    .with_context(|| {
        format!(
            "the Python backend ({} from {}) did not start",
            python.path.display(),
            python.origin
        )
    })?;

    let mut warnings = structure_warnings;
    if !graphviz_available() {
        warnings.push(
            "graphviz's `dot` is not on PATH: objgraph cannot render images, so examples that \
             expect \"Image generated as ...\" will fail (install graphviz)"
                .to_owned(),
        );
    }
    if explicit_preload {
        for (module, error) in &backend.info().preload_errors {
            warnings.push(format!(
                "preload module {module} could not be imported: {error}"
            ));
        }
    }

    let timeout = cli
        .timeout
        .or(config.timeout_seconds)
        .unwrap_or(DEFAULT_TIMEOUT);
    anyhow::ensure!(
        timeout.is_finite() && timeout > 0.0,
        "--timeout must be a positive number of seconds"
    );
    let jobs = cli
        .jobs
        .or(config.jobs)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    anyhow::ensure!(jobs > 0, "--jobs must be at least 1");
    let options = RunOptions {
        jobs,
        timeout: Duration::from_secs_f64(timeout),
        default_flags,
        output_cap: OUTPUT_CAP,
        memory_limit: cli
            .memory_limit
            .or(config.memory_limit_mib)
            .map(|mib| mib.saturating_mul(1024 * 1024)),
        setup_code: config.setup.clone(),
        artifacts_dir: Some(cli.artifacts_dir.clone().unwrap_or_else(|| {
            config.root.join(
                config
                    .artifacts_dir
                    .as_deref()
                    .unwrap_or(".objgraph-doctest/artifacts"),
            )
        })),
    };

    let palette = Palette::new(cli.color);
    let human = cli.format == OutputFormat::Human;
    if human {
        let mut top = String::new();
        for warning in &warnings {
            top.push_str(&report::human::render_warning(warning, &palette));
        }
        write_stdout(&top)?;
    }
    let page_count = pages.len();
    let mut finished: Vec<Option<PageRun>> = (0..page_count).map(|_| None).collect();
    let mut next_to_print = 0;
    let progress = Progress::new(human, pages.iter().map(|page| page.examples.len()).sum());
    let mut write_error = None;
    run_pages(pages, &backend, registry, &options, |event| match event {
        RunEvent::PageStarted { .. } => {}
        RunEvent::ExampleFinished { .. } => progress.tick(),
        RunEvent::PageFinished { index, run } => {
            finished[index] = Some(*run);
            // Pages are reported in path order, each as soon as those before it are done.
            while next_to_print < page_count {
                let Some(run) = &finished[next_to_print] else {
                    break;
                };
                if human && write_error.is_none() {
                    let text = report::human::render_page(run, registry, &palette);
                    if let Err(error) = progress.suspend(|| write_stdout(&text)) {
                        write_error = Some(error);
                    }
                }
                next_to_print += 1;
            }
        }
    });
    progress.finish();
    if let Some(error) = write_error {
        return Err(error);
    }
    let runs: Vec<PageRun> = finished.into_iter().flatten().collect();
    let mut summary = Summary::default();
    for run in &runs {
        summary.add(run);
    }
    let duration = started.elapsed();
    let output = match cli.format {
        OutputFormat::Human => format!("{}\n", report::human::summary_line(&summary)),
        OutputFormat::Json => report::json::render(&runs, &summary, &warnings, duration, registry),
        OutputFormat::Junit => report::junit::render(&runs, duration),
        OutputFormat::Github => report::github::render(&runs, &summary, &warnings),
    };
    write_stdout(&output)?;
    if cli.update {
        let updated = update_pages(&runs, registry)?;
        eprintln!("objgraph-doctest: updated {}", updated);
    }
    if let Err(error) = backend.health() {
        eprintln!("objgraph-doctest: error: {error}; the pages after that were not run");
        return Ok(EXIT_ERROR);
    }
    Ok(if summary.all_passed() { 0 } else { EXIT_FAILED })
}

/// Rewrites the expected output of failing examples, page by page, atomically.
fn update_pages(runs: &[PageRun], registry: &FlagRegistry) -> anyhow::Result<String> {
    let mut examples = 0;
    let mut pages = 0;
    for run in runs {
        let page = &run.page;
        let edits: Vec<_> = page
            .examples
            .iter()
            .zip(&run.examples)
            .filter(|(_, result)| result.outcome == Outcome::Failed)
            .filter_map(|(example, result)| {
                accept_actual(page, example, result.actual()?, result.flags, registry)
            })
            .collect();
        if edits.is_empty() {
            continue;
        }
        let text = apply_edits(&page.text, &edits);
        let bom = std::fs::read(&page.path)
            .map(|bytes| bytes.starts_with(b"\xef\xbb\xbf"))
            .unwrap_or(false);
        let mut bytes = if bom {
            b"\xef\xbb\xbf".to_vec()
        } else {
            Vec::new()
        };
        bytes.extend_from_slice(text.as_bytes());
        write_atomically(Path::new(&page.path), &bytes)
            .with_context(|| format!("cannot update {}", page.path))?;
        examples += edits.len();
        pages += 1;
    }
    Ok(format!(
        "{examples} example{} in {pages} page{}",
        if examples == 1 { "" } else { "s" },
        if pages == 1 { "" } else { "s" }
    ))
}

/// A progress bar on stderr for human runs on a terminal, shown once a run takes a second.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(human: bool, examples: usize) -> Progress {
        if !human || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(examples as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} examples")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        // Hidden until the run has lasted a second: short runs print no bar at all.
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        Progress(Some(bar))
    }

    fn tick(&self) {
        if let Some(bar) = &self.0 {
            if bar.elapsed() >= Duration::from_secs(1) && bar.is_hidden() {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.inc(1);
        }
    }

    fn suspend<T>(&self, work: impl FnOnce() -> T) -> T {
        match &self.0 {
            Some(bar) => bar.suspend(work),
            None => work(),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Writes to stdout; a reader that went away (`| head`) ends the run quietly.
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
