//! The command line: argument parsing, dispatch and exit codes. The work is done by the
//! library (`objgraph_doctest::{engine, backend, runner, report}`).
//!
//! Exit codes: 0 all passed (with `--update`: every failure was accepted and the pages now
//! pass), 1 an example failed (or a page is broken, or `--update` left something as it was),
//! 2 usage, configuration or backend error.

use std::io::{IsTerminal, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;

use objgraph_doctest::backend::{Backend, BackendOptions, interpreter};
use objgraph_doctest::engine::{FlagRegistry, Page};
use objgraph_doctest::report::style::{ColorChoice, Palette};
use objgraph_doctest::report::{self, OutputFormat};
use objgraph_doctest::runner::figures::{self, FigureOptions, FigureVerdict};
use objgraph_doctest::runner::options::{self, Overrides, RunSettings};
use objgraph_doctest::runner::run::{PageRun, RunEvent, Summary, run_pages};
use objgraph_doctest::runner::shard::{self, Shard};
use objgraph_doctest::runner::{self, Config, ReadFile};

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

    /// The Python interpreter (default: configuration, $VIRTUAL_ENV unless it is this tool's
    /// own environment, ./.venv, the virtual environment this tool is installed in, python3).
    #[arg(long, value_name = "PATH")]
    python: Option<String>,

    /// Pages run at once (default: configuration, else the number of cores; never more than
    /// the number of pages).
    #[arg(short, long, value_name = "N", value_parser = parse_jobs)]
    jobs: Option<usize>,

    /// Longest an example may run, in seconds, at most a day (default: configuration, else 30).
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    timeout: Option<f64>,

    /// When to colour the report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Rewrite the expected output of failing examples with their actual output (a page
    /// changed meanwhile, or output it cannot hold, is left as it was, with a message).
    #[arg(long, conflicts_with = "collect_only")]
    update: bool,

    /// After the run, write every image an example drew over the figure or image of its page
    /// with the same file name (`.. figure::`, `.. image::`, Markdown images), atomically;
    /// report which changed, which were unchanged and which no example drew.
    #[arg(long, conflicts_with = "collect_only")]
    update_figures: bool,

    /// Where files that examples write are copied (default: .objgraph-doctest/artifacts).
    #[arg(long, value_name = "DIR")]
    artifacts_dir: Option<PathBuf>,

    /// Cap each page's interpreter at this much memory (address space), in MiB (at least 64).
    #[arg(long, value_name = "MIB", value_parser = parse_memory_limit)]
    memory_limit: Option<u64>,

    /// Start a fresh interpreter for each page instead of forking a warm one.
    #[arg(long)]
    no_fork: bool,

    /// Also append a Markdown summary of the run (counts, every problem with a link to its
    /// line, the diffs) to FILE, e.g. "$GITHUB_STEP_SUMMARY".
    #[arg(long, value_name = "FILE", conflicts_with = "collect_only")]
    summary_markdown: Option<PathBuf>,

    /// Also write a self-contained HTML report to FILE (summary, every page's examples with
    /// their output and diffs, the graphs they drew as images), e.g. for a CI artifact.
    #[arg(long, value_name = "FILE", conflicts_with = "collect_only")]
    html: Option<PathBuf>,

    /// Run only shard K of N (1 <= K <= N): a deterministic share of the pages, every page in
    /// exactly one shard, for CI matrices; combine the shards' JSON reports with `merge`.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,

    /// Balance the shards by the page durations of this previous JSON report (longest-first
    /// packing) instead of by page size.
    #[arg(long, value_name = "FILE", requires = "shard")]
    durations: Option<PathBuf>,
    /// Print the settings PAGE runs with (profile, reading, default flags, timeout, Python,
    /// setup, sys.path, preload, ...) and where each came from; run no example (Sphinx's
    /// conf.py is executed, as for a run, to read its settings).
    #[arg(long, value_name = "PAGE", conflicts_with_all = ["collect_only", "update"])]
    show_config: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum Subcommand {
    /// Serve the Language Server Protocol on stdin/stdout, for editors.
    Lsp,
    /// Combine the JSON reports of a sharded run (`--shard K/N --format json`) into the report
    /// of the whole run; exit status as for a run.
    Merge {
        /// The shards' JSON reports.
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,

        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
        format: OutputFormat,

        /// When to colour the report.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,

        /// Also write the HTML report of the whole run to FILE (images the shards' machines
        /// kept are shown when their paths are readable here).
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Also append the Markdown summary of the whole run (as a run's `--summary-markdown`
        /// writes it) to FILE, e.g. "$GITHUB_STEP_SUMMARY".
        #[arg(long, value_name = "FILE")]
        summary_markdown: Option<PathBuf>,
    },
}

/// Exit status: examples failed or pages are broken.
const EXIT_FAILED: u8 = 1;
/// Exit status: usage, configuration or backend error.
const EXIT_ERROR: u8 = 2;

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

/// `--timeout`: a number of seconds, more than 0 and at most a day.
fn parse_timeout(value: &str) -> Result<f64, String> {
    let seconds: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not a number of seconds; give e.g. --timeout 30"))?;
    options::validate_timeout(seconds)
        .map_err(|message| format!("{message}, e.g. --timeout 30"))?;
    Ok(seconds)
}

/// `--jobs`: at least one (more than there are pages is capped later, at the page count).
fn parse_jobs(value: &str) -> Result<usize, String> {
    match value.trim().parse::<usize>() {
        Ok(0) => Err("0 jobs would run nothing; give at least 1".to_owned()),
        Ok(jobs) => Ok(jobs),
        // Past usize::MAX is still a request for "as many as possible".
        Err(_) if !value.trim().is_empty() && value.trim().bytes().all(|b| b.is_ascii_digit()) => {
            Ok(usize::MAX)
        }
        Err(_) => Err(format!(
            "{value:?} is not a whole number; give e.g. --jobs 4"
        )),
    }
}

/// `--memory-limit`: MiB, at least what Python needs to start.
fn parse_memory_limit(value: &str) -> Result<u64, String> {
    let mib: u64 = value.trim().parse().map_err(|_| {
        format!("{value:?} is not a whole number of MiB; give e.g. --memory-limit 2048")
    })?;
    let min = options::MIN_MEMORY_LIMIT_MIB;
    if mib < min {
        return Err(format!(
            "{mib} MiB is too small for Python to start; give at least {min}"
        ));
    }
    Ok(mib)
}

fn run(mut cli: Cli) -> anyhow::Result<u8> {
    match &cli.command {
        Some(Subcommand::Lsp) => {
            // 1 for an `exit` without a `shutdown` before it, as the LSP specification says.
            return objgraph_doctest::lsp::run_stdio();
        }
        Some(Subcommand::Merge {
            reports,
            format,
            color,
            html,
            summary_markdown,
        }) => {
            return merge(
                reports,
                *format,
                *color,
                html.as_deref(),
                summary_markdown.as_deref(),
            );
        }
        None => {}
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let config = load_config(&cli, &cwd)?;
    let registry = config.flag_registry();
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
    if let Some(page) = &cli.show_config {
        return show_config(&cli, &config, &registry, page, &paths, &cwd);
    }
    let discovery = runner::discover(&paths, &config.exclude, &config.root)?;
    let mut warnings = config.warnings.clone();
    warnings.extend(discovery.warnings.iter().cloned());
    remove_stale_temporaries(&discovery.pages);
    // One thread per page at most: `-j 1000000` must not start a million threads.
    let most_jobs = discovery.pages.len().max(1);
    cli.jobs = cli.jobs.map(|jobs| jobs.min(most_jobs));
    let config = Config {
        jobs: config.jobs.map(|jobs| jobs.min(most_jobs)),
        ..config
    };
    // Options are built (and checked) before anything runs: a bad value is reported at once.
    let overrides = overrides(&cli, &paths, &cwd);
    let settings = RunSettings::build(&config, &registry, &overrides)?;
    allow_sphinx_conf(&cli, &config, &settings, &cwd);
    warnings.extend(settings.run.profiles.warnings.iter().cloned());
    let load = || -> anyhow::Result<LoadedPages> {
        let (pages, sources): (Vec<Page>, Vec<Option<ReadFile>>) = discovery
            .pages
            .iter()
            .map(|file| runner::load_page(file, &registry, &settings.run.profiles))
            .unzip();
        // Warnings are found over every page, so that each shard reports them all (merge
        // keeps one of each) and a sharded run warns exactly as an unsharded one.
        let structure = runner::structure::structure_warnings(&pages, &config.root);
        let (pages, sources) = match cli.shard {
            Some(shard) => select_shard(shard, cli.durations.as_deref(), pages, sources)?,
            None => (pages, sources),
        };
        Ok((pages, sources, structure))
    };
    if cli.collect_only {
        let (pages, _, structure) = load()?;
        for warning in &warnings {
            eprintln!("objgraph-doctest: warning: {warning}");
        }
        let output = match cli.format {
            OutputFormat::Json => report::collect::render_json(&pages, &registry, &structure),
            _ => report::collect::render_human(&pages, &registry, &structure),
        };
        write_stdout(&output)?;
        let broken = pages.iter().any(|page| !page.errors.is_empty());
        return Ok(if broken { EXIT_FAILED } else { 0 });
    }
    // The interpreter starts (and imports what it preloads) while the pages are read and
    // parsed, and while a Sphinx conf.py runs in an interpreter of its own: both cost tens
    // of milliseconds, and one does not need the other. It starts on this thread, which
    // outlives it (a child dies with the thread that started it: PR_SET_PDEATHSIG).
    let (backend, loaded) = std::thread::scope(|scope| {
        let loading = scope.spawn(load);
        let backend = start_backend(&cli, &config, &cwd, &settings);
        (backend, loading.join())
    });
    let (pages, sources, structure) = match loaded {
        Ok(loaded) => loaded?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    warnings.extend(structure.iter().map(ToString::to_string));
    run_and_report(
        &cli,
        &config,
        &registry,
        settings,
        (pages, sources, warnings),
        backend?,
        &cwd,
    )
}

/// The pages to run (and what was read for them), with the warnings about their structure.
type LoadedPages = (
    Vec<Page>,
    Vec<Option<ReadFile>>,
    Vec<runner::structure::StructureWarning>,
);

/// The interpreter that runs the examples, started.
fn start_backend(
    cli: &Cli,
    config: &Config,
    cwd: &Path,
    settings: &RunSettings,
) -> anyhow::Result<(interpreter::Candidate, Backend)> {
    let python = interpreter::resolve(
        cli.python.as_deref(),
        config.python.as_deref(),
        &config.root,
        cwd,
    )?;
    let backend = Backend::start(BackendOptions {
        python: python.path.clone(),
        preload: settings.preload.clone(),
        fork: !cli.no_fork,
        // `--config FILE` with a bare file name has an empty root: the current directory.
        directory: Some(cwd.join(&config.root)),
    })
    .with_context(|| {
        format!(
            "the Python backend ({} from {}) did not start",
            python.path.display(),
            python.origin
        )
    })?;
    Ok((python, backend))
}

/// The pages of `shard` (and what was read for them), in discovery order: by page size
/// (examples + 1), or by the durations in a previous report (runner/shard.rs).
fn select_shard(
    shard: Shard,
    durations: Option<&Path>,
    pages: Vec<Page>,
    sources: Vec<Option<ReadFile>>,
) -> anyhow::Result<(Vec<Page>, Vec<Option<ReadFile>>)> {
    let assignment = match durations {
        Some(file) => {
            let known = shard::read_durations(file)?;
            let durations: Vec<Option<f64>> = pages
                .iter()
                .map(|page| known.get(&page.path).copied())
                .collect();
            shard::by_durations_packing(&durations, shard.count)
        }
        None => {
            let weights: Vec<u64> = pages
                .iter()
                .map(|page| page.examples.len() as u64 + 1)
                .collect();
            shard::by_weight_chunks(&weights, shard.count)
        }
    };
    Ok(pages
        .into_iter()
        .zip(sources)
        .zip(assignment)
        .filter(|&(_, assigned)| assigned + 1 == shard.index)
        .map(|(page_and_source, _)| page_and_source)
        .unzip())
}

/// `merge`: the shards' reports as one, in `format` (and as the Markdown summary appended to
/// `summary_markdown`, and as HTML to `html`); 0 when everything passed, 1 when something failed, 2 (an error) when
/// a report cannot be used.
fn merge(
    reports: &[PathBuf],
    format: OutputFormat,
    color: ColorChoice,
    html: Option<&Path>,
    summary_markdown: Option<&Path>,
) -> anyhow::Result<u8> {
    if let Some(file) = html {
        check_html_target(file)?;
    }
    let merged = report::merge::merge_files(reports)?;
    let palette = Palette::new(color);
    let registry = FlagRegistry::new();
    let output = match format {
        OutputFormat::Human => {
            let mut out = report::human::render_header(merged.configfile.as_deref());
            if let Some((path, origin)) = &merged.python {
                out.push_str(&report::human::render_python_header(path, origin));
            }
            for warning in &merged.warnings {
                out.push_str(&report::human::render_warning(warning, &palette));
            }
            for run in &merged.runs {
                out.push_str(&report::human::render_page(run, &registry, &palette));
            }
            out.push_str(&report::human::summary_line(&merged.summary));
            out.push('\n');
            out
        }
        OutputFormat::Json => report::merge::render_json(&merged),
        OutputFormat::Junit => report::junit::render(&merged.runs, merged.duration),
        OutputFormat::Github => report::github::render(
            &merged.runs,
            &merged.summary,
            &merged.warnings,
            &merged.figures,
        ),
    };
    write_stdout(&output)?;
    if let Some(file) = html {
        let (path, origin) = merged.python.clone().unwrap_or_default();
        let facts = report::json::RunFacts {
            config_file: merged.configfile.as_deref(),
            duration: merged.duration,
            shard: None,
            python: report::json::PythonReport { path, origin },
            figures: merged.figures,
        };
        let page = report::html::render(
            &merged.runs,
            &merged.summary,
            &merged.warnings,
            &facts,
            &registry,
        );
        write_html(file, &page)?;
    }
    if let Some(file) = summary_markdown {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let links = github_links(&cwd);
        let markdown = report::summary::render(
            &merged.runs,
            &merged.summary,
            &merged.figures,
            links.as_ref(),
        );
        append_to(file, &markdown)?;
    }
    // As the shards' run would have said it, once, of all their figures.
    let figures_failed = report_figures(&merged.figures);
    Ok(if merged.summary.all_passed() && !figures_failed {
        0
    } else {
        EXIT_FAILED
    })
}

/// The CLI runs the project's code anyway: Sphinx's conf.py may be executed (with the
/// interpreter the run uses) to read its doctest settings as Sphinx does.
fn allow_sphinx_conf(cli: &Cli, config: &Config, settings: &RunSettings, cwd: &Path) {
    if let Ok(python) = interpreter::resolve(
        cli.python.as_deref(),
        config.python.as_deref(),
        &config.root,
        cwd,
    ) {
        settings.run.profiles.execute_sphinx_conf_with(&python.path);
    }
}

/// `--show-config PAGE`: the page's effective settings as a run over `paths` would have
/// them, and where each came from.
fn show_config(
    cli: &Cli,
    config: &Config,
    registry: &FlagRegistry,
    page: &Path,
    paths: &[PathBuf],
    cwd: &Path,
) -> anyhow::Result<u8> {
    let overrides = overrides(cli, paths, cwd);
    let settings = RunSettings::build(config, registry, &overrides)?;
    allow_sphinx_conf(cli, config, &settings, cwd);
    let profile = settings.run.profiles.for_page(page);
    let python = interpreter::resolve(
        cli.python.as_deref(),
        config.python.as_deref(),
        &config.root,
        cwd,
    );
    let input = report::show_config::ShowConfigInput {
        page,
        profile: &profile,
        profiles: &settings.run.profiles,
        config,
        overrides: &overrides,
        settings: &settings,
        registry,
        python: python.as_ref().map_err(ToString::to_string),
    };
    let mut text = report::show_config::render(
        &runner::display_path(page),
        &report::show_config::effective_settings(&input),
    );
    for warning in config
        .warnings
        .iter()
        .chain(&settings.run.profiles.warnings)
    {
        text.push_str(&format!("warning: {warning}\n"));
    }
    write_stdout(&text)?;
    Ok(0)
}

/// Removes what a killed `--update` left beside these pages (or their symlinks' targets).
fn remove_stale_temporaries(pages: &[runner::PageFile]) {
    let directories: std::collections::BTreeSet<PathBuf> = pages
        .iter()
        .filter_map(|page| {
            std::fs::canonicalize(&page.path)
                .ok()?
                .parent()
                .map(Path::to_path_buf)
        })
        .collect();
    for directory in directories {
        runner::write::remove_stale_temporaries(&directory);
    }
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

/// What the command line sets over the configuration.
fn overrides(cli: &Cli, paths: &[PathBuf], cwd: &Path) -> Overrides {
    Overrides {
        timeout_seconds: cli.timeout,
        jobs: cli.jobs,
        memory_limit_mib: cli.memory_limit,
        artifacts_dir: cli.artifacts_dir.clone(),
        flags: cli.options.clone(),
        run: Some((paths.to_vec(), cwd.to_path_buf())),
    }
}

fn run_and_report(
    cli: &Cli,
    config: &Config,
    registry: &FlagRegistry,
    settings: RunSettings,
    (pages, sources, structure_warnings): (Vec<Page>, Vec<Option<ReadFile>>, Vec<String>),
    (python, backend): (interpreter::Candidate, Backend),
    cwd: &Path,
) -> anyhow::Result<u8> {
    let started = Instant::now();
    if let Some(file) = &cli.html {
        // Said before the run, not after it.
        check_html_target(file)?;
    }
    let mut warnings = structure_warnings;
    warnings.extend(settings.warnings.iter().cloned());
    warnings.extend(settings.preload_warnings(backend.info()));
    let options = settings.run;
    // pytest-doctestplus compares FLOAT_CMP's numbers with numpy.isclose where numpy is,
    // within the tolerances of the project's pytest configuration.
    let registry = options
        .profiles
        .judging_registry(registry, backend.info().numpy);
    let registry = &registry;

    let palette = Palette::new(cli.color);
    let human = cli.format == OutputFormat::Human;
    let config_file = config.source.as_deref().map(runner::display_path);
    if human {
        let mut top = report::human::render_header(config_file.as_deref());
        top.push_str(&report::human::render_python_header(
            &python.path.display().to_string(),
            python.origin,
        ));

        top.push_str(&report::human::render_profiles(&pages, &options.profiles));
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
    let figure_options = FigureOptions {
        project_root: config.root.clone(),
        update: cli.update_figures,
        stale: config.stale_figures.unwrap_or_default(),
    };
    // Figures are checked (and written) once the page has run, before it is shown, on the
    // thread that ran it.
    let check_figures = |run: &mut PageRun| run.figures = figures::check_page(run, &figure_options);
    run_pages(
        pages,
        &backend,
        registry,
        &options,
        progress.shown(),
        &check_figures,
        |event| match event {
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
        },
    );
    progress.finish();
    if let Some(error) = write_error {
        return Err(error);
    }
    // Each run keeps what was read for its page (a page that never finished has neither).
    let (runs, sources): (Vec<PageRun>, Vec<Option<ReadFile>>) = finished
        .into_iter()
        .zip(sources)
        .filter_map(|(run, source)| Some((run?, source)))
        .unzip();
    let mut summary = Summary::default();
    for run in &runs {
        summary.add(run);
    }
    let duration = started.elapsed();
    let verdict = FigureVerdict::of(&runs, figure_options.stale, figure_options.update);
    let facts = report::json::RunFacts {
        config_file: config_file.as_deref(),
        duration,
        shard: cli.shard,
        python: report::json::PythonReport::new(&python.path, python.origin),
        figures: verdict,
    };
    let output = match cli.format {
        OutputFormat::Human => format!("{}\n", report::human::summary_line(&summary)),
        OutputFormat::Json => report::json::render(
            &runs,
            &summary,
            &warnings,
            &facts,
            registry,
            &options.profiles,
        ),
        OutputFormat::Junit => report::junit::render(&runs, duration),
        OutputFormat::Github => report::github::render(&runs, &summary, &warnings, &verdict),
    };
    write_stdout(&output)?;
    if let Some(file) = &cli.summary_markdown {
        let links = github_links(cwd);
        let markdown = report::summary::render(&runs, &summary, &verdict, links.as_ref());
        append_to(file, &markdown)?;
    }
    if let Some(file) = &cli.html {
        let html = report::html::render(&runs, &summary, &warnings, &facts, registry);
        write_html(file, &html)?;
    }
    let figures_failed = report_figures(&verdict);
    if cli.update && !summary.all_passed() {
        let update = runner::update::update_pages(&runs, &sources, registry);
        for problem in &update.problems {
            eprintln!("objgraph-doctest: {problem}");
        }
        let outcome = if update.complete {
            "; the pages now pass"
        } else {
            "; some failures remain (see above and the report)"
        };
        eprintln!("objgraph-doctest: {}{outcome}", update.describe());
        return Ok(if update.complete { 0 } else { EXIT_FAILED });
    }
    if let Err(error) = backend.health() {
        eprintln!("objgraph-doctest: error: {error}; the pages after that were not run");
        return Ok(EXIT_ERROR);
    }
    Ok(if summary.all_passed() && !figures_failed {
        0
    } else {
        EXIT_FAILED
    })
}

/// The closing line about figures (on stderr, whatever the format); true when they fail the
/// run: stale ones with `stale-figures = "error"`, ones `--update-figures` could not write.
fn report_figures(verdict: &FigureVerdict) -> bool {
    if let Some(line) = verdict.closing_line() {
        eprintln!("objgraph-doctest: {line}");
    }
    verdict.fails()
}

/// Links to the pages' lines on GitHub, when run by GitHub Actions (its `GITHUB_*`
/// variables name the server, repository, commit and checkout).
fn github_links(cwd: &Path) -> Option<report::summary::Links> {
    let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let server = variable("GITHUB_SERVER_URL")?;
    let repository = variable("GITHUB_REPOSITORY")?;
    let sha = variable("GITHUB_SHA")?;
    let workspace = PathBuf::from(variable("GITHUB_WORKSPACE")?);
    let workspace = std::fs::canonicalize(&workspace).unwrap_or(workspace);
    let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let inside = cwd.strip_prefix(&workspace).ok()?;
    let prefix: String = inside
        .components()
        .map(|part| format!("{}/", part.as_os_str().to_string_lossy()))
        .collect();
    Some(report::summary::Links {
        blob: format!("{}/{repository}/blob/{sha}", server.trim_end_matches('/')),
        prefix,
        workspace: workspace.to_string_lossy().trim_end_matches('/').to_owned(),
    })
}

/// Appends to a file (GitHub's summary file collects every step's text), creating it.
fn append_to(file: &Path, text: &str) -> anyhow::Result<()> {
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| {
            format!(
                "cannot open {} for --summary-markdown; give a file in a directory you can write",
                file.display()
            )
        })?;
    out.write_all(text.as_bytes())
        .with_context(|| format!("cannot write the summary to {}", file.display()))
}

/// The folder `--html FILE` is written in.
fn html_directory(file: &Path) -> &Path {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// `--html FILE` names a file in an existing folder, and not a folder itself.
fn check_html_target(file: &Path) -> anyhow::Result<()> {
    let directory = html_directory(file);
    if !directory.is_dir() {
        anyhow::bail!(
            "cannot write the HTML report to {}: {} is not a directory; create it or give \
             --html another path",
            file.display(),
            directory.display()
        );
    }
    if file.is_dir() {
        anyhow::bail!(
            "cannot write the HTML report to {}: it is a directory; give --html a file name, \
             e.g. {}",
            file.display(),
            file.join("report.html").display()
        );
    }
    Ok(())
}

/// Writes the HTML report whole (a temporary file renamed over FILE), so that a browser or
/// an artifact upload never reads half of it. A symlink FILE keeps pointing where it did:
/// its target is written.
fn write_html(file: &Path, html: &str) -> anyhow::Result<()> {
    let context = || {
        format!(
            "cannot write the HTML report to {}; give --html a file in a directory you can write",
            file.display()
        )
    };
    let is_link = std::fs::symlink_metadata(file).is_ok_and(|metadata| metadata.is_symlink());
    let target = match is_link {
        // A link to a report not written yet names it all the same.
        true => std::fs::canonicalize(file)
            .or_else(|_| std::fs::read_link(file).map(|to| html_directory(file).join(to)))
            .unwrap_or_else(|_| file.to_path_buf()),
        false => file.to_path_buf(),
    };
    let mut temporary =
        tempfile::NamedTempFile::new_in(html_directory(&target)).with_context(context)?;
    temporary.write_all(html.as_bytes()).with_context(context)?;
    // As a file the shell would create (`> report.html`): the report holds what examples
    // printed, and a umask of 077 says that is nobody else's to read.
    std::fs::set_permissions(
        temporary.path(),
        std::fs::Permissions::from_mode(0o666 & !current_umask()),
    )
    .with_context(context)?;
    temporary
        .persist(&target)
        .map_err(|error| error.error)
        .with_context(context)?;
    Ok(())
}

/// This process's umask, read from /proc (setting it to read it would race with threads
/// creating files); 022 where /proc does not say.
fn current_umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Umask:"))
                .and_then(|value| u32::from_str_radix(value.trim(), 8).ok())
        })
        .unwrap_or(0o022)
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

    /// Whether there is a bar (a terminal, the human report): it counts examples.
    fn shown(&self) -> bool {
        self.0.is_some()
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

/// Set once stdout's reader has gone (`| head`): nothing more is written there.
static STDOUT_GONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes to stdout. A reader that went away (`| head`) ends the printing, not the run:
/// `--update` still writes the pages, the other reports are still written, and the exit
/// status still says whether everything passed (under `set -o pipefail` a failing run
/// must not look like a passing one because its reader stopped early).
fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::sync::atomic::Ordering;
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_GONE.store(true, Ordering::Relaxed);
            Ok(())
        }
        result => Ok(result?),
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|error| error.kind() == std::io::ErrorKind::BrokenPipe)
}
